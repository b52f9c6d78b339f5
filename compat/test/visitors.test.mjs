// Visitors (the Messenger's anonymous identities): find, update, convert
// to a lead or a user through the SDK; visitors never appear as contacts.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { collect, expectError, suite } from '../lib/harness.mjs';

suite('visitors', (ctx) => {
  // A visitor as the Messenger creates it (Parley's own boot endpoint).
  const newVisitor = async (extra = {}) => {
    const me = await ctx.raw('GET', '/me');
    const boot = await ctx.raw('POST', '/messenger/v1/boot', { token: null, version: null, json: { app_id: me.json.app.id_code, ...extra } });
    assert.equal(boot.status, 200, boot.text);
    assert.equal(boot.json.contact.role, 'visitor');
    return { userId: boot.json.visitor_id, id: boot.json.contact.id, boot: boot.json };
  };

  ctx.test('find a visitor by user_id', async () => {
    const v = await newVisitor({ name: 'Curious Cat' });
    const got = await ctx.client.visitors.find({ user_id: v.userId });
    assert.equal(got.type, 'visitor');
    assert.equal(got.id, v.id);
    assert.equal(got.user_id, v.userId);
    assert.equal(got.name, 'Curious Cat');
    await expectError(ctx.client.visitors.find({ user_id: 'no-such-visitor' }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('update a visitor by id and by user_id', async () => {
    const v = await newVisitor();
    const a = await ctx.client.visitors.update({ id: v.id, name: 'Gareth Bale' });
    assert.equal(a.name, 'Gareth Bale');
    const b = await ctx.client.visitors.update({ user_id: v.userId, name: 'Christian Bale' });
    assert.equal(b.name, 'Christian Bale');
    assert.equal((await ctx.client.visitors.find({ user_id: v.userId })).name, 'Christian Bale');
    await expectError(ctx.client.visitors.update({ user_id: 'fail', name: 'Christian Fail' }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('convert a visitor to a lead, then it is a contact and no longer a visitor', async () => {
    const v = await newVisitor({ name: 'Lead To Be' });
    const lead = await ctx.client.visitors.mergeToContact({ type: 'lead', user: {}, visitor: { user_id: v.userId } });
    assert.equal(lead.type, 'contact');
    assert.equal(lead.role, 'lead');
    assert.equal(lead.name, 'Lead To Be');
    const found = await ctx.client.contacts.find({ contact_id: lead.id });
    assert.equal(found.id, lead.id);
    await expectError(ctx.client.visitors.find({ user_id: v.userId }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('convert a visitor into a user (created from the email, or an existing one)', async () => {
    const v = await newVisitor();
    const email = `${ctx.unique('visitor')}@example.com`;
    const user = await ctx.client.visitors.mergeToContact({ type: 'user', user: { email }, visitor: { id: v.id } });
    assert.equal(user.role, 'user');
    assert.equal(user.email, email);
    const existing = await ctx.client.contacts.create({ role: 'user', external_id: ctx.unique('ext') });
    const w = await newVisitor();
    const merged = await ctx.client.visitors.mergeToContact({ type: 'user', user: { id: existing.id }, visitor: { user_id: w.userId } });
    assert.equal(merged.id, existing.id);
  });

  ctx.test('visitors are not contacts: list and search never show them', async () => {
    const v = await newVisitor({ name: 'Invisible Visitor' });
    const all = await collect(await ctx.client.contacts.list({ per_page: 150 }));
    assert.ok(!all.some((c) => c.id === v.id || c.name === 'Invisible Visitor'), 'a visitor is listed as a contact');
    const found = await ctx.client.contacts.search({ query: { field: 'name', operator: '=', value: 'Invisible Visitor' } });
    assert.equal(found.data.length, 0);
    await expectError(ctx.client.contacts.find({ contact_id: v.id }), { status: 404 });
  });
});
