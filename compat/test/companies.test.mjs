// Companies: upsert by company_id, get, update, delete, list (page number), scroll,
// retrieve by company_id / name, attach / detach contacts.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { assertRecent, assertUnique, collect, expectError, suite, walkPages } from '../lib/harness.mjs';

/** GET /companies?company_id=|name= answers a company list in 2.14 (the SDK also accepts a bare company). */
function firstCompany(res) {
  if (res.type === 'company') return res;
  assert.equal(res.type, 'list', `unexpected type ${res.type}`);
  return res.data[0];
}

suite('companies', (ctx) => {
  const tierAttr = () =>
    ctx.once('tier', async () => {
      const attr = await ctx.client.dataAttributes.create({ name: ctx.unique('tier').replace(/-/g, '_'), model: 'company', data_type: 'string' });
      return attr.name;
    });

  const newCompany = (extra = {}) => {
    const companyId = ctx.unique('co');
    return ctx.client.companies.createOrUpdate({ company_id: companyId, name: `Company ${companyId}`, ...extra });
  };

  const newContact = () => {
    const ext = ctx.unique('co-user');
    return ctx.client.contacts.create({ role: 'user', external_id: ext, email: `${ext}@example.com` });
  };

  ctx.test('create a company with every writable field', async () => {
    const tier = await tierAttr();
    const companyId = ctx.unique('acme');
    const c = await ctx.client.companies.createOrUpdate({
      company_id: companyId,
      name: 'Acme Inc',
      plan: 'Enterprise',
      size: 250,
      website: 'https://acme.example',
      industry: 'Manufacturing',
      monthly_spend: 999,
      remote_created_at: 1600000000,
      custom_attributes: { [tier]: 'gold' },
    });
    assert.equal(c.type, 'company');
    assert.equal(typeof c.id, 'string');
    assert.equal(c.company_id, companyId);
    assert.equal(c.name, 'Acme Inc');
    assert.equal(c.plan?.name, 'Enterprise');
    assert.equal(c.size, 250);
    assert.equal(c.website, 'https://acme.example');
    assert.equal(c.industry, 'Manufacturing');
    assert.equal(c.monthly_spend, 999);
    assert.equal(c.remote_created_at, 1600000000);
    assert.equal(c.custom_attributes[tier], 'gold');
    assertRecent(c.created_at, 'created_at');
    assert.equal(c.user_count, 0);
  });

  ctx.test('POST /companies with an existing company_id updates it (upsert)', async () => {
    const first = await newCompany({ size: 10 });
    const second = await ctx.client.companies.createOrUpdate({ company_id: first.company_id, name: 'Renamed Co' });
    assert.equal(second.id, first.id);
    assert.equal(second.name, 'Renamed Co');
    assert.equal(second.size, 10, 'fields not sent are kept');
  });

  ctx.test('get by id; unknown id → NotFoundError', async () => {
    const c = await newCompany({ industry: 'Retail' });
    const got = await ctx.client.companies.find({ company_id: c.id });
    assert.equal(got.id, c.id);
    assert.equal(got.company_id, c.company_id);
    assert.equal(got.industry, 'Retail');
    await expectError(ctx.client.companies.find({ company_id: 'no-such-company' }), { status: 404, cls: Intercom.NotFoundError, code: /not_found/ });
  });

  ctx.test('update with PUT /companies/{id}', async () => {
    const tier = await tierAttr();
    const c = await newCompany({ size: 5 });
    const updated = await ctx.client.companies.update({ company_id: c.id, body: { name: 'Updated Name', size: 6, custom_attributes: { [tier]: 'silver' } } });
    assert.equal(updated.id, c.id);
    assert.equal(updated.name, 'Updated Name');
    assert.equal(updated.size, 6);
    assert.equal(updated.custom_attributes[tier], 'silver');
    const got = await ctx.client.companies.find({ company_id: c.id });
    assert.equal(got.name, 'Updated Name');
    await expectError(ctx.client.companies.update({ company_id: 'no-such-company', body: { name: 'x' } }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('an unknown company custom attribute → 400', async () => {
    const unknown = ctx.unique('nope').replace(/-/g, '_');
    await expectError(ctx.client.companies.createOrUpdate({ company_id: ctx.unique('co'), name: 'x', custom_attributes: { [unknown]: 'v' } }), {
      status: 400,
      cls: Intercom.BadRequestError,
      mentions: unknown,
    });
  });

  ctx.test('retrieve by company_id and by name', async () => {
    const c = await newCompany();
    const byId = firstCompany(await ctx.client.companies.retrieve({ company_id: c.company_id }));
    assert.equal(byId.id, c.id);
    const byName = firstCompany(await ctx.client.companies.retrieve({ name: c.name }));
    assert.equal(byName.id, c.id);
    await expectError(ctx.client.companies.retrieve({ company_id: ctx.unique('missing') }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('delete a company', async () => {
    const c = await newCompany();
    const deleted = await ctx.client.companies.delete({ company_id: c.id });
    assert.equal(deleted.id, c.id);
    assert.equal(deleted.object, 'company');
    assert.equal(deleted.deleted, true);
    await expectError(ctx.client.companies.find({ company_id: c.id }), { status: 404, cls: Intercom.NotFoundError });
    await expectError(ctx.client.companies.delete({ company_id: c.id }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('attach and detach a contact', async () => {
    const co = await newCompany();
    const contact = await newContact();
    const attached = await ctx.client.companies.attachContact({ contact_id: contact.id, id: co.id });
    assert.equal(attached.type, 'company');
    assert.equal(attached.id, co.id);

    const ofContact = await collect(await ctx.client.contacts.listAttachedCompanies({ contact_id: contact.id }), { max: 50 });
    assert.deepEqual(ofContact.map((x) => x.id), [co.id]);
    assert.equal(ofContact[0].company_id, co.company_id);

    const members = await ctx.client.companies.listAttachedContacts({ company_id: co.id });
    assert.equal(members.type, 'list');
    assert.deepEqual(members.data.map((x) => x.id), [contact.id]);
    assert.equal(members.total_count, 1);

    const c = await ctx.client.contacts.find({ contact_id: contact.id });
    assert.deepEqual(c.companies.data.map((x) => x.id), [co.id]);
    assert.equal(c.companies.total_count, 1);
    assert.equal((await ctx.client.companies.find({ company_id: co.id })).user_count, 1);

    // Attaching twice is idempotent.
    await ctx.client.companies.attachContact({ contact_id: contact.id, id: co.id });
    assert.equal((await ctx.client.companies.listAttachedContacts({ company_id: co.id })).data.length, 1);

    const detached = await ctx.client.companies.detachContact({ contact_id: contact.id, company_id: co.id });
    assert.equal(detached.type, 'company');
    assert.equal(detached.id, co.id);
    assert.deepEqual(await collect(await ctx.client.contacts.listAttachedCompanies({ contact_id: contact.id }), { max: 50 }), []);
    assert.deepEqual((await ctx.client.companies.listAttachedContacts({ company_id: co.id })).data, []);
  });

  ctx.test('attach to an unknown company or contact → 404', async () => {
    const contact = await newContact();
    await expectError(ctx.client.companies.attachContact({ contact_id: contact.id, id: 'no-such-company' }), { status: 404, cls: Intercom.NotFoundError });
    const co = await newCompany();
    await expectError(ctx.client.companies.attachContact({ contact_id: 'no-such-contact', id: co.id }), { status: 404, cls: Intercom.NotFoundError });
  });

  ctx.test('a company has an (empty) segment list', async () => {
    const co = await newCompany();
    const segs = await ctx.client.companies.listAttachedSegments({ company_id: co.id });
    assert.equal(segs.type, 'list');
    assert.ok(Array.isArray(segs.data));
  });

  const bulk = () =>
    ctx.once('bulk', async () => {
      const ids = [];
      for (let i = 0; i < 25; i++) ids.push((await newCompany()).id);
      return ids;
    });

  ctx.test('POST /companies/list auto-paginates by page number', async () => {
    const mine = await bulk();
    const from = ctx.mark;
    const first = await ctx.client.companies.list({ per_page: 10 });
    assert.equal(first.response.type, 'list');
    const total = first.response.total_count;
    assert.ok(total >= 25);
    assert.equal(first.data.length, 10);
    assert.equal(first.response.pages.page, 1);
    assert.equal(first.response.pages.per_page, 10);
    assert.equal(first.response.pages.total_pages, Math.ceil(total / 10));
    const all = await collect(first, { max: total + 10 });
    const ids = all.map((c) => c.id);
    assertUnique(ids, 'company');
    assert.equal(ids.length, total);
    for (const id of mine) assert.ok(ids.includes(id), `company ${id} never listed`);
    // The page-number pager stops on an empty page: total_pages + 1 requests.
    assert.equal(ctx.countRequests('POST', /^\/companies\/list$/, from), Math.ceil(total / 10) + 1);
  });

  ctx.test('GET /companies pages by page and per_page; past the end is empty', async () => {
    await bulk();
    const p1 = await ctx.client.companies.retrieve({ page: 1, per_page: 10 });
    const p2 = await ctx.client.companies.retrieve({ page: 2, per_page: 10 });
    assert.equal(p1.type, 'list');
    assert.equal(p1.data.length, 10);
    assert.equal(p2.pages.page, 2);
    assert.equal(p2.data.length, 10);
    const overlap = p1.data.filter((a) => p2.data.some((b) => b.id === a.id));
    assert.deepEqual(overlap, [], 'pages overlap');
    const beyond = await ctx.client.companies.retrieve({ page: 1000, per_page: 10 });
    assert.deepEqual(beyond.data, []);
  });

  ctx.test('scroll through every company until the scroll ends', async () => {
    const mine = await bulk();
    const total = (await ctx.client.companies.list({ per_page: 1 })).response.total_count;
    const first = await ctx.client.companies.scroll();
    assert.equal(first.response.type, 'list');
    assert.equal(typeof first.response.scroll_param, 'string');
    // The SDK stops only when scroll_param is absent/empty, so the final (empty) page must omit it.
    const { items } = await walkPages(first, { maxPages: 60 });
    const ids = items.map((c) => c.id);
    assertUnique(ids, 'company');
    assert.equal(ids.length, total);
    for (const id of mine) assert.ok(ids.includes(id));
  });
});
