// A whole platform for the browser tests and the page-load benchmark: `vidgraph dev` on free
// ports with its own instance (database, Redis prefix, NATS prefix, files), beside whatever
// `./dev` a developer is running, and Chromium from Debian, driven by playwright-core.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port base whose ports +0 … +10 are all free now. */
async function freePortBase() {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20000 + 20 * Math.floor(Math.random() * 1500);
    const ports = Array.from({ length: 11 }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

/**
 * Starts `vidgraph dev --port-base <free> --instance <name>` and resolves once it printed that
 * it is up. The instance is named after the checkout, so two worktrees never share one.
 */
export async function startPlatform({ timeoutMs = 240_000, log = process.stderr, env = {} } = {}) {
  const base = await freePortBase();
  const instance = `web_${createHash('sha1').update(repo).digest('hex').slice(0, 8)}`;
  const exe = path.join(repo, 'target/debug/vidgraph');
  const child = spawn(exe, ['dev', '--port-base', String(base), '--instance', instance], {
    cwd: repo,
    env: {
      ...process.env,
      // Every run signs up new accounts from one address; the per-address limits are for
      // people, not for this test.
      VIDGRAPH_AUTH__REGISTER_LIMIT_PER_ADDRESS: '100000',
      VIDGRAPH_AUTH__LOGIN_LIMIT_PER_ADDRESS: '100000',
      VIDGRAPH_TELEMETRY__FILTER: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vidgraph dev was not up after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`vidgraph dev exited (${code ?? signal}) before it was up:\n${output}`));
    });
  });
  log.write(`[browser] platform up: web http://127.0.0.1:${base + 10}/, router :${base}, instance ${instance}\n`);
  return {
    webUrl: `http://127.0.0.1:${base + 10}`,
    /** The environment of a `vidgraph` command run against this instance (its database). */
    cliEnv: { ...process.env, VIDGRAPH_DB__URL: instanceDbUrl(instance) },
    /** `live`'s own port (its payment callback). */
    liveUrl: `http://127.0.0.1:${base + 4}`,
    routerUrl: `http://127.0.0.1:${base}/graphql`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** The database `vidgraph dev --instance NAME` uses (crates/vidgraph/src/dev.rs, `Layout`). */
function instanceDbUrl(instance) {
  const url = new URL(process.env.VIDGRAPH_DB__URL || 'postgres://postgres@127.0.0.1:5432/vidgraph');
  url.pathname = `/vidgraph_${instance}`;
  return url.toString();
}

export function launchChromium() {
  return chromium.launch({ executablePath: process.env.VG_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}
