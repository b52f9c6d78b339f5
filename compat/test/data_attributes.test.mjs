// Data attributes: list (model, include_archived), create (every type), update
// (archive, description, options, messenger_writable) and their enforcement on contacts.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { assertRecent, expectError, suite } from '../lib/harness.mjs';

suite('data_attributes', (ctx) => {
  const name = (p) => ctx.unique(p).replace(/-/g, '_');

  /** One attribute of every type, created once for the suite. */
  const attrs = () =>
    ctx.once('attrs', async () => {
      const out = {};
      for (const dataType of ['string', 'integer', 'float', 'boolean', 'date']) {
        out[dataType] = await ctx.client.dataAttributes.create({ name: name(`a_${dataType}`), model: 'contact', data_type: dataType });
      }
      out.options = await ctx.client.dataAttributes.create({
        name: name('a_options'),
        model: 'contact',
        data_type: 'options',
        options: [{ value: 'gold' }, { value: 'silver' }],
      });
      return out;
    });

  const newContact = () => {
    const ext = ctx.unique('da-user');
    return ctx.client.contacts.create({ role: 'user', external_id: ext, email: `${ext}@example.com` });
  };

  ctx.test('list contact attributes includes the built-in ones', async () => {
    const list = await ctx.client.dataAttributes.list({ model: 'contact' });
    assert.equal(list.type, 'list');
    assert.ok(list.data.length > 0);
    for (const a of list.data) {
      assert.equal(a.type, 'data_attribute');
      assert.equal(a.model, 'contact', `${a.name} listed for model=contact`);
    }
    const email = list.data.find((a) => a.name === 'email');
    assert.ok(email, `built-in "email" missing: ${list.data.map((a) => a.name).join(', ')}`);
    assert.equal(email.custom, false);
    assert.equal(email.data_type, 'string');
  });

  ctx.test('create one attribute of each type', async () => {
    const a = await attrs();
    for (const [dataType, attr] of Object.entries(a)) {
      assert.equal(attr.type, 'data_attribute');
      assert.ok(Number.isInteger(attr.id), `${dataType}: integer id, got ${JSON.stringify(attr.id)}`);
      assert.equal(attr.model, 'contact');
      assert.equal(attr.full_name, `custom_attributes.${attr.name}`);
      assert.equal(attr.custom, true);
      assert.equal(attr.archived, false);
      assert.equal(attr.api_writable, true);
      assertRecent(attr.created_at, `${dataType}.created_at`);
    }
    for (const t of ['string', 'integer', 'float', 'boolean', 'date']) assert.equal(a[t].data_type, t);
    // Intercom answers a list attribute as a string attribute with its options.
    assert.equal(a.options.data_type, 'string');
    assert.deepEqual(a.options.options, ['gold', 'silver']);
  });

  ctx.test('created attributes are listed; company attributes only under model=company', async () => {
    const a = await attrs();
    const company = await ctx.client.dataAttributes.create({ name: name('c_tier'), model: 'company', data_type: 'string', description: 'Tier' });
    assert.equal(company.model, 'company');
    const contacts = await ctx.client.dataAttributes.list({ model: 'contact' });
    const names = contacts.data.map((x) => x.name);
    for (const attr of Object.values(a)) assert.ok(names.includes(attr.name), `${attr.name} not listed`);
    assert.ok(!names.includes(company.name));
    const companies = await ctx.client.dataAttributes.list({ model: 'company' });
    assert.ok(companies.data.every((x) => x.model === 'company'));
    assert.ok(companies.data.some((x) => x.id === company.id && x.description === 'Tier'));
    const all = await ctx.client.dataAttributes.list();
    const allIds = all.data.map((x) => x.id);
    assert.ok(allIds.includes(company.id) && allIds.includes(a.string.id), 'no model → both models');
  });

  ctx.test('names with spaces and hyphens are accepted', async () => {
    const n = `Mithril Shirt-${ctx.runId}`;
    const attr = await ctx.client.dataAttributes.create({ name: n, model: 'contact', data_type: 'string' });
    assert.equal(attr.name, n);
    assert.equal(attr.full_name, `custom_attributes.${n}`);
  });

  ctx.test('invalid creates → 400 BadRequestError', async () => {
    const a = await attrs();
    await expectError(ctx.client.dataAttributes.create({ name: a.string.name, model: 'contact', data_type: 'string' }), {
      status: 400,
      cls: Intercom.BadRequestError,
      code: 'parameter_invalid',
    });
    await expectError(ctx.client.dataAttributes.create({ name: name('bad_type'), model: 'contact', data_type: 'colour' }), { status: 400, cls: Intercom.BadRequestError });
    await expectError(ctx.client.dataAttributes.create({ name: name('bad_model'), model: 'ticket', data_type: 'string' }), { status: 400, cls: Intercom.BadRequestError });
    await expectError(ctx.client.dataAttributes.create({ name: name('no_opts'), model: 'contact', data_type: 'options', options: [] }), {
      status: 400,
      cls: Intercom.BadRequestError,
    });
    await expectError(ctx.client.dataAttributes.create({ name: 'email', model: 'contact', data_type: 'string' }), { status: 400, cls: Intercom.BadRequestError });
  });

  ctx.test('update description, messenger_writable and options', async () => {
    const a = await attrs();
    const updated = await ctx.client.dataAttributes.update({
      data_attribute_id: a.options.id,
      body: { description: 'Customer tier', messenger_writable: true, options: [{ value: 'gold' }, { value: 'silver' }, { value: 'bronze' }] },
    });
    assert.equal(updated.id, a.options.id);
    assert.equal(updated.description, 'Customer tier');
    assert.equal(updated.messenger_writable, true);
    assert.deepEqual(updated.options, ['gold', 'silver', 'bronze']);
    assert.equal(updated.name, a.options.name, 'name is unchanged');
    const listed = (await ctx.client.dataAttributes.list({ model: 'contact' })).data.find((x) => x.id === a.options.id);
    assert.equal(listed.description, 'Customer tier');
    assert.deepEqual(listed.options, ['gold', 'silver', 'bronze']);
  });

  ctx.test('archive hides an attribute unless include_archived; unarchive restores it', async () => {
    const attr = await ctx.client.dataAttributes.create({ name: name('to_archive'), model: 'contact', data_type: 'string' });
    const archived = await ctx.client.dataAttributes.update({ data_attribute_id: attr.id, body: { archived: true } });
    assert.equal(archived.archived, true);
    const visible = await ctx.client.dataAttributes.list({ model: 'contact' });
    assert.ok(!visible.data.some((x) => x.id === attr.id), 'archived attribute listed without include_archived');
    const withArchived = await ctx.client.dataAttributes.list({ model: 'contact', include_archived: true });
    const found = withArchived.data.find((x) => x.id === attr.id);
    assert.ok(found, 'archived attribute missing with include_archived=true');
    assert.equal(found.archived, true);
    const restored = await ctx.client.dataAttributes.update({ data_attribute_id: attr.id, body: { archived: false } });
    assert.equal(restored.archived, false);
    assert.ok((await ctx.client.dataAttributes.list({ model: 'contact' })).data.some((x) => x.id === attr.id));
  });

  ctx.test('update an unknown attribute → NotFoundError', async () => {
    await expectError(ctx.client.dataAttributes.update({ data_attribute_id: 999999, body: { description: 'x' } }), {
      status: 404,
      cls: Intercom.NotFoundError,
    });
  });

  ctx.test('custom attribute values of every type round-trip on a contact', async () => {
    const a = await attrs();
    const c = await newContact();
    const values = {
      [a.string.name]: 'hello',
      [a.integer.name]: 42,
      [a.float.name]: 3.5,
      [a.boolean.name]: true,
      [a.date.name]: 1700000000,
      [a.options.name]: 'gold',
    };
    const updated = await ctx.client.contacts.update({ contact_id: c.id, custom_attributes: values });
    assert.deepEqual(
      Object.fromEntries(Object.keys(values).map((k) => [k, updated.custom_attributes[k]])),
      values,
    );
    const got = await ctx.client.contacts.find({ contact_id: c.id });
    assert.deepEqual(
      Object.fromEntries(Object.keys(values).map((k) => [k, got.custom_attributes[k]])),
      values,
    );
    // Creating with custom attributes works too.
    const ext = ctx.unique('da-create');
    const created = await ctx.client.contacts.create({ external_id: ext, custom_attributes: { [a.integer.name]: 7 } });
    assert.equal(created.custom_attributes[a.integer.name], 7);
  });

  ctx.test('an unknown custom attribute → 400', async () => {
    const c = await newContact();
    const unknown = name('never_defined');
    await expectError(ctx.client.contacts.update({ contact_id: c.id, custom_attributes: { [unknown]: 'x' } }), { status: 400, mentions: unknown });
    await expectError(ctx.client.contacts.create({ external_id: ctx.unique('da-unknown'), custom_attributes: { [unknown]: 'x' } }), {
      status: 400,
      mentions: unknown,
    });
    const got = await ctx.client.contacts.find({ contact_id: c.id });
    assert.ok(!(unknown in got.custom_attributes));
  });

  ctx.test('a company attribute is unknown on contacts → 400', async () => {
    const companyAttr = await ctx.client.dataAttributes.create({ name: name('company_only'), model: 'company', data_type: 'string' });
    const c = await newContact();
    await expectError(ctx.client.contacts.update({ contact_id: c.id, custom_attributes: { [companyAttr.name]: 'x' } }), {
      status: 400,
      mentions: companyAttr.name,
    });
  });

  ctx.test('an archived custom attribute cannot be written → 400', async () => {
    const attr = await ctx.client.dataAttributes.create({ name: name('archived_attr'), model: 'contact', data_type: 'string' });
    await ctx.client.dataAttributes.update({ data_attribute_id: attr.id, body: { archived: true } });
    const c = await newContact();
    await expectError(ctx.client.contacts.update({ contact_id: c.id, custom_attributes: { [attr.name]: 'x' } }), { status: 400, mentions: attr.name });
  });

  ctx.test('wrong-typed custom attribute values → 400', async () => {
    const a = await attrs();
    const c = await newContact();
    const cases = [
      [a.integer.name, 'forty-two'],
      [a.integer.name, 4.5],
      [a.float.name, 'pi'],
      [a.boolean.name, 'yes'],
      [a.date.name, 'next tuesday'],
      [a.string.name, { nested: true }],
    ];
    for (const [attr, value] of cases) {
      await expectError(ctx.client.contacts.update({ contact_id: c.id, custom_attributes: { [attr]: value } }), { status: 400, mentions: attr });
    }
    const got = await ctx.client.contacts.find({ contact_id: c.id });
    for (const [attr] of cases) assert.ok(got.custom_attributes[attr] === undefined || got.custom_attributes[attr] === null, `${attr} was written`);
  });
});
