// Test harness: one Parley per test file and database, behind the validating proxy,
// driven by the official intercom-client SDK.
//
//   import { suite } from '../lib/harness.mjs';
//   suite('contacts', (ctx) => {
//     ctx.test('create a user', async () => {
//       const c = await ctx.client.contacts.create({ email: 'a@example.com' });
//       ...
//     });
//   });
//
// Each `ctx.test` fails if any response received during it violated the OpenAPI
// schema (unless excused by compat/allowed-differences.json). Every suite ends with a
// conformance summary test and a clean-shutdown test (SIGTERM → exit 0).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IntercomClient, IntercomError } from 'intercom-client';
import { createPostgresDatabase, postgresConfig, randomToken, startParley } from './parley.mjs';
import { startProxy } from './proxy.mjs';
import { COMPAT_DIR, formatViolations, loadAllowedDifferences, loadSpec } from './spec.mjs';

export { ADMIN_EMAIL } from './parley.mjs';

const DEFAULT_TEST_TIMEOUT = 120_000;

/** The database legs to run: SQLite always, PostgreSQL when configured. */
export function databaseLegs() {
  const pg = postgresConfig();
  const legs = [{ kind: 'sqlite' }];
  if (pg.url) legs.push({ kind: 'postgres', baseUrl: pg.url });
  return { legs, pg };
}

/**
 * Register a suite of tests that runs once per database leg.
 * @param {string} name
 * @param {(ctx: SuiteContext) => void} define registers tests with ctx.test
 */
export function suite(name, define) {
  const { legs, pg } = databaseLegs();
  for (const leg of legs) {
    describe(`${name} [${leg.kind}]`, () => {
      const ctx = new SuiteContext(name, leg);
      before(() => ctx.start(), { timeout: 11 * 60_000 });
      after(() => ctx.cleanup());
      define(ctx);
      test('every response matched the Intercom OpenAPI schema', (t) => ctx.assertConformance(t));
      test('Parley exits 0 on SIGTERM', () => ctx.assertCleanShutdown());
    });
  }
  if (!pg.url) {
    if (pg.required) {
      test(`${name} [postgres]`, () => {
        assert.fail('CI=true but PARLEY_TEST_POSTGRES_URL is not set: the PostgreSQL leg must run in CI');
      });
    } else {
      test(`${name} [postgres]`, { skip: 'PARLEY_TEST_POSTGRES_URL not set — SQLite only' }, () => {});
    }
  }
}

export class SuiteContext {
  constructor(name, leg) {
    this.name = name;
    this.leg = leg;
    this.db = leg.kind;
    this.runId = randomToken(4);
    this.server = null;
    this.proxy = null;
    this.pgDatabase = null;
    this.client = null;
    this.token = null;
    this.baseUrl = null;
    this.shutdown = null;
    this.cache = new Map();
  }

  async start() {
    const allowed = loadAllowedDifferences();
    // Parse the default description up front (2.16 is loaded on first use).
    loadSpec('2.14');
    let databaseUrl;
    if (this.leg.kind === 'postgres') {
      this.pgDatabase = await createPostgresDatabase(this.leg.baseUrl);
      databaseUrl = this.pgDatabase.url;
    }
    this.server = await startParley({ databaseUrl, label: `${this.name}-${this.db}` });
    this.proxy = await startProxy({ target: this.server.url, allowed });
    this.token = this.server.token;
    this.baseUrl = this.proxy.url;
    this.client = this.newClient();
  }

  /** A fresh SDK client through the proxy. */
  newClient({ token = this.token, version, headers } = {}) {
    const opts = { token, baseUrl: this.baseUrl, maxRetries: 0, timeoutInSeconds: 60 };
    if (version) opts.version = version;
    if (headers) opts.headers = headers;
    return new IntercomClient(opts);
  }

  /** Unique string for this suite run (prefix-<run>-<n>). */
  unique(prefix = 'x') {
    this._n = (this._n ?? 0) + 1;
    return `${prefix}-${this.runId}-${this._n}`;
  }

