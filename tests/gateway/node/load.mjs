// Load through the gateway: N streamed /v1/completions requests (token-id prompts, the
// workload of `gossamer loadgen --token-prompts`) at concurrency C. Every SSE stream must be
// well formed (each event JSON, the last `[DONE]`); /metrics is scraped during the load and
// must agree with the counts at the end. Prints (and with --json writes) TTFT, throughput
// and end-to-end latency.
//   node load.mjs --base http://127.0.0.1:8000 [-n 500] [-c 32] [--prompt-len 32] [--max-tokens 32]
//                 [--vocab 4096] [--json out.json]
// As a module: runLoad(options) -> report (tests/gateway/node/load.test.mjs).
import fs from 'node:fs';
import { metric } from './cluster.mjs';

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99),
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), n: s.length };
}

// Splits an SSE body into events; false when an event is not `data: <json>` or the stream
// does not end with `data: [DONE]`.
export function checkStream(body) {
  const events = body.split('\n\n').filter((e) => e.length > 0 && !e.startsWith(':'));
  if (events.length === 0 || events[events.length - 1] !== 'data: [DONE]') return { ok: false, why: 'no [DONE] at the end' };
  const chunks = [];
  for (const e of events.slice(0, -1)) {
    if (!e.startsWith('data: ')) return { ok: false, why: `not a data event: ${e.slice(0, 80)}` };
    try { chunks.push(JSON.parse(e.slice(6))); } catch { return { ok: false, why: `not JSON: ${e.slice(0, 80)}` }; }
  }
  return { ok: true, chunks };
}

async function scrape(base) { return (await fetch(`${base}/metrics`)).text(); }

export async function runLoad({ base, n = 500, c = 32, promptLen = 32, maxTokens = 32, vocab = 4096, headers = {} }) {
  const before = await scrape(base);
  let seed = 1;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
  const prompts = Array.from({ length: n }, () => Array.from({ length: promptLen }, () => random() % vocab));
  const results = [];
  const scrapes = [];
  let next = 0, done = false;
  // Warm-up outside the clock, as loadgen connects before it starts timing: the HTTP client
  // loads and opens its c connections.
  await Promise.all(Array.from({ length: c }, () => fetch(`${base}/health`).then((r) => r.text())));
  const t0 = performance.now();
  const scraper = (async () => {
    while (!done) {
      scrapes.push(await scrape(base));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const sent = performance.now();
      let first = -1;
      const res = await fetch(`${base}/v1/completions`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ prompt: prompts[i], max_tokens: maxTokens, temperature: 0, stream: true,
          stream_options: { include_usage: true } }),
      });
      let body = '';
      const decoder = new TextDecoder();
      for await (const part of res.body) {
        const text = decoder.decode(part, { stream: true });
        if (first < 0 && text.includes('"text":"')) first = performance.now();
        body += text;
      }
      const end = performance.now();
      const check = res.status === 200 ? checkStream(body) : { ok: false, why: `status ${res.status}` };
      const usage = check.ok ? check.chunks.find((ch) => ch.usage)?.usage : undefined;
      results.push({ i, ok: check.ok, why: check.why, ttft_ms: first >= 0 ? first - sent : NaN, e2e_ms: end - sent,
        tokens: usage?.completion_tokens ?? 0 });
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  const seconds = (performance.now() - t0) / 1000;
  done = true;
  await scraper;
  const after = await scrape(base);
  const ok = results.filter((r) => r.ok);
  const tokens = ok.reduce((a, r) => a + r.tokens, 0);
  const delta = (name) => (metric(after, name) ?? 0) - (metric(before, name) ?? 0);
  return {
    requests: n, concurrency: c, prompt_len: promptLen, max_tokens: maxTokens,
    ok: ok.length, malformed: results.filter((r) => !r.ok).map((r) => ({ i: r.i, why: r.why })).slice(0, 5),
    duration_s: seconds, requests_per_s: ok.length / seconds, output_tokens_per_s: tokens / seconds,
    output_tokens: tokens,
    ttft_ms: summary(ok.map((r) => r.ttft_ms).filter((x) => !Number.isNaN(x))),
    e2e_ms: summary(ok.map((r) => r.e2e_ms)),
    metrics: {
      success_delta: delta('gossamer:requests_total{outcome="success"}'),
      generation_tokens_delta: delta('gossamer:generation_tokens_total'),
      ttft_count_delta: delta('gossamer:time_to_first_token_seconds_count'),
      scrapes: scrapes.length,
      max_running_seen: Math.max(0, ...scrapes.map((p) => metric(p, 'gossamer:num_requests_running') ?? 0)),
      in_flight_end: metric(after, 'gossamer:gateway_requests_in_flight'),
    },
  };
}

if (process.argv[1] && process.argv[1].endsWith('load.mjs')) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const k = args.indexOf(name); return k >= 0 ? args[k + 1] : dflt; };
  const report = await runLoad({ base: opt('--base', 'http://127.0.0.1:8000'), n: Number(opt('-n', 500)),
    c: Number(opt('-c', 32)), promptLen: Number(opt('--prompt-len', 32)), maxTokens: Number(opt('--max-tokens', 32)),
    vocab: Number(opt('--vocab', 4096)) });
  console.log(JSON.stringify(report, null, 2));
  if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(report, null, 2));
  if (report.ok !== report.requests) process.exit(1);
}
