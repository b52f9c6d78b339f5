// Segments. Parley extension (raw HTTP): POST /segments, PUT /segments/{id},
// DELETE /segments/{id}. Then the SDK: segments.list(include_count), segments.find,
// contact segments and search by segment_id.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { assertErrorList, collect, expectError, suite } from '../lib/harness.mjs';

suite('segments', (ctx) => {
  /** Users and a lead under one e-mail domain, plus a user elsewhere. */
  const people = () =>
    ctx.once('people', async () => {
      const domain = `${ctx.unique('seg')}.example`;
      const mk = (local, role = 'user') =>
        role === 'lead'
          ? ctx.client.contacts.create({ role: 'lead', email: `${local}@${domain}`, name: local })
          : ctx.client.contacts.create({ role: 'user', external_id: ctx.unique(local), email: `${local}@${domain}`, name: local });
      const alice = await mk('alice');
      const bob = await mk('bob');
      const lead = await mk('lena', 'lead');
      const outsiderExt = ctx.unique('outsider');
      const outsider = await ctx.client.contacts.create({ role: 'user', external_id: outsiderExt, email: `${outsiderExt}@elsewhere.example` });
      return { domain, alice, bob, lead, outsider };
    });

  const createSegment = async (body, expectStatus = [200, 201]) => {
    const res = await ctx.raw('POST', '/segments', { json: body });
    assert.ok(expectStatus.includes(res.status), `POST /segments → ${res.status}: ${res.text}`);
    return res.json;
  };

  const byDomain = (domain) => ({ field: 'email', operator: '$', value: `@${domain}` });

  ctx.test('POST /segments creates a segment object', async () => {
    const { domain } = await people();
    const name = ctx.unique('Domain users');
    const seg = await createSegment({ name, filter: byDomain(domain), person_type: 'user' });
    assert.equal(seg.type, 'segment');
    assert.equal(typeof seg.id, 'string');
    assert.equal(seg.name, name);
    assert.equal(seg.person_type, 'user');
    assert.ok(Number.isInteger(seg.created_at));
    assert.ok(Number.isInteger(seg.updated_at));
  });

  ctx.test('invalid segment definitions are rejected with error.list', async () => {
    const missingName = await ctx.raw('POST', '/segments', { json: { filter: { field: 'email', operator: '=', value: 'x' } } });
    assert.equal(missingName.status, 400, missingName.text);
    assertErrorList(missingName.json);
    const badFilter = await ctx.raw('POST', '/segments', { json: { name: ctx.unique('bad'), filter: { field: 'email', operator: 'LIKE', value: 'x' } } });
    assert.equal(badFilter.status, 400, badFilter.text);
    assertErrorList(badFilter.json);
    const badType = await ctx.raw('POST', '/segments', { json: { name: ctx.unique('bad'), filter: byDomain('x.example'), person_type: 'robot' } });
    assert.equal(badType.status, 400, badType.text);
  });

  ctx.test('segments.list and segments.find, with counts', async () => {
    const { domain } = await people();
    const users = await createSegment({ name: ctx.unique('Users'), filter: byDomain(domain), person_type: 'user' });
    const leads = await createSegment({ name: ctx.unique('Leads'), filter: byDomain(domain), person_type: 'contact' });

    const list = await ctx.client.segments.list({ include_count: true });
    assert.equal(list.type, 'segment.list');
    const u = list.segments.find((s) => s.id === users.id);
    const l = list.segments.find((s) => s.id === leads.id);
    assert.ok(u && l, `segments missing from ${JSON.stringify(list.segments.map((s) => s.id))}`);
    assert.equal(u.count, 2, 'two users match');
    assert.equal(l.count, 1, 'one lead matches');
    assert.equal(u.name, users.name);

    const found = await ctx.client.segments.find({ segment_id: users.id });
    assert.equal(found.type, 'segment');
    assert.equal(found.id, users.id);
    assert.equal(found.name, users.name);
    assert.equal(found.person_type, 'user');

    const withoutCount = await ctx.client.segments.list();
    const u2 = withoutCount.segments.find((s) => s.id === users.id);
    assert.ok(u2);
    assert.ok(u2.count === undefined || u2.count === null, 'count only with include_count=true');
  });

  ctx.test('a contact lists the segments it belongs to', async () => {
    const { domain, alice, outsider } = await people();
    const seg = await createSegment({ name: ctx.unique('Member check'), filter: byDomain(domain), person_type: 'user' });
    const ofAlice = await ctx.client.contacts.listAttachedSegments({ contact_id: alice.id });
    assert.equal(ofAlice.type, 'list');
    assert.ok(ofAlice.data.some((s) => s.id === seg.id && s.type === 'segment'), JSON.stringify(ofAlice.data));
    const ofOutsider = await ctx.client.contacts.listAttachedSegments({ contact_id: outsider.id });
    assert.ok(!ofOutsider.data.some((s) => s.id === seg.id));
  });

  ctx.test('search contacts by segment_id', async () => {
    const { domain, alice, bob } = await people();
    const seg = await createSegment({ name: ctx.unique('Search seg'), filter: byDomain(domain), person_type: 'user' });
    const found = await collect(await ctx.client.contacts.search({ query: { field: 'segment_id', operator: '=', value: seg.id } }), { max: 100 });
    assert.deepEqual(found.map((c) => c.id).sort(), [alice.id, bob.id].sort());
  });

  ctx.test('membership follows contact changes', async () => {
    const { domain } = await people();
    const seg = await createSegment({ name: ctx.unique('Live'), filter: byDomain(domain), person_type: 'user' });
    const ext = ctx.unique('late');
    const late = await ctx.client.contacts.create({ role: 'user', external_id: ext, email: `${ext}@elsewhere.example` });
    assert.ok(!(await ctx.client.contacts.listAttachedSegments({ contact_id: late.id })).data.some((s) => s.id === seg.id));
    await ctx.client.contacts.update({ contact_id: late.id, email: `late@${domain}` });
    assert.ok((await ctx.client.contacts.listAttachedSegments({ contact_id: late.id })).data.some((s) => s.id === seg.id));
    // Restore for the counts asserted elsewhere.
    await ctx.client.contacts.delete({ contact_id: late.id });
  });

  ctx.test('PUT /segments/{id} renames and re-filters', async () => {
    const { domain, alice } = await people();
    const seg = await createSegment({ name: ctx.unique('Before'), filter: byDomain(domain), person_type: 'user' });
    const newName = ctx.unique('After');
    const res = await ctx.raw('PUT', `/segments/${seg.id}`, { json: { name: newName, filter: { field: 'email', operator: '=', value: alice.email } } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.type, 'segment');
    assert.equal(res.json.id, seg.id);
    assert.equal(res.json.name, newName);
    const found = await ctx.client.segments.find({ segment_id: seg.id });
    assert.equal(found.name, newName);
    const listed = (await ctx.client.segments.list({ include_count: true })).segments.find((s) => s.id === seg.id);
    assert.equal(listed.count, 1);
    const members = await collect(await ctx.client.contacts.search({ query: { field: 'segment_id', operator: '=', value: seg.id } }), { max: 100 });
    assert.deepEqual(members.map((c) => c.id), [alice.id]);
    const missing = await ctx.raw('PUT', '/segments/987654321', { json: { name: 'x' } });
    assert.equal(missing.status, 404);
    assertErrorList(missing.json);
  });

  ctx.test('DELETE /segments/{id}; then find → NotFoundError', async () => {
    const { domain } = await people();
    const seg = await createSegment({ name: ctx.unique('Doomed'), filter: byDomain(domain) });
    const res = await ctx.raw('DELETE', `/segments/${seg.id}`);
    assert.ok([200, 204].includes(res.status), `DELETE → ${res.status}: ${res.text}`);
    if (res.status === 200 && res.json) {
      assert.equal(res.json.id, seg.id);
      assert.equal(res.json.deleted, true);
    }
    await expectError(ctx.client.segments.find({ segment_id: seg.id }), { status: 404, cls: Intercom.NotFoundError });
    assert.ok(!(await ctx.client.segments.list()).segments.some((s) => s.id === seg.id));
    const again = await ctx.raw('DELETE', `/segments/${seg.id}`);
    assert.equal(again.status, 404);
  });

  ctx.test('segments.find for an unknown id → NotFoundError', async () => {
    const control = await createSegment({ name: ctx.unique('Control'), filter: byDomain('control.example') });
    assert.equal((await ctx.client.segments.find({ segment_id: control.id })).id, control.id);
    await expectError(ctx.client.segments.find({ segment_id: '987654321' }), { status: 404, cls: Intercom.NotFoundError });
  });
});
