// CSV import through the API (Parley extension):
//   POST /contacts/import (Content-Type: text/csv, optional ?map=header=field,...) → 202 import_job
//   GET  /contacts/import/{id} → {state, rows, created, updated, failed, errors:[{line, message}]}

import assert from 'node:assert/strict';
import { assertErrorList, suite, waitFor } from '../lib/harness.mjs';

suite('import', (ctx) => {
  const attrs = () =>
    ctx.once('attrs', async () => {
      const plan = ctx.unique('plan').replace(/-/g, '_');
      const seats = ctx.unique('seats').replace(/-/g, '_');
      await ctx.client.dataAttributes.create({ name: plan, model: 'contact', data_type: 'string' });
      await ctx.client.dataAttributes.create({ name: seats, model: 'contact', data_type: 'integer' });
      return { plan, seats };
    });

  const startImport = async (csv, map) => {
    const qs = map ? `?map=${encodeURIComponent(map)}` : '';
    const res = await ctx.raw('POST', `/contacts/import${qs}`, { body: csv, headers: { 'Content-Type': 'text/csv' } });
    assert.equal(res.status, 202, `POST /contacts/import → ${res.status}: ${res.text}`);
    assert.equal(res.json.type, 'import_job');
    assert.equal(typeof res.json.id, 'string');
    assert.ok(['queued', 'pending', 'running', 'completed'].includes(res.json.state), `state ${res.json.state}`);
    return res.json;
  };

  const finished = (id) =>
    waitFor(
      async () => {
        const res = await ctx.raw('GET', `/contacts/import/${id}`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.type, 'import_job');
        assert.equal(res.json.id, id);
        assert.notEqual(res.json.state, 'failed', `import failed: ${res.text}`);
        return res.json.state === 'completed' ? res.json : null;
      },
      { timeout: 30_000, what: `import ${id} to complete` },
    );

  ctx.test('import with a column map: created, failed rows and their line numbers', async () => {
    const { plan, seats } = await attrs();
    const tag = ctx.unique('imp');
    const csv = [
      'Email Address,Full Name,ext,plan_col,seats_col',
      `ann-${tag}@example.com,Ann Import,${tag}-ann,pro,3`,
      `ben-${tag}@example.com,Ben Import,${tag}-ben,free,0`,
      `cat-${tag}@example.com,Cat Import,${tag}-cat,team,lots`,
    ].join('\n');
    const map = `Email Address=email,Full Name=name,ext=external_id,plan_col=custom_attributes.${plan},seats_col=custom_attributes.${seats}`;
    const job = await startImport(`${csv}\n`, map);
    const done = await finished(job.id);
    assert.equal(done.rows, 3);
    assert.equal(done.created, 2);
    assert.equal(done.updated, 0);
    assert.equal(done.failed, 1);
    assert.equal(done.errors.length, 1);
    assert.equal(done.errors[0].line, 4, 'line numbers count the header as line 1');
    assert.equal(typeof done.errors[0].message, 'string');
    assert.match(done.errors[0].message, new RegExp(`${seats}|seats_col`), 'the message names the offending attribute or column');

    const ann = await ctx.client.contacts.showContactByExternalId({ external_id: `${tag}-ann` });
    assert.equal(ann.email, `ann-${tag}@example.com`);
    assert.equal(ann.name, 'Ann Import');
    assert.equal(ann.role, 'user');
    assert.equal(ann.custom_attributes[plan], 'pro');
    assert.equal(ann.custom_attributes[seats], 3, 'integer attributes are typed, not strings');
    const ben = await ctx.client.contacts.showContactByExternalId({ external_id: `${tag}-ben` });
    assert.equal(ben.custom_attributes[seats], 0);
  });

  ctx.test('re-importing the same people updates them', async () => {
    const { plan } = await attrs();
    const tag = ctx.unique('upd');
    const header = 'email,name,external_id,plan';
    const map = `plan=custom_attributes.${plan}`;
    const first = await finished((await startImport(`${header}\nx-${tag}@example.com,First,${tag}-x,free\n`, map)).id);
    assert.equal(first.created, 1);
    const second = await finished((await startImport(`${header}\nx-${tag}@example.com,Second,${tag}-x,pro\ny-${tag}@example.com,New,${tag}-y,free\n`, map)).id);
    assert.equal(second.rows, 2);
    assert.equal(second.created, 1);
    assert.equal(second.updated, 1);
    assert.equal(second.failed, 0);
    assert.deepEqual(second.errors, []);
    const x = await ctx.client.contacts.showContactByExternalId({ external_id: `${tag}-x` });
    assert.equal(x.name, 'Second');
    assert.equal(x.custom_attributes[plan], 'pro');
  });

  ctx.test('default column names need no map', async () => {
    const tag = ctx.unique('def');
    const csv = `email,name,phone\nd-${tag}@example.com,Dee Default,+4930123456\n`;
    const done = await finished((await startImport(csv)).id);
    assert.equal(done.created, 1);
    const res = await ctx.client.contacts.search({ query: { field: 'email', operator: '=', value: `d-${tag}@example.com` } });
    assert.equal(res.data.length, 1);
    assert.equal(res.data[0].name, 'Dee Default');
    assert.equal(res.data[0].phone, '+4930123456');
  });

  ctx.test('location columns map to location.country / location.city', async () => {
    const tag = ctx.unique('loc');
    const loc = await finished((await startImport(`email,country,city\nl-${tag}@example.com,Germany,Berlin\n`, 'country=location.country,city=location.city')).id);
    assert.equal(loc.created, 1);
    const found = await ctx.client.contacts.search({ query: { field: 'email', operator: '=', value: `l-${tag}@example.com` } });
    assert.equal(found.data[0].location?.country, 'Germany');
    assert.equal(found.data[0].location?.city, 'Berlin');
  });

  ctx.test('quoted CSV fields with commas and escaped quotes', async () => {
    const tag = ctx.unique('q');
    const csv = `email,name\nq-${tag}@example.com,"Doe, ""JD"" John"\n`;
    const done = await finished((await startImport(csv)).id);
    assert.equal(done.created, 1, JSON.stringify(done));
    const found = await ctx.client.contacts.search({ query: { field: 'email', operator: '=', value: `q-${tag}@example.com` } });
    assert.equal(found.data[0].name, 'Doe, "JD" John');
  });

  ctx.test('unknown job → 404; a mapping to an unknown field → 400', async () => {
    const missing = await ctx.raw('GET', '/contacts/import/does-not-exist');
    assert.equal(missing.status, 404);
    assertErrorList(missing.json);
    const bad = await ctx.raw('POST', `/contacts/import?map=${encodeURIComponent('email=no_such_field')}`, {
      body: 'email\na@example.com\n',
      headers: { 'Content-Type': 'text/csv' },
    });
    assert.equal(bad.status, 400, bad.text);
    assertErrorList(bad.json);
  });

  ctx.test('an empty body or a non-CSV content type is rejected', async () => {
    const empty = await ctx.raw('POST', '/contacts/import', { body: '', headers: { 'Content-Type': 'text/csv' } });
    assert.equal(empty.status, 400, empty.text);
    assertErrorList(empty.json);
    const json = await ctx.raw('POST', '/contacts/import', { json: { email: 'a@example.com' } });
    assert.ok([400, 415].includes(json.status), `${json.status}: ${json.text}`);
    assertErrorList(json.json);
  });
});