  /**
   * Raw HTTP through the proxy, for what the SDK cannot express.
   * Returns { status, headers, text, json }.
   */
  async raw(method, urlPath, { json, body, headers = {}, token = this.token, version = '2.14' } = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (token !== null && token !== undefined) h.Authorization = `Bearer ${token}`;
    if (version !== null && version !== undefined) h['Intercom-Version'] = version;
    let payload = body;
    if (json !== undefined) {
      payload = JSON.stringify(json);
      h['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${urlPath}`, { method, headers: h, body: payload, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, json: parsed };
  }

  /** Number of recorded requests matching method and a path regex since index `from`. */
  countRequests(method, pathRegex, from = 0) {
    return this.proxy.records.slice(from).filter((r) => r.method === method && pathRegex.test(r.path)).length;
  }

  get mark() {
    return this.proxy ? this.proxy.records.length : 0;
  }

  /** Memoise an async setup step shared by several tests of this suite. */
  once(key, fn) {
    if (!this.cache.has(key)) {
      const p = Promise.resolve().then(fn);
      p.catch(() => this.cache.delete(key));
      this.cache.set(key, p);
    }
    return this.cache.get(key);
  }

  /** The authenticated admin (GET /me), memoised. */
  me() {
    return this.once('me', () => this.client.admins.identify());
  }

  /**
   * Register a test. It fails when the test body throws, or when any response
   * received during it violated the OpenAPI schema.
   */
  test(name, fn, opts = {}) {
    test(name, { timeout: DEFAULT_TEST_TIMEOUT, ...opts }, (t) => this.runChecked(() => fn(t)));
  }

  /** Run fn; throw if it throws or if responses received meanwhile violated the spec. */
  async runChecked(fn) {
    if (!this.proxy) throw new Error('harness not started (see the before hook failure above)');
    const from = this.proxy.records.length;
    let error;
    let failed = false;
    try {
      await fn();
    } catch (e) {
      error = e;
      failed = true;
    }
    const violations = this.proxy.violations(from);
    if (failed) {
      let extra = '';
      if (violations.length) extra += `\nOpenAPI schema violations during this test:\n${formatViolations(violations)}`;
      extra += this.describeExchanges(from, error);
      if (error instanceof Error) {
        error.message += extra;
        throw error;
      }
      throw new Error(`${String(error)}${extra}`);
    }
    if (violations.length) {
      throw new assert.AssertionError({
        message: `${violations.length} OpenAPI schema violation(s) in responses received by this test:\n${formatViolations(violations)}`,
      });
    }
  }

  describeExchanges(from, error) {
    if (!this.proxy) return '';
    const recs = this.proxy.records.slice(from);
    if (!recs.length) return '';
    const last = recs.slice(-4).map((r) => {
      const body = r.transportError ?? (r.responseBody ?? '').slice(0, 400);
      return `  ${r.method} ${r.path}${r.query} → ${r.status ?? 'no response'} ${body}`;
    });
    let text = `\nLast exchanges of this test (${recs.length} total):\n${last.join('\n')}`;
    const serverTrouble = recs.some((r) => r.status >= 500 || r.transportError) || (error?.statusCode ?? 0) >= 500;
    if (serverTrouble && this.server) text += `\n--- Parley output (tail) ---\n${this.server.logTail(30)}`;
    return text;
  }

  assertConformance(t) {
    assert.ok(this.proxy, 'harness did not start');
    const recs = this.proxy.records;
    const validated = recs.filter((r) => r.validated).length;
    const extension = recs.filter((r) => r.extension).length;
    const ops = new Map();
    for (const r of recs) {
      const key = r.operation ?? `${r.method} ${r.path} (extension)`;
      if (!r.operation && !r.extension) continue;
      ops.set(key, (ops.get(key) ?? 0) + 1);
    }
    t.diagnostic(`${recs.length} exchanges, ${validated} validated against the spec, ${extension} to Parley extensions`);
    const allowed = this.proxy.allowedViolations();
    if (allowed.length) t.diagnostic(`${allowed.length} violation(s) excused by allowed-differences.json`);
    const violations = this.proxy.violations();
    assert.equal(
      violations.length,
      0,
      `${violations.length} OpenAPI schema violation(s) in this suite:\n${formatViolations(violations)}`,
    );
    const transport = recs.filter((r) => r.transportError);
    assert.equal(transport.length, 0, `proxy could not reach Parley: ${transport.map((r) => `${r.method} ${r.path}: ${r.transportError}`).join('; ')}`);
  }

  async assertCleanShutdown() {
    assert.ok(this.server, 'server did not start');
    const res = await this.server.stop();
    this.shutdown = res;
    assert.equal(res.timedOut, false, `Parley did not exit within 15s of SIGTERM\n${this.server.logTail(30)}`);
    assert.equal(res.signal, null, `Parley was killed by ${res.signal}\n${this.server.logTail(30)}`);
    assert.equal(res.code, 0, `Parley exited with code ${res.code} after SIGTERM\n${this.server.logTail(30)}`);
  }

  async cleanup() {
    const problems = [];
    try {
      this.writeReport();
    } catch (e) {
      problems.push(e);
    }
    try {
      await this.proxy?.close();
    } catch (e) {
      problems.push(e);
    }
    try {
      await this.server?.dispose();
    } catch (e) {
      problems.push(e);
    }
    try {
      await this.pgDatabase?.drop();
    } catch (e) {
      problems.push(e);
    }
    if (problems.length) throw problems[0];
  }

  writeReport() {
    if (!this.proxy) return;
    const dir = process.env.PARLEY_COMPAT_REPORT_DIR ?? path.join(COMPAT_DIR, '.reports');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${this.name}-${this.db}.json`);
    const records = this.proxy.records.map((r) => ({
      seq: r.seq,
      method: r.method,
      path: r.path,
      query: r.query,
      intercomVersion: r.intercomVersion,
      status: r.status,
      operation: r.operation,
      extension: r.extension,
      validated: r.validated,
      violations: r.violations,
      allowedViolations: r.allowedViolations,
      transportError: r.transportError,
      durationMs: r.durationMs,
    }));
    fs.writeFileSync(file, `${JSON.stringify({ suite: this.name, database: this.db, shutdown: this.shutdown, records }, null, 2)}\n`);
  }
}

// ---------------------------------------------------------------------------------------
// Assertion helpers

/**
 * Await a call that must fail with an SDK error.
 * @param {Promise|Function} call
 * @param {{ status?: number, code?: string|RegExp, cls?: Function, mentions?: string }} expect
 * @returns {Promise<IntercomError>}
 */
export async function expectError(call, { status, code, cls, mentions } = {}) {
  let result;
  try {
    result = await (typeof call === 'function' ? call() : call);
  } catch (err) {
    assert.ok(err instanceof IntercomError, `expected an IntercomError, got ${err?.constructor?.name}: ${err?.message}`);
    if (cls) assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor.name} (status ${err.statusCode})`);
    if (status !== undefined) {
      assert.equal(err.statusCode, status, `expected HTTP ${status}, got ${err.statusCode}: ${JSON.stringify(err.body)}`);
    }
    assertErrorList(err.body, { code, mentions });
    return err;
  }
  assert.fail(`expected the call to fail${status ? ` with HTTP ${status}` : ''}, but it succeeded: ${JSON.stringify(result)?.slice(0, 500)}`);
}

/** Assert an Intercom error.list body. */
export function assertErrorList(body, { code, mentions } = {}) {
  assert.ok(body && typeof body === 'object', `error body must be a JSON object, got ${JSON.stringify(body)}`);
  assert.equal(body.type, 'error.list', `error body type: ${JSON.stringify(body)}`);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `error body must list errors: ${JSON.stringify(body)}`);
  for (const e of body.errors) assert.equal(typeof e.code, 'string', `each error needs a code: ${JSON.stringify(body)}`);
  if (code !== undefined) {
    const codes = body.errors.map((e) => e.code);
    const ok = codes.some((c) => (code instanceof RegExp ? code.test(c) : c === code));
    assert.ok(ok, `expected error code ${code}, got ${JSON.stringify(codes)}: ${JSON.stringify(body)}`);
  }
  if (mentions !== undefined) {
    const text = JSON.stringify(body.errors);
    assert.ok(text.includes(mentions), `expected the error to mention ${JSON.stringify(mentions)}: ${text}`);
  }
}

