// Notes on contacts: create, list (page-number pager), get.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { assertRecent, assertUnique, collect, expectError, suite } from '../lib/harness.mjs';

suite('notes', (ctx) => {
  const newContact = () => {
    const ext = ctx.unique('note-user');
    return ctx.client.contacts.create({ role: 'user', external_id: ext, email: `${ext}@example.com` });
  };

  ctx.test('create a note on a contact, authored by an admin', async () => {
    const me = await ctx.me();
    const contact = await newContact();
    const note = await ctx.client.notes.create({ contact_id: contact.id, body: '<p>Called about the <b>renewal</b></p>', admin_id: me.id });
    assert.equal(note.type, 'note');
    assert.equal(typeof note.id, 'string');
    assert.match(note.body, /Called about the/);
    assert.match(note.body, /renewal/);
    assert.equal(note.contact?.id, contact.id);
    assert.equal(note.contact?.type, 'contact');
    assert.equal(note.author?.id, me.id);
    assert.equal(note.author?.type, 'admin');
    assertRecent(note.created_at, 'created_at');
  });

  ctx.test('without admin_id the note is authored by the token owner', async () => {
    const me = await ctx.me();
    const contact = await newContact();
    const note = await ctx.client.notes.create({ contact_id: contact.id, body: 'plain text note' });
    assert.equal(note.author?.id, me.id);
    assert.match(note.body, /plain text note/);
  });

  ctx.test('get a note by id', async () => {
    const contact = await newContact();
    const note = await ctx.client.notes.create({ contact_id: contact.id, body: 'find me' });
    const got = await ctx.client.notes.find({ note_id: note.id });
    assert.equal(got.id, note.id);
    assert.equal(got.body, note.body);
    assert.equal(got.contact?.id, contact.id);
    assert.equal(got.created_at, note.created_at);
    await expectError(ctx.client.notes.find({ note_id: 987654321 }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('list a contact\u2019s notes across pages', async () => {
    const contact = await newContact();
    const other = await newContact();
    await ctx.client.notes.create({ contact_id: other.id, body: 'someone else' });
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await ctx.client.notes.create({ contact_id: contact.id, body: `note ${i}` }));
    const from = ctx.mark;
    const first = await ctx.client.notes.list({ contact_id: contact.id, per_page: 2 });
    assert.equal(first.response.type, 'list');
    assert.equal(first.response.total_count, 5);
    assert.equal(first.data.length, 2);
    const all = await collect(first, { max: 20 });
    assertUnique(all.map((n) => n.id), 'note');
    assert.deepEqual(all.map((n) => n.id).sort(), created.map((n) => n.id).sort());
    for (const n of all) assert.equal(n.contact?.id, contact.id);
    assert.ok(ctx.countRequests('GET', /^\/contacts\/[^/]+\/notes$/, from) >= 3, 'several pages were fetched');
    // Intercom lists the newest note first.
    const times = all.map((n) => n.created_at);
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
  });

  ctx.test('the contact counts its notes', async () => {
    const contact = await newContact();
    await ctx.client.notes.create({ contact_id: contact.id, body: 'one' });
    await ctx.client.notes.create({ contact_id: contact.id, body: 'two' });
    const c = await ctx.client.contacts.find({ contact_id: contact.id });
    assert.equal(c.notes?.total_count, 2);
    assert.equal(c.notes.data.length, 2);
  });

  ctx.test('notes on an unknown contact → NotFoundError', async () => {
    const control = await newContact();
    await ctx.client.notes.create({ contact_id: control.id, body: 'control' });
    await expectError(ctx.client.notes.create({ contact_id: 'no-such-contact', body: 'x' }), { status: 404, cls: Intercom.NotFoundError });
    await expectError(ctx.client.notes.list({ contact_id: 'no-such-contact' }), { status: 404, cls: Intercom.NotFoundError });
  });
});
