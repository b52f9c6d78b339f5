// Starting and stopping Parley as a black box, and the PostgreSQL leg of the matrix.

import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { COMPAT_DIR, REPO_ROOT } from './spec.mjs';

const execFileAsync = promisify(execFile);

export const ADMIN_EMAIL = 'owner@example.com';
const HEALTH_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export function randomToken(bytes = 24) {
  return crypto.randomBytes(bytes).toString('hex');
}

// ---------------------------------------------------------------------------------------
// Binary

async function withLock(lockDir, fn) {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        const age = Date.now() - fs.statSync(lockDir).mtimeMs;
        if (age > 10 * 60_000) fs.rmSync(lockDir, { recursive: true, force: true });
      } catch {
        /* raced with the owner */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for build lock ${lockDir}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

let binaryPromise;

/**
 * Path of the Parley binary: $PARLEY_BIN, or `go build -o compat/.bin/parley ./cmd/parley`
 * from the repository root (serialised across test processes with a lock directory).
 */
export function ensureBinary() {
  binaryPromise ??= (async () => {
    if (process.env.PARLEY_BIN) {
      const candidates = [path.resolve(process.cwd(), process.env.PARLEY_BIN), path.resolve(REPO_ROOT, process.env.PARLEY_BIN)];
      const found = candidates.find((p) => fs.existsSync(p));
      if (!found) throw new Error(`PARLEY_BIN=${process.env.PARLEY_BIN} does not exist (looked at ${candidates.join(', ')})`);
      return found;
    }
    const binDir = path.join(COMPAT_DIR, '.bin');
    fs.mkdirSync(binDir, { recursive: true });
    const out = path.join(binDir, 'parley');
    await withLock(path.join(binDir, '.build.lock'), async () => {
      try {
        await execFileAsync('go', ['build', '-o', out, './cmd/parley'], {
          cwd: REPO_ROOT,
          maxBuffer: 16 * 1024 * 1024,
          timeout: 9 * 60_000,
        });
      } catch (err) {
        throw new Error(`go build -o compat/.bin/parley ./cmd/parley failed in ${REPO_ROOT}:\n${err.stderr || err.message}`);
      }
    });
    return out;
  })();
  return binaryPromise;
}

// ---------------------------------------------------------------------------------------
// Ports and processes

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

class OutputBuffer {
  constructor(limit = 256 * 1024) {
    this.limit = limit;
    this.text = '';
  }
  push(chunk) {
    this.text += chunk.toString('utf8');
    if (this.text.length > this.limit) this.text = this.text.slice(this.text.length - this.limit);
  }
  tail(lines = 40) {
    return this.text.split('\n').slice(-lines).join('\n');
  }
}

/**
 * Start `parley serve` on a free loopback port with a fresh data directory.
 * @param {{ databaseUrl?: string, label?: string }} opts
 */
export async function startParley({ databaseUrl, label = 'parley' } = {}) {
  const bin = await ensureBinary();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-compat-'));
  const token = randomToken();
  const adminPassword = randomToken(12);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PARLEY_')) delete env[k];
  env.PARLEY_BOOTSTRAP_TOKEN = token;
  env.PARLEY_ADMIN_EMAIL = ADMIN_EMAIL;
  env.PARLEY_ADMIN_PASSWORD = adminPassword;
  if (databaseUrl) env.PARLEY_DATABASE_URL = databaseUrl;

  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const output = new OutputBuffer();
    const child = spawn(bin, ['serve', '--addr', addr, '--data', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.stdout.on('data', (c) => output.push(c));
    child.stderr.on('data', (c) => output.push(c));
    const exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      });
      child.once('error', (err) => {
        live.delete(child);
        output.push(`spawn error: ${err.message}\n`);
        resolve({ code: null, signal: null, error: err });
      });
    });
    const url = `http://${addr}`;
    const health = await waitHealthy(url, exited);
    if (health.ok) {
      return new ParleyServer({ label, bin, url, token, adminPassword, dataDir, child, exited, output, databaseUrl });
    }
    child.kill('SIGKILL');
    await exited;
    lastError = new Error(
      `Parley did not become healthy (${health.reason}) — ${bin} serve --addr ${addr} --data ${dataDir}` +
        `${databaseUrl ? ' (PostgreSQL)' : ' (SQLite)'}\n--- server output ---\n${output.tail(80)}\n---------------------`,
    );
    if (!/address already in use|bind/i.test(output.text)) break;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  throw lastError;
}

async function waitHealthy(url, exited) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let done = null;
  exited.then((r) => {
    done = r;
  });
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (done) return { ok: false, reason: `process exited early with code ${done.code} signal ${done.signal}` };
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return { ok: true };
      last = `GET /healthz answered ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ok: false, reason: `timed out after ${HEALTH_TIMEOUT_MS / 1000}s waiting for GET /healthz → 200 (last: ${last})` };
}

export class ParleyServer {
  constructor(fields) {
    Object.assign(this, fields);
    this.stopped = null;
  }

  logTail(lines = 40) {
    return this.output.tail(lines);
  }

  get running() {
    return this.stopped === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, wait for exit. Resolves to { code, signal, timedOut }. */
  async stop() {
    if (this.stopped) return this.stopped;
    let timedOut = false;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      let handle;
      const timer = new Promise((r) => {
        handle = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS);
      });
      const first = await Promise.race([this.exited, timer]);
      clearTimeout(handle);
      if (first === 'timeout') {
        timedOut = true;
        this.child.kill('SIGKILL');
      }
    }
    const { code, signal } = await this.exited;
    this.stopped = { code, signal, timedOut };
    return this.stopped;
  }

  /** Kill if still running and remove the data directory. */
  async dispose() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL leg

export function postgresConfig() {
  const url = process.env.PARLEY_TEST_POSTGRES_URL?.trim() || null;
  return { url, required: process.env.CI === 'true' };
}

async function psql(url, sql) {
  try {
    const { stdout } = await execFileAsync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { timeout: 30_000 });
    return stdout;
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('psql not found on PATH (needed for the PostgreSQL leg)');
    throw new Error(`psql ${JSON.stringify(sql)} failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** Create a fresh database `parley_compat_<random>`; returns { name, url, drop() }. */
export async function createPostgresDatabase(baseUrl) {
  await psql(baseUrl, 'SELECT 1');
  const name = `parley_compat_${randomToken(6)}`;
  await psql(baseUrl, `CREATE DATABASE ${name}`);
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    async drop() {
      await psql(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
