// Tags: create, rename (create with id), find, list, delete,
// tag / untag contacts and companies.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { expectError, suite } from '../lib/harness.mjs';

suite('tags', (ctx) => {
  const newContact = () => {
    const ext = ctx.unique('tag-user');
    return ctx.client.contacts.create({ role: 'user', external_id: ext, email: `${ext}@example.com` });
  };
  const newCompany = () => {
    const id = ctx.unique('tag-co');
    return ctx.client.companies.createOrUpdate({ company_id: id, name: `Co ${id}` });
  };

  ctx.test('create, find and list a tag', async () => {
    const name = ctx.unique('VIP');
    const tag = await ctx.client.tags.create({ name });
    assert.equal(tag.type, 'tag');
    assert.equal(typeof tag.id, 'string');
    assert.match(tag.id, /^\d+$/, 'tag ids are numeric strings');
    assert.equal(tag.name, name);
    const found = await ctx.client.tags.find({ tag_id: tag.id });
    assert.deepEqual({ type: found.type, id: found.id, name: found.name }, { type: 'tag', id: tag.id, name });
    const list = await ctx.client.tags.list();
    assert.equal(list.type, 'list');
    const listed = list.data.find((t) => t.id === tag.id);
    assert.ok(listed, 'new tag not listed');
    assert.equal(listed.name, name);
  });

  ctx.test('creating an existing name returns the same tag', async () => {
    const name = ctx.unique('Same');
    const a = await ctx.client.tags.create({ name });
    const b = await ctx.client.tags.create({ name });
    assert.equal(b.id, a.id);
    assert.equal((await ctx.client.tags.list()).data.filter((t) => t.name === name).length, 1);
  });

  ctx.test('rename a tag by creating with its id', async () => {
    const tag = await ctx.client.tags.create({ name: ctx.unique('Old') });
    const newName = ctx.unique('New');
    const renamed = await ctx.client.tags.create({ name: newName, id: tag.id });
    assert.equal(renamed.id, tag.id);
    assert.equal(renamed.name, newName);
    assert.equal((await ctx.client.tags.find({ tag_id: tag.id })).name, newName);
    await expectError(ctx.client.tags.create({ name: ctx.unique('x'), id: '987654321' }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('tag and untag a contact', async () => {
    const tag = await ctx.client.tags.create({ name: ctx.unique('Contact tag') });
    const contact = await newContact();
    const applied = await ctx.client.tags.tagContact({ contact_id: contact.id, id: tag.id });
    assert.equal(applied.type, 'tag');
    assert.equal(applied.id, tag.id);
    assert.equal(applied.name, tag.name);

    const attached = await ctx.client.contacts.listAttachedTags({ contact_id: contact.id });
    assert.equal(attached.type, 'list');
    assert.deepEqual(attached.data.map((t) => [t.id, t.name]), [[tag.id, tag.name]]);

    const c = await ctx.client.contacts.find({ contact_id: contact.id });
    assert.deepEqual(c.tags.data.map((t) => t.id), [tag.id]);
    assert.equal(c.tags.data[0].type, 'tag');

    // Tagging twice is idempotent.
    await ctx.client.tags.tagContact({ contact_id: contact.id, id: tag.id });
    assert.equal((await ctx.client.contacts.listAttachedTags({ contact_id: contact.id })).data.length, 1);

    const removed = await ctx.client.tags.untagContact({ contact_id: contact.id, tag_id: tag.id });
    assert.equal(removed.type, 'tag');
    assert.equal(removed.id, tag.id);
    assert.deepEqual((await ctx.client.contacts.listAttachedTags({ contact_id: contact.id })).data, []);
  });

  ctx.test('tagging with unknown tag or contact → 404', async () => {
    const contact = await newContact();
    await expectError(ctx.client.tags.tagContact({ contact_id: contact.id, id: '987654321' }), { status: 404, cls: Intercom.NotFoundError });
    const tag = await ctx.client.tags.create({ name: ctx.unique('t') });
    await expectError(ctx.client.tags.tagContact({ contact_id: 'no-such-contact', id: tag.id }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('tag several users at once with POST /tags {name, users}', async () => {
    const a = await newContact();
    const b = await newContact();
    const name = ctx.unique('Bulk users');
    const tag = await ctx.client.tags.create({ name, users: [{ id: a.id }, { id: b.id }] });
    assert.equal(tag.type, 'tag');
    assert.equal(tag.name, name);
    for (const c of [a, b]) {
      const tags = await ctx.client.contacts.listAttachedTags({ contact_id: c.id });
      assert.ok(tags.data.some((t) => t.id === tag.id), `contact ${c.id} not tagged`);
    }
  });

  ctx.test('tag and untag companies with POST /tags {name, companies}', async () => {
    const a = await newCompany();
    const b = await newCompany();
    const name = ctx.unique('Bulk companies');
    const tag = await ctx.client.tags.create({ name, companies: [{ company_id: a.company_id }, { id: b.id }] });
    assert.equal(tag.type, 'tag');
    assert.equal(tag.name, name);
    for (const co of [a, b]) {
      const got = await ctx.client.companies.find({ company_id: co.id });
      assert.equal(got.tags?.type, 'tag.list');
      assert.ok(got.tags.tags.some((t) => t.id === tag.id), `company ${co.id} not tagged: ${JSON.stringify(got.tags)}`);
    }
    const untagged = await ctx.client.tags.create({ name, companies: [{ company_id: a.company_id, untag: true }] });
    assert.equal(untagged.id, tag.id);
    const after = await ctx.client.companies.find({ company_id: a.id });
    assert.ok(!(after.tags?.tags ?? []).some((t) => t.id === tag.id), 'company still tagged after untag');
    const stillB = await ctx.client.companies.find({ company_id: b.id });
    assert.ok(stillB.tags.tags.some((t) => t.id === tag.id), 'untagging a must not untag b');
  });

  ctx.test('delete a tag; it disappears from contacts and lookups', async () => {
    const tag = await ctx.client.tags.create({ name: ctx.unique('Doomed') });
    const contact = await newContact();
    await ctx.client.tags.tagContact({ contact_id: contact.id, id: tag.id });
    await ctx.client.tags.delete({ tag_id: tag.id });
    await expectError(ctx.client.tags.find({ tag_id: tag.id }), { status: 404, cls: Intercom.NotFoundError });
    assert.ok(!(await ctx.client.tags.list()).data.some((t) => t.id === tag.id));
    assert.deepEqual((await ctx.client.contacts.listAttachedTags({ contact_id: contact.id })).data, []);
    await expectError(ctx.client.tags.delete({ tag_id: tag.id }), { status: 404, cls: Intercom.NotFoundError });
  });
});