/**
 * Drain an SDK pager (Page / async iterable) with a safety cap so that a server
 * that never ends pagination fails the test instead of hanging it.
 */
export async function collect(pager, { max = 5000 } = {}) {
  const items = [];
  for await (const item of pager) {
    items.push(item);
    if (items.length > max) assert.fail(`pagination did not end after ${max} items — the server keeps returning a next page`);
  }
  return items;
}

/** Walk pages manually (hasNextPage / getNextPage); returns the list of page payloads. */
export async function walkPages(page, { maxPages = 100 } = {}) {
  const pages = [page.data.slice()];
  const responses = [page.response];
  while (page.hasNextPage()) {
    if (pages.length >= maxPages) assert.fail(`pagination did not end after ${maxPages} pages — last response: ${JSON.stringify(page.response).slice(0, 400)}`);
    page = await page.getNextPage();
    pages.push(page.data.slice());
    responses.push(page.response);
  }
  return { pages, responses, items: pages.flat() };
}

export function assertUnique(ids, what = 'item') {
  const seen = new Set();
  const dupes = new Set();
  for (const id of ids) {
    if (seen.has(id)) dupes.add(id);
    seen.add(id);
  }
  assert.equal(dupes.size, 0, `${what}s returned more than once: ${[...dupes].slice(0, 10).join(', ')}`);
}

export function assertTimestamp(value, what = 'timestamp') {
  assert.ok(Number.isInteger(value), `${what} must be an integer Unix timestamp, got ${JSON.stringify(value)}`);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(value > 946684800 && value < now + 86400 * 365 * 20, `${what} must be Unix seconds, got ${value}`);
}

export function assertRecent(value, what = 'timestamp', slackSeconds = 600) {
  assertTimestamp(value, what);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(now - value) <= slackSeconds, `${what} should be close to now (${now}), got ${value}`);
}

export async function waitFor(fn, { timeout = 20_000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Unix timestamp of a wall-clock time in an IANA time zone.
 * zonedTime('Europe/Berlin', 2024, 3, 15, 12) = 2024-03-15 12:00 in Berlin.
 */
export function zonedTime(timeZone, year, month, day, hour = 0, minute = 0) {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const offsetAt = (ms) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
        .formatToParts(new Date(ms))
        .map((p) => [p.type, p.value]),
    );
    const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    return asUtc - ms;
  };
  let ms = guess - offsetAt(guess);
  ms = guess - offsetAt(ms);
  return Math.floor(ms / 1000);
}
