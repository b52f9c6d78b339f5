// Contacts: create / get / update / delete / archive / unarchive / block,
// find_by_external_id, cursor pagination, merge, sub-resources, uniqueness.

import assert from 'node:assert/strict';
import { IntercomError } from 'intercom-client';
import { assertRecent, assertUnique, collect, expectError, suite } from '../lib/harness.mjs';

suite('contacts', (ctx) => {
  const attrs = () =>
    ctx.once('attrs', async () => {
      const plan = ctx.unique('plan').replace(/-/g, '_');
      const seats = ctx.unique('seats').replace(/-/g, '_');
      await ctx.client.dataAttributes.create({ name: plan, model: 'contact', data_type: 'string' });
      await ctx.client.dataAttributes.create({ name: seats, model: 'contact', data_type: 'integer' });
      return { plan, seats };
    });

  const newUser = async (extra = {}) => {
    const externalId = ctx.unique('user');
    return ctx.client.contacts.create({ role: 'user', external_id: externalId, email: `${externalId}@example.com`, ...extra });
  };

  ctx.test('create a user with external_id and email', async () => {
    const externalId = ctx.unique('user');
    const email = `${externalId}@Example.com`.toLowerCase();
    const c = await ctx.client.contacts.create({
      role: 'user',
      external_id: externalId,
      email,
      name: 'Ada Lovelace',
      phone: '+441234567890',
      signed_up_at: 1700000000,
      last_seen_at: 1700000100,
      unsubscribed_from_emails: true,
    });
    assert.equal(c.type, 'contact');
    assert.equal(typeof c.id, 'string');
    assert.ok(c.id.length > 0);
    assert.equal(c.role, 'user');
    assert.equal(c.external_id, externalId);
    assert.equal(c.email, email);
    assert.equal(c.email_domain, 'example.com');
    assert.equal(c.name, 'Ada Lovelace');
    assert.equal(c.phone, '+441234567890');
    assert.equal(c.signed_up_at, 1700000000);
    assert.equal(c.last_seen_at, 1700000100);
    assert.equal(c.unsubscribed_from_emails, true);
    assertRecent(c.created_at, 'created_at');
    assertRecent(c.updated_at, 'updated_at');
    assert.deepEqual(c.custom_attributes, {});
    assert.equal(c.tags?.total_count ?? c.tags?.data?.length ?? 0, 0);
  });

  ctx.test('create a lead with role "lead"', async () => {
    const lead = await ctx.client.contacts.create({ role: 'lead', name: 'Lee Lead' });
    assert.equal(lead.type, 'contact');
    assert.equal(lead.role, 'lead');
    assert.equal(lead.name, 'Lee Lead');
    assert.equal(lead.external_id ?? null, null);
    const got = await ctx.client.contacts.find({ contact_id: lead.id });
    assert.equal(got.role, 'lead');
  });

  ctx.test('create with only an email makes a user', async () => {
    const email = `${ctx.unique('only-email')}@example.com`;
    const c = await ctx.client.contacts.create({ email });
    assert.equal(c.role, 'user');
    assert.equal(c.email, email);
  });

  ctx.test('get a contact round-trips every written field', async () => {
    const created = await newUser({ name: 'Round Trip', phone: '+15550001111' });
    const got = await ctx.client.contacts.find({ contact_id: created.id });
    for (const k of ['id', 'role', 'external_id', 'email', 'name', 'phone', 'created_at']) {
      assert.deepEqual(got[k], created[k], `field ${k}`);
    }
  });

  ctx.test('update name, email and custom_attributes; GET reflects the change', async () => {
    const { plan, seats } = await attrs();
    const c = await newUser();
    const newEmail = `${ctx.unique('renamed')}@example.org`;
    const updated = await ctx.client.contacts.update({
      contact_id: c.id,
      name: 'Grace Hopper',
      email: newEmail,
      custom_attributes: { [plan]: 'pro', [seats]: 12 },
    });
    assert.equal(updated.id, c.id);
    assert.equal(updated.name, 'Grace Hopper');
    assert.equal(updated.email, newEmail);
    assert.equal(updated.email_domain, 'example.org');
    assert.equal(updated.custom_attributes[plan], 'pro');
    assert.equal(updated.custom_attributes[seats], 12);
    assert.ok(updated.updated_at >= c.updated_at);

    // A partial update keeps the other custom attributes.
    await ctx.client.contacts.update({ contact_id: c.id, custom_attributes: { [seats]: 13 } });
    const got = await ctx.client.contacts.find({ contact_id: c.id });
    assert.equal(got.name, 'Grace Hopper');
    assert.equal(got.custom_attributes[plan], 'pro');
    assert.equal(got.custom_attributes[seats], 13);

    // null clears a custom attribute.
    const cleared = await ctx.client.contacts.update({ contact_id: c.id, custom_attributes: { [plan]: null } });
    assert.ok(cleared.custom_attributes[plan] === null || !(plan in cleared.custom_attributes), `cleared: ${JSON.stringify(cleared.custom_attributes)}`);
  });

  ctx.test('GET /contacts/find_by_external_id/{external_id}', async () => {
    const c = await newUser({ name: 'By External' });
    const found = await ctx.client.contacts.showContactByExternalId({ external_id: c.external_id });
    assert.equal(found.id, c.id);
    assert.equal(found.external_id, c.external_id);
    assert.equal(found.name, 'By External');
    await expectError(ctx.client.contacts.showContactByExternalId({ external_id: ctx.unique('nobody') }), { status: 404, code: /not_found/ });
  });

  ctx.test('a second user with the same external_id or email → 409 resource_conflict', async () => {
    const c = await newUser();
    const dupExt = await expectError(
      ctx.client.contacts.create({ role: 'user', external_id: c.external_id, email: `${ctx.unique('other')}@example.com` }),
      { status: 409, code: 'resource_conflict' },
    );
    assert.ok(dupExt instanceof IntercomError);
    await expectError(ctx.client.contacts.create({ role: 'user', external_id: ctx.unique('other'), email: c.email }), {
      status: 409,
      code: 'resource_conflict',
    });
    // Updating another user onto a taken external_id conflicts as well.
    const other = await newUser();
    await expectError(ctx.client.contacts.update({ contact_id: other.id, external_id: c.external_id }), { status: 409, code: 'resource_conflict' });
  });

  ctx.test('archive and unarchive', async () => {
    const c = await newUser();
    const archived = await ctx.client.contacts.archive({ contact_id: c.id });
    assert.deepEqual(
      { type: archived.type, id: archived.id, external_id: archived.external_id, archived: archived.archived },
      { type: 'contact', id: c.id, external_id: c.external_id, archived: true },
    );
    const unarchived = await ctx.client.contacts.unarchive({ contact_id: c.id });
    assert.equal(unarchived.type, 'contact');
    assert.equal(unarchived.id, c.id);
    assert.equal(unarchived.archived, false);
    const got = await ctx.client.contacts.find({ contact_id: c.id });
    assert.equal(got.id, c.id);
  });

  ctx.test('block a contact', async () => {
    const c = await newUser();
    const blocked = await ctx.client.contacts.blockContact({ contact_id: c.id });
    assert.equal(blocked.type, 'contact');
    assert.equal(blocked.id, c.id);
    assert.equal(blocked.blocked, true);
  });

  ctx.test('delete a contact; it is gone afterwards', async () => {
    const c = await newUser();
    const deleted = await ctx.client.contacts.delete({ contact_id: c.id });
    assert.equal(deleted.type, 'contact');
    assert.equal(deleted.id, c.id);
    assert.equal(deleted.external_id, c.external_id);
    assert.equal(deleted.deleted, true);
    await expectError(ctx.client.contacts.find({ contact_id: c.id }), { status: 404, code: /not_found/ });
    await expectError(ctx.client.contacts.delete({ contact_id: c.id }), { status: 404 });
    // The external_id is free again.
    const again = await ctx.client.contacts.create({ role: 'user', external_id: c.external_id });
    assert.notEqual(again.id, c.id);
  });

  ctx.test('unknown contact id → 404 error.list', async () => {
    await expectError(ctx.client.contacts.find({ contact_id: 'does-not-exist' }), { status: 404, code: /not_found/ });
    await expectError(ctx.client.contacts.update({ contact_id: 'does-not-exist', name: 'x' }), { status: 404 });
  });

  ctx.test('list: auto-pagination with per_page 50 sees 120 new contacts exactly once', async () => {
    const mine = new Set();
    const tag = ctx.unique('page');
    for (let i = 0; i < 120; i++) {
      const c = await ctx.client.contacts.create({ role: 'user', external_id: `${tag}-${i}` });
      mine.add(c.id);
    }
    const from = ctx.mark;
    const first = await ctx.client.contacts.list({ per_page: 50 });
    const total = first.response.total_count;
    assert.equal(first.response.type, 'list');
    assert.ok(total >= 120, `total_count ${total}`);
    assert.equal(first.data.length, 50);
    assert.equal(first.response.pages.type, 'pages');
    assert.equal(first.response.pages.per_page, 50);
    assert.equal(first.response.pages.page, 1);
    assert.equal(first.response.pages.total_pages, Math.ceil(total / 50));
    assert.ok(first.response.pages.next?.starting_after, 'first page has pages.next.starting_after');
    const all = await collect(first, { max: total + 10 });
    const ids = all.map((c) => c.id);
    assertUnique(ids, 'contact');
    assert.equal(ids.length, total, 'the pager yields total_count contacts');
    for (const id of mine) assert.ok(ids.includes(id), `contact ${id} never listed`);
    assert.equal(ctx.countRequests('GET', /^\/contacts$/, from), Math.ceil(total / 50), 'one request per page');
  });

  ctx.test('list: the last page has no pages.next; per_page is honoured', async () => {
    const page = await ctx.client.contacts.list({ per_page: 7 });
    assert.equal(page.data.length, 7);
    let p = page;
    let n = 1;
    while (p.hasNextPage()) {
      p = await p.getNextPage();
      n++;
      assert.ok(n < 200, 'too many pages');
    }
    assert.equal(p.response.pages.next ?? null, null);
    assert.equal(p.response.pages.page, n);
    assert.equal(n, p.response.pages.total_pages);
  });

  ctx.test('merge a lead into a user', async () => {
    const user = await newUser({ name: 'Merge Target' });
    const lead = await ctx.client.contacts.create({ role: 'lead', name: 'Merge Source' });
    const merged = await ctx.client.contacts.mergeLeadInUser({ from: lead.id, into: user.id });
    assert.equal(merged.type, 'contact');
    assert.equal(merged.id, user.id);
    assert.equal(merged.role, 'user');
    assert.equal(merged.external_id, user.external_id);
    assert.equal(merged.name, 'Merge Target', 'the user keeps its own values');
    const err = await expectError(ctx.client.contacts.find({ contact_id: lead.id }), {});
    assert.ok([404, 410].includes(err.statusCode), `merged lead answers ${err.statusCode}`);
  });

  ctx.test('merge rejects a user as the source', async () => {
    const a = await newUser();
    const b = await newUser();
    const err = await expectError(ctx.client.contacts.mergeLeadInUser({ from: a.id, into: b.id }), {});
    assert.ok([400, 422].includes(err.statusCode), `status ${err.statusCode}`);
  });

  ctx.test('sub-resources of a fresh contact are empty lists', async () => {
    const c = await newUser();
    const companies = await collect(await ctx.client.contacts.listAttachedCompanies({ contact_id: c.id }), { max: 10 });
    assert.deepEqual(companies, []);
    const segments = await ctx.client.contacts.listAttachedSegments({ contact_id: c.id });
    assert.equal(segments.type, 'list');
    assert.ok(Array.isArray(segments.data));
    const tags = await ctx.client.contacts.listAttachedTags({ contact_id: c.id });
    assert.equal(tags.type, 'list');
    assert.deepEqual(tags.data, []);
    const notes = await collect(await ctx.client.notes.list({ contact_id: c.id }), { max: 10 });
    assert.deepEqual(notes, []);
  });

  ctx.test('sub-resources of an unknown contact → NotFoundError', async () => {
    const control = await newUser();
    await ctx.client.contacts.listAttachedTags({ contact_id: control.id });
    await ctx.client.contacts.listAttachedSegments({ contact_id: control.id });
    await expectError(ctx.client.contacts.listAttachedTags({ contact_id: 'nope' }), { status: 404 });
    await expectError(ctx.client.contacts.listAttachedSegments({ contact_id: 'nope' }), { status: 404 });
  });

  ctx.test('owner_id follows the requested version: integer in 2.14, string in 2.16', async () => {
    const me = await ctx.me();
    const c = await newUser({ owner_id: Number(me.id) });
    assert.equal(c.owner_id, Number(me.id));
    const v14 = await ctx.client.contacts.find({ contact_id: c.id });
    assert.equal(v14.owner_id, Number(me.id));
    const v16 = await ctx.client.contacts.find({ contact_id: c.id }, { version: '2.16' });
    assert.equal(v16.owner_id, me.id);
    assert.equal(ctx.proxy.records.at(-1).intercomVersion, '2.16');
  });
});
