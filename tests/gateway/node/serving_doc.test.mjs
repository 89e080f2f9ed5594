// The HTTP examples of docs/SERVING.md run as written: every fenced block after a
// `<!-- doc-test: bash -->` or `<!-- doc-test: node -->` marker runs against
// `gossamer serve --http` (the one-command case) serving a model named gpt-oss-20b, with
// OPENAI_BASE_URL and OPENAI_API_KEY set as the doc says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startCluster, sourceDir } from './cluster.mjs';

const KEY = 'sk-doc-example';
let cluster, env;

function examples() {
  const doc = fs.readFileSync(path.join(sourceDir(), 'docs/SERVING.md'), 'utf8');
  const found = [];
  const re = /<!-- doc-test: (bash|node) -->\n```[a-z]*\n([\s\S]*?)\n```/g;
  for (let m; (m = re.exec(doc)) !== null;) found.push({ kind: m[1], code: m[2] });
  return found;
}

before(async () => {
  cluster = await startCluster({ oneProcess: true, modelName: 'gpt-oss-20b', apiKey: KEY });
  env = { ...process.env, OPENAI_BASE_URL: `${cluster.base}/v1`, OPENAI_API_KEY: KEY };
});
after(async () => { if (cluster) await cluster.stop(); });

test('docs/SERVING.md has the curl and Node examples', () => {
  const kinds = examples().map((e) => e.kind);
  assert.equal(kinds.filter((k) => k === 'bash').length, 2);
  assert.equal(kinds.filter((k) => k === 'node').length, 1);
});

test('the curl examples answer as the doc says', () => {
  const [whole, streamed] = examples().filter((e) => e.kind === 'bash');
  const reply = JSON.parse(execFileSync('bash', ['-euo', 'pipefail', '-c', whole.code], { env, encoding: 'utf8' }));
  assert.equal(reply.object, 'chat.completion');
  assert.equal(reply.model, 'gpt-oss-20b');
  assert.ok('reasoning_content' in reply.choices[0].message && 'reasoning' in reply.choices[0].message);
  assert.equal(reply.usage.completion_tokens, 16);
  const sse = execFileSync('bash', ['-euo', 'pipefail', '-c', streamed.code], { env, encoding: 'utf8' });
  const events = sse.split('\n\n').filter((e) => e && !e.startsWith(':'));
  assert.equal(events[events.length - 1], 'data: [DONE]');
  const last = JSON.parse(events[events.length - 2].slice(6));
  assert.equal(last.usage.completion_tokens, 16);
});

test('the Node SDK example runs', () => {
  const [example] = examples().filter((e) => e.kind === 'node');
  // Next to the pinned package, so `import OpenAI from 'openai'` resolves as in a project.
  const file = path.join(sourceDir(), `.cache/node-openai/doc-example-${process.pid}.mjs`);
  fs.writeFileSync(file, example.code);
  try {
    const out = execFileSync(process.execPath, [file], { env, encoding: 'utf8' });
    assert.match(out, /completion_tokens: 16/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
