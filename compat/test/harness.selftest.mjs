// Self-test of the harness against a fake Parley (lib/fake-parley.mjs): proves that
// the process management, the recording proxy, the SDK plumbing and — above all —
// schema-violation detection work, independently of the real server's state.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Intercom, IntercomClient, IntercomError } from 'intercom-client';
import { collect, SuiteContext } from '../lib/harness.mjs';
import { startParley } from '../lib/parley.mjs';
import { startProxy } from '../lib/proxy.mjs';

const FAKE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lib/fake-parley.mjs');
fs.chmodSync(FAKE, 0o755);
process.env.PARLEY_BIN = FAKE; // read lazily by ensureBinary()

describe('harness against a fake Parley', () => {
  const ctx = new SuiteContext('selftest', { kind: 'sqlite' });
  before(() => ctx.start());
  after(() => ctx.cleanup());

  test('the SDK talks to the server through the proxy and good responses pass', async () => {
    await ctx.runChecked(async () => {
      const me = await ctx.client.admins.identify();
      assert.equal(me.email, 'owner@example.com');
    });
    const rec = ctx.proxy.records.at(-1);
    assert.equal(rec.operation, 'GET /me');
    assert.equal(rec.validated, true);
    assert.equal(rec.intercomVersion, '2.14', 'the SDK sends Intercom-Version: 2.14');
    assert.deepEqual(rec.violations, []);
  });

  test('a schema violation fails the test with operation, status and JSON pointer', async () => {
    const err = await ctx.runChecked(() => ctx.client.contacts.find({ contact_id: 'bad' })).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'runChecked must reject when a response violates the schema');
    assert.match(err.message, /2 OpenAPI schema violation\(s\)/);
    assert.match(err.message, /GET \/contacts\/\{contact_id\} \(ShowContact\) → 200/);
    assert.match(err.message, /at \/id: must be string — got 12345/);
    assert.match(err.message, /at \/created_at: must be integer/);
  });

  test('a failing test also reports the violations and the last exchanges', async () => {
    const err = await ctx
      .runChecked(async () => {
        await ctx.client.contacts.find({ contact_id: 'bad' });
        assert.fail('deliberate failure');
      })
      .then(
        () => null,
        (e) => e,
      );
    assert.match(err.message, /deliberate failure/);
    assert.match(err.message, /OpenAPI schema violations during this test/);
    assert.match(err.message, /Last exchanges of this test/);
  });

  test('cursor auto-pagination across pages through the proxy', async () => {
    const from = ctx.mark;
    const items = await collect(await ctx.client.contacts.list({ per_page: 3 }));
    assert.deepEqual(
      items.map((c) => c.id),
      ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'],
    );
    assert.equal(ctx.countRequests('GET', /^\/contacts$/, from), 3);
  });

  test('HTTP errors surface as the SDK typed errors with statusCode and body', async () => {
    try {
      await ctx.client.companies.find({ company_id: 'nope' });
      assert.fail('expected NotFoundError');
    } catch (err) {
      assert.ok(err instanceof Intercom.NotFoundError);
      assert.ok(err instanceof IntercomError);
      assert.equal(err.statusCode, 404);
      assert.equal(err.body.errors[0].code, 'company_not_found');
    }
    const bad = new IntercomClient({ token: 'wrong', baseUrl: ctx.baseUrl, maxRetries: 0 });
    await assert.rejects(bad.admins.list(), (e) => e instanceof Intercom.UnauthorizedError && e.statusCode === 401);
  });

  test('extensions (not in the spec) are recorded but not validated', async () => {
    const res = await ctx.raw('POST', '/segments', { json: { name: 'x', filter: {} } });
    assert.equal(res.status, 200);
    const rec = ctx.proxy.records.at(-1);
    assert.equal(rec.extension, true);
    assert.equal(rec.validated, false);
    assert.deepEqual(rec.violations, []);
  });

  test('the conformance summary fails because of the violations above', () => {
    assert.throws(() => ctx.assertConformance({ diagnostic() {} }), /OpenAPI schema violation\(s\) in this suite/);
  });

  test('allowed differences excuse exactly the listed pointer', async () => {
    const proxy = await startProxy({
      target: ctx.server.url,
      allowed: [{ operation: 'ShowContact', pointer: '/id', reason: 'self-test' }],
    });
    try {
      const client = new IntercomClient({ token: ctx.token, baseUrl: proxy.url, maxRetries: 0 });
      await client.contacts.find({ contact_id: 'bad' });
      assert.deepEqual(proxy.violations().map((v) => v.instancePath), ['/created_at']);
      assert.deepEqual(proxy.allowedViolations().map((v) => [v.instancePath, v.reason]), [['/id', 'self-test']]);
    } finally {
      await proxy.close();
    }
  });

  test('clean shutdown: SIGTERM → exit 0', async () => {
    await ctx.assertCleanShutdown();
    assert.deepEqual(ctx.shutdown, { code: 0, signal: null, timedOut: false });
  });
});

describe('process failures are reported, not hidden', () => {
  test('a server that dies at start-up fails with its stderr', async () => {
    process.env.FAKE_PARLEY_MODE = 'crash';
    try {
      await assert.rejects(startParley(), (err) => /exited early with code 3/.test(err.message) && /boom: cannot open database/.test(err.message));
    } finally {
      delete process.env.FAKE_PARLEY_MODE;
    }
  });

  test('a non-zero exit on SIGTERM fails the shutdown assertion', async () => {
    process.env.FAKE_PARLEY_MODE = 'dirty-exit';
    const ctx = new SuiteContext('selftest-dirty', { kind: 'sqlite' });
    try {
      await ctx.start();
      await assert.rejects(ctx.assertCleanShutdown(), /exited with code 1/);
    } finally {
      delete process.env.FAKE_PARLEY_MODE;
      await ctx.cleanup();
    }
  });
});
