// Cross-cutting conventions: Intercom-Version handling, authentication, error.list
// with request_id, malformed input, rate-limit headers.

import assert from 'node:assert/strict';
import { Intercom, IntercomError } from 'intercom-client';
import { assertErrorList, expectError, suite } from '../lib/harness.mjs';

suite('errors', (ctx) => {
  ctx.test('unknown Intercom-Version → 400 intercom_version_invalid (SDK and raw)', async () => {
    const client = ctx.newClient({ version: '9.99' });
    const err = await expectError(client.admins.identify(), { status: 400, code: 'intercom_version_invalid' });
    assert.ok(err instanceof IntercomError);
    for (const v of ['banana', '2.99', '3']) {
      const res = await ctx.raw('GET', '/me', { version: v });
      assert.equal(res.status, 400, `Intercom-Version ${v}`);
      assertErrorList(res.json, { code: 'intercom_version_invalid' });
    }
  });

  ctx.test('known versions are accepted; no header uses the workspace default', async () => {
    for (const v of ['1.0', '2.0', '2.11', '2.14', '2.15', '2.16', 'Unstable']) {
      const res = await ctx.raw('GET', '/me', { version: v });
      assert.equal(res.status, 200, `Intercom-Version ${v} → ${res.status} ${res.text}`);
      assert.equal(res.json.type, 'admin');
    }
    const none = await ctx.raw('GET', '/me', { version: null });
    assert.equal(none.status, 200, none.text);
    assert.equal(none.json.email, (await ctx.me()).email);
  });

  ctx.test('a bad token → 401 UnauthorizedError', async () => {
    const bad = ctx.newClient({ token: 'not-a-real-token' });
    await expectError(bad.admins.list(), { status: 401, cls: Intercom.UnauthorizedError, code: 'unauthorized' });
    await expectError(bad.contacts.list(), { status: 401, cls: Intercom.UnauthorizedError, code: 'unauthorized' });
    await expectError(bad.contacts.create({ email: 'x@example.com' }), { status: 401, cls: Intercom.UnauthorizedError });
  });

  ctx.test('a missing or malformed Authorization header → 401 unauthorized', async () => {
    const missing = await ctx.raw('GET', '/contacts', { token: null });
    assert.equal(missing.status, 401);
    assertErrorList(missing.json, { code: 'unauthorized' });
    const basic = await ctx.raw('GET', '/contacts', { token: null, headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    assert.equal(basic.status, 401);
    assertErrorList(basic.json, { code: 'unauthorized' });
    const empty = await ctx.raw('GET', '/me', { token: null, headers: { Authorization: 'Bearer ' } });
    assert.equal(empty.status, 401);
  });

  ctx.test('errors carry type error.list and a request_id', async () => {
    const res = await ctx.raw('GET', '/contacts/no-such-contact');
    assert.equal(res.status, 404);
    assertErrorList(res.json, { code: /not_found/ });
    assert.equal(typeof res.json.request_id, 'string');
    assert.ok(res.json.request_id.length > 0);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const other = await ctx.raw('GET', '/contacts/no-such-contact');
    assert.notEqual(other.json.request_id, res.json.request_id, 'request ids are unique');
    for (const e of res.json.errors) assert.equal(typeof e.message, 'string');
  });

  ctx.test('an unknown route → 404 error.list', async () => {
    const res = await ctx.raw('GET', '/no/such/route');
    assert.equal(res.status, 404);
    assertErrorList(res.json);
  });

  ctx.test('malformed JSON → 400 error.list', async () => {
    const res = await ctx.raw('POST', '/contacts', { body: '{"email": "a@example.com",', headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 400, res.text);
    assertErrorList(res.json);
    const arr = await ctx.raw('POST', '/contacts', { body: '[1,2,3]', headers: { 'Content-Type': 'application/json' } });
    assert.equal(arr.status, 400, arr.text);
    assertErrorList(arr.json);
    const search = await ctx.raw('POST', '/contacts/search', { body: '{"query": {', headers: { 'Content-Type': 'application/json' } });
    assert.equal(search.status, 400, search.text);
    assertErrorList(search.json);
  });

  ctx.test('wrongly typed fields → 400 error.list', async () => {
    const res = await ctx.raw('POST', '/contacts', { json: { email: 42 } });
    assert.equal(res.status, 400, res.text);
    assertErrorList(res.json);
    const ts = await ctx.raw('POST', '/contacts', { json: { external_id: 'typed', signed_up_at: 'yesterday' } });
    assert.equal(ts.status, 400, ts.text);
    assertErrorList(ts.json);
  });

  ctx.test('create contact without email, external_id or role → 400', async () => {
    const res = await ctx.raw('POST', '/contacts', { json: { name: 'Nobody' } });
    assert.equal(res.status, 400, res.text);
    assertErrorList(res.json);
  });

  ctx.test('X-RateLimit-Limit/-Remaining/-Reset on responses', async () => {
    const { rawResponse } = await ctx.client.admins.identify().withRawResponse();
    const h = rawResponse.headers;
    const limit = Number(h.get('x-ratelimit-limit'));
    const remaining = Number(h.get('x-ratelimit-remaining'));
    const reset = Number(h.get('x-ratelimit-reset'));
    assert.ok(Number.isInteger(limit) && limit > 0, `X-RateLimit-Limit: ${h.get('x-ratelimit-limit')}`);
    assert.ok(Number.isInteger(remaining) && remaining >= 0 && remaining < limit, `X-RateLimit-Remaining: ${h.get('x-ratelimit-remaining')}`);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Number.isInteger(reset) && reset >= now - 1 && reset <= now + 120, `X-RateLimit-Reset should be Unix seconds soon: ${reset} (now ${now})`);
    const next = await ctx.client.contacts.list({ per_page: 1 });
    assert.ok(next.rawResponse.headers.get('x-ratelimit-remaining'), 'rate-limit headers on every call');
    // Error responses of authenticated calls carry them too.
    const nf = await ctx.raw('GET', '/contacts/no-such-contact');
    assert.ok(nf.headers.get('x-ratelimit-limit'), 'rate-limit headers on a 404');
  });

  ctx.test('the SDK headers are accepted (Intercom-Version 2.14, X-Fern-*, User-Agent)', async () => {
    await ctx.client.admins.identify();
    const rec = ctx.proxy.records.at(-1);
    assert.equal(rec.intercomVersion, '2.14');
    assert.equal(rec.status, 200);
  });
});
