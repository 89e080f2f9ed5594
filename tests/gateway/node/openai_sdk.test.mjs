// The gateway through the official `openai` npm client (pinned in scripts/setup.sh),
// against a real `gossamer serve` on a tiny model: chat streamed and not (the same text at
// temperature 0), completions, models, every error status as the SDK's typed error, a
// client that aborts mid-stream (the cluster's running sequences and KV blocks go back to
// 0 on /metrics), API keys refused and accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, loadOpenAI, metric } from './cluster.mjs';

const KEY = 'sk-gossamer-test';
let cluster, OpenAI, client, model;

before(async () => {
  OpenAI = await loadOpenAI();
  // One running sequence and one waiting: a third concurrent request is `overloaded` (429).
  cluster = await startCluster({ apiKey: KEY, serveArgs: ['--max-running', '1', '--max-queue', '1'],
    gatewayArgs: ['--upstream-timeout', '2'] });
  client = new OpenAI({ baseURL: `${cluster.base}/v1`, apiKey: KEY, maxRetries: 0, timeout: 30000 });
  model = (await client.models.list()).data[0].id;
});
after(async () => { if (cluster) await cluster.stop(); });

const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Name a color.' }];

test('models lists the served model', async () => {
  const list = await client.models.list();
  assert.equal(list.data.length, 1);
  assert.equal(list.data[0].object, 'model');
  assert.ok(model.length > 0);
  assert.equal((await client.models.retrieve(model)).id, model);
  await assert.rejects(client.models.retrieve('no-such-model'), (e) => e instanceof OpenAI.NotFoundError);
});

test('chat: streamed text equals the whole text at temperature 0', async () => {
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0 });
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.usage.completion_tokens, 24);
  assert.equal(typeof whole.usage.prompt_tokens_details.cached_tokens, 'number');
  const m = whole.choices[0].message;
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0, stream: true,
    stream_options: { include_usage: true } });
  let content = '', reasoning = '', finish = null, usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    reasoning += choice.delta.reasoning_content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.ok(content.length + reasoning.length > 0);
  assert.equal(content, m.content ?? '');
  assert.equal(reasoning, m.reasoning_content ?? '');
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, 24);
});

test('completions: a raw prompt, streamed and not', async () => {
  const whole = await client.completions.create({ model, prompt: 'The capital of France is', max_tokens: 8, temperature: 0 });
  assert.equal(whole.object, 'text_completion');
  assert.equal(whole.usage.prompt_tokens, 5);
  let text = '';
  for await (const chunk of await client.completions.create({ model, prompt: 'The capital of France is', max_tokens: 8,
    temperature: 0, stream: true })) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, whole.choices[0].text);
});

test('API key: refused without the right key, accepted with it', async () => {
  const wrong = new OpenAI({ baseURL: `${cluster.base}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  const r = await fetch(`${cluster.base}/v1/models`);
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'invalid_api_key');
  assert.equal((await client.models.list()).data[0].id, model);
});

test('errors: 400 naming the field, 404, 413', async () => {
  await assert.rejects(client.chat.completions.create({ model, messages, n: 2 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'n');
  await assert.rejects(client.chat.completions.create({ model, messages, logprobs: true }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'logprobs');
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found');
  const big = [{ role: 'user', content: 'x'.repeat(5 << 20) }];
  await assert.rejects(client.chat.completions.create({ model, messages: big }), (e) => e.status === 413);
});

test('errors: 429 with Retry-After when the queue is full', async () => {
  const long = () => client.chat.completions.create({ model, messages, max_tokens: 400, temperature: 0 })
    .then(() => null, (e) => e);
  const results = await Promise.all([long(), long(), long(), long()]);
  const refused = results.filter((e) => e instanceof OpenAI.RateLimitError);
  assert.ok(refused.length >= 1, `expected a 429 among ${results.map((e) => e?.status ?? 200)}`);
  assert.equal(refused[0].status, 429);
  assert.equal(refused[0].headers['retry-after'], '1');
  assert.equal(refused[0].code, 'overloaded');
});

test('a client aborting mid-stream frees its sequence', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 900, temperature: 0, stream: true },
    { signal: controller.signal });
  let chunks = 0;
  try {
    for await (const _ of stream) {
      if (++chunks === 2) {
        controller.abort();  // the SDK closes the connection; the iteration ends
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof OpenAI.APIUserAbortError)) throw e;
  }
  assert.equal(chunks, 2);
  let page = '';
  const end = Date.now() + 10000;
  while (Date.now() < end) {
    page = await (await fetch(`${cluster.base}/metrics`)).text();
    if (metric(page, 'gossamer:num_requests_running') === 0 && metric(page, 'gossamer:kv_blocks_used{pool="full"}') === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(metric(page, 'gossamer:num_requests_running'), 0, page);
  assert.equal(metric(page, 'gossamer:kv_blocks_used{pool="full"}'), 0, page);
  assert.ok(metric(page, 'gossamer:requests_total{outcome="cancelled"}') >= 1, page);
});

test('errors: 503 when the cluster is gone', async () => {
  cluster.serve.kill('SIGTERM');
  const end = Date.now() + 15000;
  while (cluster.serve.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await fetch(`${cluster.base}/health`)).status, 503);
  await assert.rejects(client.chat.completions.create({ model, messages, max_tokens: 4 }),
    (e) => e instanceof OpenAI.InternalServerError && e.status === 503);
});
