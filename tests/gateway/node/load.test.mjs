// 500 streamed requests at concurrency 32 through `gossamer gateway` in front of
// `gossamer serve` on the tiny model (tests/data/tiny): every request completes, every SSE
// stream is well formed and ends with [DONE], and /metrics, scraped during the load,
// agrees with the counts at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startCluster, sourceDir } from './cluster.mjs';
import { runLoad } from './load.mjs';

let cluster;
before(async () => {
  cluster = await startCluster({ model: path.join(sourceDir(), 'tests/data/tiny/model'),
    serveArgs: ['--max-running', '32'] });
});
after(async () => { if (cluster) await cluster.stop(); });

test('500 requests at concurrency 32: all complete, streams well formed, metrics agree', async () => {
  const r = await runLoad({ base: cluster.base, n: 500, c: 32, promptLen: 16, maxTokens: 6 });
  assert.deepEqual(r.malformed, []);
  assert.equal(r.ok, 500);
  assert.equal(r.output_tokens, 500 * 6);
  assert.equal(r.metrics.success_delta, 500);
  assert.equal(r.metrics.generation_tokens_delta, r.output_tokens);
  assert.equal(r.metrics.ttft_count_delta, 500);
  assert.equal(r.metrics.in_flight_end, 0);
  assert.ok(r.metrics.scrapes >= 1);
  assert.ok(r.metrics.max_running_seen >= 1, 'no scrape saw a running sequence');
});
