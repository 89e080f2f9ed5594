// Starts what the Node tests talk to: a tiny model with the gpt-oss vocabulary (written at
// start), `gossamer serve` on a free ZeroMQ port and `gossamer gateway` on a free HTTP port,
// and stops both. Every wait is bounded. Paths come from the environment the ctest entry
// sets (tests/CMakeLists.txt): GOSSAMER_BINARY, GOSSAMER_SOURCE_DIR.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function sourceDir() {
  return process.env.GOSSAMER_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
}

// The pinned `openai` package scripts/setup.sh installs into .cache/node-openai.
export async function loadOpenAI() {
  const entry = path.join(sourceDir(), '.cache/node-openai/node_modules/openai/index.mjs');
  if (!fs.existsSync(entry)) throw new Error(`no openai npm package at ${entry}: run scripts/setup.sh`);
  return (await import(entry)).default;
}

async function waitForFile(file, what, child, log, ms = 60000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${fs.readFileSync(log, 'utf8')}`);
    try {
      const text = fs.readFileSync(file, 'utf8').trim();
      if (text) return text;
    } catch {}
    await sleep(50);
  }
  throw new Error(`${what} did not start within ${ms} ms:\n${fs.readFileSync(log, 'utf8')}`);
}

function start(binary, args, log) {
  const out = fs.openSync(log, 'w');
  return spawn(binary, args, { stdio: ['ignore', out, out] });
}

// options: model (a model directory; default: a tiny one with the gpt-oss vocabulary,
// written as modelName), serveArgs (extra `serve` flags), gatewayArgs (extra `gateway`
// flags), apiKey, oneProcess (`serve --http` instead of a separate `gossamer gateway`).
export async function startCluster(options = {}) {
  const binary = process.env.GOSSAMER_BINARY || path.join(sourceDir(), 'build/gossamer');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gossamer-node-'));
  let model = options.model;
  if (!model) {
    model = path.join(dir, options.modelName || 'model');
    execFileSync(binary, ['--log-level', 'warn', 'synth', '--preset', 'tiny', '--vocab', '201088', '--seed', '7',
      '--force', '--out', model], { stdio: 'ignore' });
  }
  const serveArgs = ['--log-level', 'warn', 'serve', '--model', model, '--threads', '1', '--max-context', '1024',
    '--kv-blocks', '256', '--kv-block-size', '16', '--endpoint', 'tcp://127.0.0.1:*',
    '--endpoint-file', path.join(dir, 'endpoint'), ...(options.serveArgs || [])];
  let gateway;
  if (options.oneProcess) {  // `serve --http`: the gateway inside the server process
    serveArgs.push('--http', '127.0.0.1:0', '--http-port-file', path.join(dir, 'port'));
    if (options.apiKey) {
      fs.writeFileSync(path.join(dir, 'keys'), `${options.apiKey}\n`);
      serveArgs.push('--api-key-file', path.join(dir, 'keys'));
    }
  }
  const serve = start(binary, serveArgs, path.join(dir, 'serve.log'));
  const stop = async () => {
    for (const child of [gateway, serve]) {
      if (!child || child.exitCode !== null) continue;
      child.kill('SIGTERM');
      const end = Date.now() + 15000;
      while (child.exitCode === null && Date.now() < end) await sleep(50);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const endpoint = await waitForFile(path.join(dir, 'endpoint'), 'gossamer serve', serve, path.join(dir, 'serve.log'));
    if (!options.oneProcess) {
      const gatewayArgs = ['--log-level', 'warn', 'gateway', '--upstream', endpoint, '--listen', '127.0.0.1:0',
        '--port-file', path.join(dir, 'port'), ...(options.gatewayArgs || [])];
      if (options.apiKey) {
        fs.writeFileSync(path.join(dir, 'keys'), `${options.apiKey}\n`);
        gatewayArgs.push('--api-key-file', path.join(dir, 'keys'));
      }
      gateway = start(binary, gatewayArgs, path.join(dir, 'gateway.log'));
    }
    const owner = gateway || serve, ownerLog = path.join(dir, gateway ? 'gateway.log' : 'serve.log');
    const port = await waitForFile(path.join(dir, 'port'), 'the gateway', owner, ownerLog);
    const base = `http://127.0.0.1:${port}`;
    const end = Date.now() + 60000;  // ready when the cluster answers through the gateway
    while ((await fetch(`${base}/health`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > end) throw new Error('the gateway never became healthy');
      await sleep(100);
    }
    return { base, endpoint, serve, gateway, stop, dir };
  } catch (e) {
    await stop();
    throw e;
  }
}

// The value of one sample of the Prometheus page ("name" or "name{labels}").
export function metric(page, sample) {
  for (const line of page.split('\n')) {
    if (line.startsWith(sample + ' ')) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
