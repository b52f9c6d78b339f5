// Data events: POST /events (202, dedup, metadata limit), GET /events by
// intercom_user_id / user_id / email, summaries, POST /events/summaries.

import assert from 'node:assert/strict';
import { expectError, suite } from '../lib/harness.mjs';

suite('events', (ctx) => {
  const newUser = () => {
    const ext = ctx.unique('ev-user');
    return ctx.client.contacts.create({ role: 'user', external_id: ext, email: `${ext}@example.com` });
  };
  const now = () => Math.floor(Date.now() / 1000);

  /** Events of a listing, whatever the event object's name key. */
  const named = (res, name) => (res.events ?? []).filter((e) => (e.event_name ?? e.name) === name);

  ctx.test('POST /events answers 202 with an empty body', async () => {
    const user = await newUser();
    const { data, rawResponse } = await ctx.client.events
      .create({ user_id: user.external_id, event_name: 'signed-in', created_at: now(), metadata: { plan: 'pro' } })
      .withRawResponse();
    assert.equal(rawResponse.status, 202);
    assert.equal(data, undefined);
  });

  ctx.test('events are listed by intercom_user_id, user_id and email', async () => {
    const user = await newUser();
    const t = now() - 100;
    await ctx.client.events.create({ id: user.id, event_name: 'by-id', created_at: t, metadata: { source: 'api', count: '3' } });
    await ctx.client.events.create({ user_id: user.external_id, event_name: 'by-user-id', created_at: t + 1 });
    await ctx.client.events.create({ email: user.email, event_name: 'by-email', created_at: t + 2 });

    for (const query of [{ intercom_user_id: user.id }, { user_id: user.external_id }, { email: user.email }]) {
      const res = await ctx.client.events.list({ type: 'user', ...query });
      const names = res.events.map((e) => e.event_name ?? e.name).sort();
      assert.deepEqual(names, ['by-email', 'by-id', 'by-user-id'], `listing by ${Object.keys(query)[0]}`);
      const byId = named(res, 'by-id')[0];
      assert.equal(byId.created_at, t);
      assert.deepEqual(byId.metadata, { source: 'api', count: '3' });
      if (byId.intercom_user_id !== undefined) assert.equal(byId.intercom_user_id, user.id);
      if (byId.user_id !== undefined) assert.equal(byId.user_id, user.external_id);
    }
  });

  ctx.test('an event for an unknown user is rejected', async () => {
    const user = await newUser();
    const control = await ctx.client.events.create({ user_id: user.external_id, event_name: 'real-event', created_at: now() }).withRawResponse();
    assert.equal(control.rawResponse.status, 202, 'control: a known user is accepted');
    const err = await expectError(
      ctx.client.events.create({ user_id: ctx.unique('ghost'), event_name: 'ghost-event', created_at: now() }),
      {},
    );
    assert.ok([400, 404, 422].includes(err.statusCode), `status ${err.statusCode}`);
  });

  ctx.test('the same contact + name + created_at is recorded once', async () => {
    const user = await newUser();
    const t = now() - 50;
    for (let i = 0; i < 3; i++) {
      const { rawResponse } = await ctx.client.events.create({ id: user.id, event_name: 'dup', created_at: t }).withRawResponse();
      assert.equal(rawResponse.status, 202);
    }
    await ctx.client.events.create({ id: user.id, event_name: 'dup', created_at: t + 1 });
    const res = await ctx.client.events.list({ type: 'user', intercom_user_id: user.id });
    assert.equal(named(res, 'dup').length, 2, `expected 2 distinct "dup" events: ${JSON.stringify(res.events)}`);
  });

  ctx.test('more than 10 metadata keys → 400; exactly 10 is fine', async () => {
    const user = await newUser();
    const meta = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));
    const ok = await ctx.client.events.create({ id: user.id, event_name: 'ten-keys', created_at: now(), metadata: meta(10) }).withRawResponse();
    assert.equal(ok.rawResponse.status, 202);
    await expectError(ctx.client.events.create({ id: user.id, event_name: 'eleven-keys', created_at: now(), metadata: meta(11) }), { status: 400 });
    const res = await ctx.client.events.list({ type: 'user', intercom_user_id: user.id });
    assert.equal(named(res, 'eleven-keys').length, 0);
    assert.equal(named(res, 'ten-keys').length, 1);
  });

  ctx.test('missing event_name or created_at → 400', async () => {
    const user = await newUser();
    await expectError(ctx.client.events.create({ id: user.id, created_at: now() }), { status: 400 });
    await expectError(ctx.client.events.create({ id: user.id, event_name: 'no-time' }), { status: 400 });
  });

  ctx.test('summary=true counts events per name with first and last', async () => {
    const user = await newUser();
    const t = now() - 1000;
    for (const dt of [0, 10, 20]) await ctx.client.events.create({ id: user.id, event_name: 'opened-app', created_at: t + dt });
    await ctx.client.events.create({ id: user.id, event_name: 'paid', created_at: t + 5 });
    const res = await ctx.client.events.list({ type: 'user', intercom_user_id: user.id, summary: true });
    assert.equal(res.type, 'event.summary');
    const opened = res.events.find((e) => e.name === 'opened-app');
    assert.ok(opened, `summary lacks opened-app: ${JSON.stringify(res.events)}`);
    assert.equal(opened.count, 3);
    assert.equal(typeof opened.first, 'string');
    assert.equal(typeof opened.last, 'string');
    assert.ok(Date.parse(opened.first) <= Date.parse(opened.last), 'first <= last');
    assert.equal(Date.parse(opened.first) / 1000, t);
    assert.equal(Date.parse(opened.last) / 1000, t + 20);
    assert.equal(res.events.find((e) => e.name === 'paid')?.count, 1);
  });

  ctx.test('POST /events/summaries records counts that the summary reflects', async () => {
    const user = await newUser();
    const first = now() - 86400;
    const last = now() - 60;
    const { rawResponse } = await ctx.client.events
      .summaries({ user_id: user.external_id, event_summaries: { event_name: 'imported-logins', count: 5, first, last } })
      .withRawResponse();
    assert.equal(rawResponse.status, 200);
    const res = await ctx.client.events.list({ type: 'user', user_id: user.external_id, summary: true });
    const s = res.events.find((e) => e.name === 'imported-logins');
    assert.ok(s, `summary lacks imported-logins: ${JSON.stringify(res.events)}`);
    assert.equal(s.count, 5);
    assert.equal(Date.parse(s.first) / 1000, first);
    assert.equal(Date.parse(s.last) / 1000, last);
  });

  ctx.test('GET /events needs type=user and a user identifier', async () => {
    const user = await newUser();
    await expectError(ctx.client.events.list({ type: 'company', intercom_user_id: user.id }), { status: 400 });
    await expectError(ctx.client.events.list({ type: 'user' }), { status: 400 });
  });
});
