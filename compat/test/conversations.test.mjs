// Conversations through the SDK: create (contact), find (+ display_as=plaintext), list
// with auto-pagination, update (read, title, typed custom attributes), reply (admin
// comment/note, contact comment, id "last"), manage (close, open, snoozed, assignment to a
// teammate and a team), tags, attach/detach contacts, search with auto-pagination,
// runAssignmentRules, messages.create (in-app and email), the 2.16 priority vocabulary,
// conversation attributes (2.16) — and typed SDK errors. Every response is validated
// against the 2.14 (or 2.16) schema.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { assertRecent, assertUnique, collect, expectError, suite } from '../lib/harness.mjs';

suite('conversations', (ctx) => {
  const data = () =>
    ctx.once('data', async () => {
      const me = await ctx.me();
      const ada = await ctx.client.contacts.create({ email: `${ctx.unique('ada')}@example.com`, external_id: ctx.unique('ada') });
      const bob = await ctx.client.contacts.create({ role: 'lead', email: `${ctx.unique('bob')}@example.com` });
      const started = await ctx.client.conversations.create({ from: { type: 'user', id: ada.id }, body: 'Hello, I have a <b>question</b>' });
      return { me, ada, bob, started, id: started.conversation_id };
    });

  const attr = (name, data_type, extra = {}) =>
    ctx.once(`attr-${name}`, async () => {
      const res = await ctx.raw('POST', '/conversations/attributes', { json: { name, data_type, ...extra }, version: '2.16' });
      assert.equal(res.status, 200, res.text);
      return res.json;
    });

  ctx.test('conversations.create answers the user_message; find shows the conversation', async () => {
    const d = await data();
    assert.equal(d.started.type, 'user_message');
    assert.equal(d.started.message_type, 'inapp');
    assert.match(d.started.conversation_id, /^\d+$/);
    assertRecent(d.started.created_at, 'created_at');
    const c = await ctx.client.conversations.find({ conversation_id: d.id });
    assert.equal(c.type, 'conversation');
    assert.equal(c.id, d.id);
    assert.equal(c.state, 'open');
    assert.equal(c.open, true);
    assert.equal(c.source.delivered_as, 'customer_initiated');
    assert.equal(c.source.author.id, d.ada.id);
    assert.equal(c.source.body, '<p>Hello, I have a &lt;b&gt;question&lt;/b&gt;</p>');
    assert.deepEqual(c.contacts.contacts.map((x) => x.id), [d.ada.id]);
    const plain = await ctx.client.conversations.find({ conversation_id: d.id, display_as: 'plaintext' });
    assert.equal(plain.source.body, 'Hello, I have a <b>question</b>');
  });

  ctx.test('conversations.list pages through every conversation with for await', async () => {
    const d = await data();
    const ids = [d.id];
    for (let i = 0; i < 24; i++) {
      const m = await ctx.client.conversations.create({ from: { type: 'user', id: d.bob.id }, body: `message ${i}` });
      ids.push(m.conversation_id);
    }
    const mark = ctx.mark;
    const items = await collect(await ctx.client.conversations.list({ per_page: 10 }));
    assertUnique(items.map((c) => c.id), 'conversation');
    for (const id of ids) assert.ok(items.some((c) => c.id === id), `conversation ${id} missing from the list`);
    assert.ok(ctx.countRequests('GET', /^\/conversations(\?|$)/, mark) >= 3, 'the pager should have fetched several pages');
    for (let i = 1; i < items.length; i++) assert.ok(Number(items[i - 1].id) > Number(items[i].id), 'newest first');
  });

  ctx.test('reply: admin comment and note, contact comment, and the id "last"', async () => {
    const d = await data();
    let c = await ctx.client.conversations.reply({
      conversation_id: d.id,
      body: { message_type: 'comment', type: 'admin', admin_id: d.me.id, body: 'How can I help?' },
    });
    let parts = c.conversation_parts.conversation_parts;
    assert.equal(parts.at(-1).part_type, 'comment');
    assert.equal(parts.at(-1).author.type, 'admin');
    c = await ctx.client.conversations.reply({ conversation_id: d.id, body: { message_type: 'note', type: 'admin', admin_id: d.me.id, body: 'VIP' } });
    assert.equal(c.conversation_parts.conversation_parts.at(-1).part_type, 'note');
    c = await ctx.client.conversations.reply({
      conversation_id: 'last',
      body: { message_type: 'comment', type: 'user', intercom_user_id: d.ada.id, body: 'Pricing, please' },
    });
    assert.equal(c.id, d.id);
    parts = c.conversation_parts.conversation_parts;
    assert.equal(parts.at(-1).author.id, d.ada.id);
    assert.ok(c.statistics.first_admin_reply_at > 0);
  });

  ctx.test('manage: close, open, snooze, assign to a teammate and to a team', async () => {
    const d = await data();
    let c = await ctx.client.conversations.manage({ conversation_id: d.id, body: { message_type: 'close', type: 'admin', admin_id: d.me.id, body: 'Done' } });
    assert.equal(c.state, 'closed');
    c = await ctx.client.conversations.manage({ conversation_id: d.id, body: { message_type: 'open', admin_id: d.me.id } });
    assert.equal(c.state, 'open');
    const until = Math.floor(Date.now() / 1000) + 3600;
    c = await ctx.client.conversations.manage({ conversation_id: d.id, body: { message_type: 'snoozed', admin_id: d.me.id, snoozed_until: until } });
    assert.equal(c.state, 'snoozed');
    assert.equal(c.snoozed_until, until);
    c = await ctx.client.conversations.manage({
      conversation_id: d.id,
      body: { message_type: 'assignment', type: 'admin', admin_id: d.me.id, assignee_id: d.me.id },
    });
    assert.equal(c.admin_assignee_id, Number(d.me.id));
    const team = await ctx.raw('POST', '/teams', { json: { name: ctx.unique('Support') } });
    assert.equal(team.status, 200, team.text);
    c = await ctx.client.conversations.manage({
      conversation_id: d.id,
      body: { message_type: 'assignment', type: 'team', admin_id: d.me.id, assignee_id: team.json.id },
    });
    assert.equal(c.team_assignee_id, Number(team.json.id));
    await expectError(
      ctx.client.conversations.manage({ conversation_id: d.id, body: { message_type: 'assignment', type: 'team', admin_id: d.me.id, assignee_id: '987654321' } }),
      { status: 400, code: 'parameter_invalid' },
    );
    await expectError(ctx.client.conversations.manage({ conversation_id: '987654321', body: { message_type: 'close', type: 'admin', admin_id: d.me.id } }), {
      status: 404, cls: Intercom.NotFoundError, code: 'not_found',
    });
  });

  ctx.test('update: read, title and typed custom attributes; unknown or wrongly typed ones → 400', async () => {
    const d = await data();
    const seats = await attr(ctx.unique('seats').replace(/-/g, '_'), 'integer');
    const plan = await attr(ctx.unique('plan').replace(/-/g, '_'), 'list', { options: [{ label: 'free' }, { label: 'pro' }] });
    const c = await ctx.client.conversations.update({
      conversation_id: d.id, read: true, title: 'Pricing question', custom_attributes: { [seats.name]: 12, [plan.name]: 'pro' },
    });
    assert.equal(c.read, true);
    assert.equal(c.title, 'Pricing question');
    assert.equal(c.custom_attributes[seats.name], 12);
    assert.equal(c.custom_attributes[plan.name], 'pro');
    await expectError(ctx.client.conversations.update({ conversation_id: d.id, custom_attributes: { [seats.name]: 'many' } }), { status: 400, code: 'parameter_invalid', mentions: seats.name });
    await expectError(ctx.client.conversations.update({ conversation_id: d.id, custom_attributes: { [plan.name]: 'gold' } }), { status: 400, code: 'parameter_invalid' });
    await expectError(ctx.client.conversations.update({ conversation_id: d.id, custom_attributes: { nope: 1 } }), { status: 400, code: 'parameter_invalid', mentions: 'nope' });
    const again = await ctx.client.conversations.find({ conversation_id: d.id });
    assert.equal(again.custom_attributes[seats.name], 12, 'a refused update changes nothing');
    await expectError(ctx.client.conversations.update({ conversation_id: '987654321', read: true }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('priority in the 2.16 vocabulary (request and response validated against 2.16)', async () => {
    const d = await data();
    const res = await ctx.raw('PUT', `/conversations/${d.id}`, { json: { priority: 'urgent' }, version: '2.16' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.priority, 'urgent');
    const c16 = await ctx.client.conversations.find({ conversation_id: d.id }, { version: '2.16' });
    assert.equal(c16.priority, 'urgent');
    const c14 = await ctx.client.conversations.find({ conversation_id: d.id });
    assert.equal(c14.priority, 'priority');
  });

  ctx.test('tags.tagConversation and untagConversation', async () => {
    const d = await data();
    const tag = await ctx.client.tags.create({ name: ctx.unique('Billing') });
    const t = await ctx.client.tags.tagConversation({ conversation_id: d.id, id: tag.id, admin_id: d.me.id });
    assert.equal(t.id, tag.id);
    let c = await ctx.client.conversations.find({ conversation_id: d.id });
    assert.ok(c.tags.tags.some((x) => x.id === tag.id));
    await ctx.client.tags.untagConversation({ conversation_id: d.id, tag_id: tag.id, admin_id: d.me.id });
    c = await ctx.client.conversations.find({ conversation_id: d.id });
    assert.ok(!c.tags.tags.some((x) => x.id === tag.id));
    await expectError(ctx.client.tags.tagConversation({ conversation_id: d.id, id: '987654321', admin_id: d.me.id }), { status: 404, code: 'tag_not_found' });
  });

  ctx.test('attachContactAsAdmin and detachContactAsAdmin', async () => {
    const d = await data();
    let c = await ctx.client.conversations.attachContactAsAdmin({ conversation_id: d.id, admin_id: d.me.id, customer: { intercom_user_id: d.bob.id } });
    assert.deepEqual(c.contacts.contacts.map((x) => x.id), [d.ada.id, d.bob.id]);
    c = await ctx.client.conversations.detachContactAsAdmin({ conversation_id: d.id, contact_id: d.bob.id, admin_id: d.me.id });
    assert.deepEqual(c.contacts.contacts.map((x) => x.id), [d.ada.id]);
  });

  ctx.test('conversations.search: filters, nesting and auto-pagination', async () => {
    const d = await data();
    const items = await collect(
      await ctx.client.conversations.search({ query: { field: 'contact_ids', operator: '=', value: d.bob.id }, pagination: { per_page: 7 } }),
    );
    assertUnique(items.map((c) => c.id), 'conversation');
    assert.ok(items.length >= 24, `found ${items.length} of bob's conversations`);
    const mine = await collect(
      await ctx.client.conversations.search({
        query: {
          operator: 'AND',
          value: [
            { field: 'contact_ids', operator: '=', value: d.ada.id },
            { operator: 'OR', value: [{ field: 'source.body', operator: '~', value: 'question' }, { field: 'state', operator: '=', value: 'closed' }] },
          ],
        },
      }),
    );
    assert.ok(mine.some((c) => c.id === d.id), 'ada\'s conversation is found');
    await expectError(ctx.client.conversations.search({ query: { field: 'nope', operator: '=', value: 'x' } }), { status: 400, code: 'parameter_invalid' });
  });

  ctx.test('runAssignmentRules routes an existing conversation by the rules', async () => {
    const d = await data();
    const team = await ctx.raw('POST', '/teams', { json: { name: ctx.unique('Routing') } });
    const word = ctx.unique('zebra').replace(/-/g, '');
    const rule = await ctx.raw('POST', '/assignment_rules', {
      json: { name: 'zebra', team_id: Number(team.json.id), condition: { field: 'source.body', operator: '~', value: word } },
    });
    assert.equal(rule.status, 200, rule.text);
    // A new conversation is routed on arrival.
    const m = await ctx.client.conversations.create({ from: { type: 'user', id: d.ada.id }, body: `about ${word}` });
    const routed = await ctx.client.conversations.find({ conversation_id: m.conversation_id });
    assert.equal(routed.team_assignee_id, Number(team.json.id));
    // An existing one by running the rules again.
    await ctx.client.conversations.manage({ conversation_id: m.conversation_id, body: { message_type: 'assignment', type: 'team', admin_id: d.me.id, assignee_id: '0' } });
    const c = await ctx.client.conversations.runAssignmentRules({ conversation_id: m.conversation_id });
    assert.equal(c.team_assignee_id, Number(team.json.id));
  });

  ctx.test('messages.create: in-app and email messages from a teammate start conversations', async () => {
    const d = await data();
    const m = await ctx.client.messages.create({ message_type: 'in_app', body: 'Welcome!', from: { type: 'admin', id: Number(d.me.id) }, to: { type: 'user', id: d.ada.id } });
    assert.equal(m.type, 'admin_message');
    assert.equal(m.message_type, 'inapp');
    const c = await ctx.client.conversations.find({ conversation_id: m.conversation_id });
    assert.equal(c.source.delivered_as, 'admin_initiated');
    assert.equal(c.source.author.type, 'admin');
    const e = await ctx.client.messages.create({
      message_type: 'email', subject: 'Hello', body: 'Hi there', template: 'plain', from: { type: 'admin', id: Number(d.me.id) }, to: { type: 'user', id: d.ada.id },
    });
    assert.equal(e.message_type, 'email');
    assert.equal(e.subject, 'Hello');
    await expectError(
      ctx.client.messages.create({ message_type: 'email', body: 'no subject', template: 'plain', from: { type: 'admin', id: Number(d.me.id) }, to: { type: 'user', id: d.ada.id } }),
      { status: 422, code: 'parameter_not_found' },
    );
  });

  ctx.test('conversation attributes (2.16): list, get, update, options, archive', async () => {
    const plan = await attr(ctx.unique('tier').replace(/-/g, '_'), 'list', { options: [{ label: 'a' }] });
    const list = await ctx.raw('GET', '/conversations/attributes', { version: '2.16' });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.json.data.some((a) => a.id === plan.id));
    const opt = await ctx.raw('POST', `/conversations/attributes/${plan.id}/options`, { json: { label: 'b' }, version: '2.16' });
    assert.equal(opt.status, 200, opt.text);
    assert.deepEqual(opt.json.options.map((o) => o.label), ['a', 'b']);
    const upd = await ctx.raw('PUT', `/conversations/attributes/${plan.id}`, { json: { description: 'Tier' }, version: '2.16' });
    assert.equal(upd.json.description, 'Tier');
    const del = await ctx.raw('DELETE', `/conversations/attributes/${plan.id}`, { version: '2.16' });
    assert.equal(del.json.archived, true);
    const missing = await ctx.raw('GET', '/conversations/attributes/987654321', { version: '2.16' });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errors[0].code, 'conversation_attribute_not_found');
  });

  ctx.test('typed errors: unknown conversation and unknown contact', async () => {
    await expectError(ctx.client.conversations.find({ conversation_id: '987654321' }), { status: 404, cls: Intercom.NotFoundError, code: 'not_found' });
    await expectError(ctx.client.conversations.create({ from: { type: 'user', id: '0123456789abcdef01234567' }, body: 'hi' }), { status: 404, cls: Intercom.NotFoundError });
    await expectError(ctx.client.conversations.reply({ conversation_id: '987654321', body: { message_type: 'comment', type: 'admin', admin_id: '1', body: 'x' } }), {
      status: 404, cls: Intercom.NotFoundError,
    });
  });
});
