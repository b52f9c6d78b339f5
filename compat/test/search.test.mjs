// POST /contacts/search: every operator, nesting limits, custom attributes, tag_id,
// segment_id, company.*, location.*, dates by calendar day, sorting, cursor pagination.

import assert from 'node:assert/strict';
import { assertUnique, collect, expectError, suite, waitFor, walkPages, zonedTime } from '../lib/harness.mjs';

suite('search', (ctx) => {
  const data = () =>
    ctx.once('data', async () => {
      const me = await ctx.me();
      const tz = me.app?.timezone || 'UTC';
      const attr = async (n, data_type) => {
        const name = ctx.unique(n).replace(/-/g, '_');
        await ctx.client.dataAttributes.create({ name, model: 'contact', data_type });
        return name;
      };
      const A = {
        plan: await attr('plan', 'string'),
        seats: await attr('seats', 'integer'),
        score: await attr('score', 'float'),
        vip: await attr('vip', 'boolean'),
        renewal: await attr('renewal', 'date'),
      };
      const domain = `${ctx.unique('srch')}.example`;
      // Day X = 2024-03-14 and renewal day R = 2025-01-10, in the workspace time zone.
      const X = (dd, hh) => zonedTime(tz, 2024, 3, 14 + dd, hh);
      const R = (dd, hh) => zonedTime(tz, 2025, 1, 10 + dd, hh);
      const rows = [
        ['Alice Anderson', 'user', 'free', 1, 1.5, false, X(0, 1), R(0, 9)],
        ['Bob Brown', 'user', 'pro', 5, 2.5, true, X(0, 23), R(0, 20)],
        ['Carol Carter', 'user', 'pro', 10, 3.5, false, X(1, 12), R(1, 12)],
        ['Dan Dawson', 'user', 'team', 20, 4.5, true, X(-1, 12), R(-1, 12)],
        ['Eve Evans', 'user', 'free', 0, 0.5, false, X(3, 12), R(2, 12)],
        ['Frank Fischer', 'lead', 'free', 2, 2.0, false, X(-5, 12), R(5, 12)],
      ];
      const people = {};
      for (const [name, role, plan, seats, score, vip, signedUp, renewal] of rows) {
        const first = name.split(' ')[0].toLowerCase();
        const body = {
          role,
          email: `${first}@${domain}`,
          name,
          signed_up_at: signedUp,
          custom_attributes: { [A.plan]: plan, [A.seats]: seats, [A.score]: score, [A.vip]: vip, [A.renewal]: renewal },
        };
        if (role === 'user') body.external_id = ctx.unique(first);
        people[first] = await ctx.client.contacts.create(body);
      }
      const tag = await ctx.client.tags.create({ name: ctx.unique('Search tag') });
      await ctx.client.tags.tagContact({ contact_id: people.bob.id, id: tag.id });
      await ctx.client.tags.tagContact({ contact_id: people.dan.id, id: tag.id });
      const acme = await ctx.client.companies.createOrUpdate({ company_id: ctx.unique('acme'), name: `Acme ${ctx.runId}` });
      const globex = await ctx.client.companies.createOrUpdate({ company_id: ctx.unique('globex'), name: `Globex ${ctx.runId}` });
      await ctx.client.companies.attachContact({ contact_id: people.carol.id, id: acme.id });
      await ctx.client.companies.attachContact({ contact_id: people.dan.id, id: globex.id });
      const nameOf = Object.fromEntries(Object.values(people).map((p) => [p.id, p.name.split(' ')[0]]));
      return { A, domain, X, R, people, tag, acme, globex, nameOf, tz };
    });

  const scope = (domain) => ({ field: 'email', operator: '$', value: `@${domain}` });

  /** Run a search scoped to this suite's people; returns first names, sorted unless `ordered`. */
  const search = async (filter, { ordered = false, sort, perPage } = {}) => {
    const d = await data();
    const query = filter.operator === 'AND' || filter.operator === 'OR' ? filter : { operator: 'AND', value: [scope(d.domain), filter] };
    const req = { query };
    if (sort) req.sort = sort;
    if (perPage) req.pagination = { per_page: perPage };
    const items = await collect(await ctx.client.contacts.search(req), { max: 500 });
    assertUnique(items.map((c) => c.id), 'contact');
    const names = items.map((c) => d.nameOf[c.id] ?? `?${c.id}`);
    return ordered ? names : names.sort();
  };

  ctx.test('dataset: six contacts with custom attributes, a tag and companies', async () => {
    const d = await data();
    assert.deepEqual(await search(scope(d.domain)), ['Alice', 'Bob', 'Carol', 'Dan', 'Eve', 'Frank']);
  });

  ctx.test('= and != on strings, role and custom attributes', async () => {
    const { A, people } = await data();
    assert.deepEqual(await search({ field: `custom_attributes.${A.plan}`, operator: '=', value: 'pro' }), ['Bob', 'Carol']);
    assert.deepEqual(await search({ field: `custom_attributes.${A.plan}`, operator: '!=', value: 'free' }), ['Bob', 'Carol', 'Dan']);
    assert.deepEqual(await search({ field: 'name', operator: '=', value: 'Alice Anderson' }), ['Alice']);
    assert.deepEqual(await search({ field: 'role', operator: '=', value: 'lead' }), ['Frank']);
    assert.deepEqual(await search({ field: 'role', operator: '!=', value: 'lead' }), ['Alice', 'Bob', 'Carol', 'Dan', 'Eve']);
    assert.deepEqual(await search({ field: 'id', operator: '=', value: people.eve.id }), ['Eve']);
    assert.deepEqual(await search({ field: 'external_id', operator: '=', value: people.bob.external_id }), ['Bob']);
  });

  ctx.test('IN and NIN', async () => {
    const { A } = await data();
    assert.deepEqual(await search({ field: `custom_attributes.${A.plan}`, operator: 'IN', value: ['pro', 'team'] }), ['Bob', 'Carol', 'Dan']);
    assert.deepEqual(await search({ field: `custom_attributes.${A.plan}`, operator: 'NIN', value: ['pro', 'team'] }), ['Alice', 'Eve', 'Frank']);
    assert.deepEqual(await search({ field: `custom_attributes.${A.seats}`, operator: 'IN', value: [0, 20] }), ['Dan', 'Eve']);
  });

  ctx.test('< > <= >= on integers', async () => {
    const { A } = await data();
    const seats = `custom_attributes.${A.seats}`;
    assert.deepEqual(await search({ field: seats, operator: '<', value: 5 }), ['Alice', 'Eve', 'Frank']);
    assert.deepEqual(await search({ field: seats, operator: '>', value: 5 }), ['Carol', 'Dan']);
    assert.deepEqual(await search({ field: seats, operator: '<=', value: 5 }), ['Alice', 'Bob', 'Eve', 'Frank']);
    assert.deepEqual(await search({ field: seats, operator: '>=', value: 10 }), ['Carol', 'Dan']);
    assert.deepEqual(await search({ field: seats, operator: '=', value: 0 }), ['Eve']);
  });

  ctx.test('floats and booleans', async () => {
    const { A } = await data();
    assert.deepEqual(await search({ field: `custom_attributes.${A.score}`, operator: '=', value: 2.5 }), ['Bob']);
    assert.deepEqual(await search({ field: `custom_attributes.${A.vip}`, operator: '=', value: true }), ['Bob', 'Dan']);
    assert.deepEqual(await search({ field: `custom_attributes.${A.vip}`, operator: '!=', value: true }), ['Alice', 'Carol', 'Eve', 'Frank']);
  });

  ctx.test('~ !~ ^ $ on strings', async () => {
    await data();
    assert.deepEqual(await search({ field: 'name', operator: '~', value: 'ar' }), ['Carol']);
    assert.deepEqual(await search({ field: 'name', operator: '!~', value: 'o' }), ['Eve', 'Frank']);
    assert.deepEqual(await search({ field: 'name', operator: '^', value: 'Da' }), ['Dan']);
    assert.deepEqual(await search({ field: 'name', operator: '$', value: 'son' }), ['Alice', 'Dan']);
    assert.deepEqual(await search({ field: 'email', operator: '^', value: 'car' }), ['Carol']);
  });

  ctx.test('dates match by calendar day in the workspace time zone', async () => {
    const { X } = await data();
    const noon = X(0, 12);
    assert.deepEqual(await search({ field: 'signed_up_at', operator: '=', value: noon }), ['Alice', 'Bob']);
    assert.deepEqual(await search({ field: 'signed_up_at', operator: '>', value: noon }), ['Carol', 'Eve'], '> starts the next day');
    assert.deepEqual(await search({ field: 'signed_up_at', operator: '<', value: noon }), ['Dan', 'Frank'], '< ends before the day');
    assert.deepEqual(await search({ field: 'signed_up_at', operator: '=', value: X(0, 0) }), ['Alice', 'Bob']);
  });

  ctx.test('date custom attributes match by calendar day too', async () => {
    const { A, R } = await data();
    const f = `custom_attributes.${A.renewal}`;
    assert.deepEqual(await search({ field: f, operator: '=', value: R(0, 15) }), ['Alice', 'Bob']);
    assert.deepEqual(await search({ field: f, operator: '>', value: R(0, 15) }), ['Carol', 'Eve', 'Frank']);
    assert.deepEqual(await search({ field: f, operator: '<', value: R(0, 15) }), ['Dan']);
  });

  ctx.test('!= >= <= on dates → 400; a non-date value for a date → 400', async () => {
    const { X, domain } = await data();
    for (const operator of ['!=', '>=', '<=']) {
      await expectError(ctx.client.contacts.search({ query: { operator: 'AND', value: [scope(domain), { field: 'signed_up_at', operator, value: X(0, 12) }] } }), {
        status: 400,
      });
    }
    await expectError(ctx.client.contacts.search({ query: { field: 'created_at', operator: '>', value: 'foobar' } }), { status: 400 });
  });

  ctx.test('tag_id with = and != (other operators → 400)', async () => {
    const { tag } = await data();
    assert.deepEqual(await search({ field: 'tag_id', operator: '=', value: tag.id }), ['Bob', 'Dan']);
    assert.deepEqual(await search({ field: 'tag_id', operator: '!=', value: tag.id }), ['Alice', 'Carol', 'Eve', 'Frank']);
    await expectError(ctx.client.contacts.search({ query: { field: 'tag_id', operator: 'IN', value: [tag.id] } }), { status: 400 });
  });

  ctx.test('company.name and company.id', async () => {
    const { acme, globex } = await data();
    assert.deepEqual(await search({ field: 'company.name', operator: '=', value: acme.name }), ['Carol']);
    assert.deepEqual(await search({ field: 'company.name', operator: '^', value: 'Globex' }), ['Dan']);
    assert.deepEqual(await search({ field: 'company.id', operator: '=', value: globex.id }), ['Dan']);
    assert.deepEqual(await search({ field: 'company.id', operator: 'IN', value: [acme.id, globex.id] }), ['Carol', 'Dan']);
  });

  ctx.test('segment_id', async () => {
    const { A, domain } = await data();
    const res = await ctx.raw('POST', '/segments', {
      json: {
        name: ctx.unique('Team plan'),
        person_type: 'user',
        filter: { operator: 'AND', value: [scope(domain), { field: `custom_attributes.${A.plan}`, operator: '=', value: 'team' }] },
      },
    });
    assert.ok([200, 201].includes(res.status), `POST /segments → ${res.status}: ${res.text}`);
    assert.deepEqual(await search({ field: 'segment_id', operator: '=', value: res.json.id }), ['Dan']);
  });

  ctx.test('nested AND/OR, two levels', async () => {
    const { A, domain } = await data();
    const plan = `custom_attributes.${A.plan}`;
    const seats = `custom_attributes.${A.seats}`;
    const vip = `custom_attributes.${A.vip}`;
    const names = await search({
      operator: 'OR',
      value: [
        { operator: 'AND', value: [scope(domain), { field: plan, operator: '=', value: 'pro' }, { field: vip, operator: '=', value: true }] },
        { operator: 'AND', value: [scope(domain), { field: plan, operator: '=', value: 'free' }, { field: seats, operator: '<', value: 1 }] },
      ],
    });
    assert.deepEqual(names, ['Bob', 'Eve']);
    const both = await search({
      operator: 'AND',
      value: [
        scope(domain),
        { operator: 'OR', value: [{ field: plan, operator: '=', value: 'pro' }, { field: plan, operator: '=', value: 'team' }] },
        { operator: 'OR', value: [{ field: vip, operator: '=', value: true }, { field: seats, operator: '>', value: 8 }] },
      ],
    });
    assert.deepEqual(both, ['Bob', 'Carol', 'Dan']);
  });

  ctx.test('three levels of nesting → 400', async () => {
    const { domain } = await data();
    await expectError(
      ctx.client.contacts.search({
        query: {
          operator: 'AND',
          value: [
            scope(domain),
            { operator: 'OR', value: [{ operator: 'AND', value: [scope(domain), { field: 'role', operator: '=', value: 'user' }] }, scope(domain)] },
          ],
        },
      }),
      { status: 400 },
    );
  });

  ctx.test('at most 15 filters per group (16 → 400)', async () => {
    const { domain } = await data();
    const filters = (n) => Array.from({ length: n }, () => scope(domain));
    const fifteen = await collect(await ctx.client.contacts.search({ query: { operator: 'AND', value: filters(15) } }), { max: 100 });
    assert.equal(fifteen.length, 6);
    await expectError(ctx.client.contacts.search({ query: { operator: 'AND', value: filters(16) } }), { status: 400 });
    await expectError(ctx.client.contacts.search({ query: { operator: 'OR', value: filters(16) } }), { status: 400 });
  });

  ctx.test('invalid field or operator → 400', async () => {
    await expectError(ctx.client.contacts.search({ query: { field: 'no_such_field', operator: '=', value: 'x' } }), { status: 400 });
    await expectError(ctx.client.contacts.search({ query: { field: 'name', operator: 'LIKE', value: 'x' } }), { status: 400 });
    await expectError(ctx.client.contacts.search({ query: { field: 'name', operator: 'IN', value: 'not-an-array' } }), { status: 400 });
  });

  ctx.test('sort ascending and descending', async () => {
    const { domain } = await data();
    const asc = await search(scope(domain), { ordered: true, sort: { field: 'name', order: 'ascending' } });
    assert.deepEqual(asc, ['Alice', 'Bob', 'Carol', 'Dan', 'Eve', 'Frank']);
    const desc = await search(scope(domain), { ordered: true, sort: { field: 'name', order: 'descending' } });
    assert.deepEqual(desc, ['Frank', 'Eve', 'Dan', 'Carol', 'Bob', 'Alice']);
    const bySignup = await search(scope(domain), { ordered: true, sort: { field: 'signed_up_at', order: 'ascending' } });
    assert.deepEqual(bySignup, ['Frank', 'Dan', 'Alice', 'Bob', 'Carol', 'Eve'], 'sorting uses the full timestamp');
  });

  ctx.test('cursor pagination through the SDK pager', async () => {
    const d = await data();
    const from = ctx.mark;
    const first = await ctx.client.contacts.search({
      query: { operator: 'AND', value: [scope(d.domain)] },
      pagination: { per_page: 2 },
      sort: { field: 'name', order: 'ascending' },
    });
    assert.equal(first.response.type, 'list');
    assert.equal(first.response.total_count, 6);
    assert.equal(first.data.length, 2);
    assert.equal(first.response.pages.per_page, 2);
    assert.equal(first.response.pages.total_pages, 3);
    assert.ok(first.response.pages.next?.starting_after);
    const { pages, items } = await walkPages(first, { maxPages: 10 });
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 2]);
    assert.deepEqual(items.map((c) => d.nameOf[c.id]), ['Alice', 'Bob', 'Carol', 'Dan', 'Eve', 'Frank']);
    assert.equal(ctx.countRequests('POST', /^\/contacts\/search$/, from), 3);
    const last = ctx.proxy.records.filter((r) => r.path === '/contacts/search').at(-1);
    assert.ok(JSON.parse(last.requestBody).pagination.starting_after, 'the SDK sent pagination.starting_after');
  });

  ctx.test('location.* fields are accepted by search', async () => {
    await data();
    assert.deepEqual(await search({ field: 'location.country', operator: '=', value: 'Germany' }), []);
    assert.deepEqual(await search({ field: 'location.region', operator: 'IN', value: ['Bavaria', 'Berlin'] }), []);
    assert.deepEqual(await search({ field: 'location.city', operator: '^', value: 'Ber' }), []);
  });

  ctx.test('location.country with values (set through the CSV import)', async () => {
    const domain = `${ctx.unique('loc')}.example`;
    const csv = `email,name,country,city\nhans@${domain},Hans,Germany,Berlin\nmarie@${domain},Marie,France,Paris\n`;
    const res = await ctx.raw('POST', `/contacts/import?map=${encodeURIComponent('country=location.country,city=location.city')}`, {
      body: csv,
      headers: { 'Content-Type': 'text/csv' },
    });
    assert.equal(res.status, 202, res.text);
    await waitFor(
      async () => {
        const job = await ctx.raw('GET', `/contacts/import/${res.json.id}`);
        assert.equal(job.status, 200, job.text);
        assert.notEqual(job.json.state, 'failed', job.text);
        return job.json.state === 'completed';
      },
      { what: 'the import to complete' },
    );
    const find = async (filter) =>
      (await collect(await ctx.client.contacts.search({ query: { operator: 'AND', value: [scope(domain), filter] } }), { max: 50 })).map((c) => c.name).sort();
    assert.deepEqual(await find({ field: 'location.country', operator: '=', value: 'Germany' }), ['Hans']);
    assert.deepEqual(await find({ field: 'location.country', operator: 'IN', value: ['Germany', 'France'] }), ['Hans', 'Marie']);
    assert.deepEqual(await find({ field: 'location.city', operator: '^', value: 'Par' }), ['Marie']);
  });
});
