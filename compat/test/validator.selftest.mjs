// Unit tests of the OpenAPI validator itself: it must accept good bodies and,
// above all, reject bad ones with a precise location.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import {
  convertSchema,
  findAllowance,
  formatViolations,
  loadAllowedDifferences,
  loadSpec,
  specVersionFor,
  validateExchange,
} from '../lib/spec.mjs';

const spec14 = loadSpec('2.14');
const spec16 = loadSpec('2.16');

const goodContact = () => ({
  type: 'contact',
  id: '6657a1b2c3d4e5f6a7b8c9d0',
  workspace_id: 'abc123',
  external_id: null,
  role: 'user',
  email: 'jane@example.com',
  email_domain: 'example.com',
  phone: null,
  name: 'Jane',
  owner_id: null,
  has_hard_bounced: false,
  marked_email_as_spam: false,
  unsubscribed_from_emails: false,
  created_at: 1717000000,
  updated_at: 1717000000,
  signed_up_at: null,
  last_seen_at: null,
  custom_attributes: { plan: 'pro' },
  avatar: null,
  tags: { type: 'list', data: [], url: '/contacts/6657a1b2c3d4e5f6a7b8c9d0/tags', total_count: 0, has_more: false },
  notes: { type: 'list', data: [], url: '/contacts/6657a1b2c3d4e5f6a7b8c9d0/notes', total_count: 0, has_more: false },
  companies: { type: 'list', data: [], url: '/contacts/6657a1b2c3d4e5f6a7b8c9d0/companies', total_count: 0, has_more: false },
  location: { type: 'location', country: null, region: null, city: null },
  social_profiles: { type: 'list', data: [] },
});

function check(spec, method, pathname, status, body, contentType = 'application/json') {
  return validateExchange(spec, {
    method,
    pathname,
    status,
    contentType,
    bodyText: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('OpenAPI 3.0 → JSON Schema conversion', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const conv = (s) => ajv.compile(convertSchema(s, (r) => r));

  test('nullable: true allows null, nullable absent does not', () => {
    const v = conv({ type: 'object', properties: { a: { type: 'string', nullable: true }, b: { type: 'string' } } });
    assert.equal(v({ a: null, b: 'x' }), true);
    assert.equal(v({ a: 'y', b: null }), false);
    assert.equal(v.errors[0].instancePath, '/b');
  });

  test('nullable enum and nullable composite schemas', () => {
    assert.equal(conv({ type: 'string', enum: ['a'], nullable: true })(null), true);
    assert.equal(conv({ type: 'string', enum: ['a'], nullable: true })('b'), false);
    const composite = conv({ type: 'object', nullable: true, allOf: [{ type: 'object', properties: { id: { type: 'string' } } }] });
    assert.equal(composite(null), true);
    assert.equal(composite({ id: 'x' }), true);
    assert.equal(composite({ id: 1 }), false);
  });

  test('oneOf becomes anyOf (overlapping alternatives are accepted)', () => {
    const v = conv({ oneOf: [{ type: 'object' }, { type: 'object', properties: { a: { type: 'string' } } }] });
    assert.equal(v({ a: 'x' }), true);
  });

  test('format is ignored (date-time on integers), examples and x- keys are dropped', () => {
    const s = convertSchema({ type: 'integer', format: 'date-time', example: 1, 'x-foo': 1 }, (r) => r);
    assert.deepEqual(s, { type: 'integer' });
  });

  test('property names that look like keywords are kept', () => {
    const v = conv({ type: 'object', properties: { example: { type: 'string' }, format: { type: 'integer' } } });
    assert.equal(v({ example: 1 }), false);
    assert.equal(v({ format: 'x' }), false);
    assert.equal(v({ example: 'x', format: 2 }), true);
  });

  test('boolean exclusiveMinimum (OpenAPI 3.0) is converted', () => {
    const v = conv({ type: 'integer', minimum: 0, exclusiveMinimum: true });
    assert.equal(v(0), false);
    assert.equal(v(1), true);
  });

  test('$ref siblings are ignored like in OpenAPI 3.0, except nullable', () => {
    const s = convertSchema({ $ref: '#/x', description: 'd', nullable: true }, (r) => `m${r}`);
    assert.deepEqual(s, { anyOf: [{ type: 'null' }, { $ref: 'm#/x' }] });
  });
});

describe('routing', () => {
  test('literal segments win over path parameters', () => {
    assert.equal(spec14.route('POST', '/contacts/search').template, '/contacts/search');
    assert.equal(spec14.route('POST', '/contacts/merge').template, '/contacts/merge');
    assert.equal(spec14.route('GET', '/companies/scroll').template, '/companies/scroll');
    assert.equal(spec14.route('GET', '/contacts/abc').template, '/contacts/{contact_id}');
    assert.equal(spec14.route('GET', '/contacts/find_by_external_id/a%20b').params.external_id, 'a b');
  });

  test('paths and methods the spec lacks are extensions', () => {
    assert.equal(spec14.route('POST', '/segments'), null);
    assert.equal(spec14.route('PUT', '/segments/12'), null);
    assert.equal(spec14.route('POST', '/contacts/import'), null);
    const r = check(spec14, 'POST', '/segments', 200, { anything: true });
    assert.equal(r.extension, true);
    assert.equal(r.validated, false);
    assert.deepEqual(r.violations, []);
  });

  test('Intercom-Version 2.16 selects the 2.16 description, everything else 2.14', () => {
    assert.equal(specVersionFor('2.16'), '2.16');
    assert.equal(specVersionFor('2.14'), '2.14');
    assert.equal(specVersionFor(undefined), '2.14');
    assert.equal(specVersionFor('9.99'), '2.14');
  });
});

describe('response validation against Intercom 2.14', () => {
  test('a well-formed contact passes', () => {
    const r = check(spec14, 'GET', '/contacts/abc', 200, goodContact());
    assert.equal(r.operation, 'GET /contacts/{contact_id}');
    assert.equal(r.validated, true);
    assert.deepEqual(r.violations, [], formatViolations(r.violations));
  });

  test('a malformed contact fails with precise pointers', () => {
    const body = goodContact();
    body.id = 12345; // must be a string
    body.created_at = '2024-01-01T00:00:00Z'; // must be an integer
    body.email = null; // not nullable in the spec
    body.location.country = 7; // nested
    const r = check(spec14, 'GET', '/contacts/abc', 200, body);
    const paths = r.violations.map((v) => v.instancePath).sort();
    assert.deepEqual(paths, ['/created_at', '/email', '/id', '/location/country']);
    const id = r.violations.find((v) => v.instancePath === '/id');
    assert.match(id.message, /must be string/);
    assert.equal(id.value, '12345');
    assert.equal(id.operationId, 'ShowContact');
    assert.equal(id.status, 200);
    const report = formatViolations(r.violations);
    assert.match(report, /GET \/contacts\/\{contact_id\} \(ShowContact\) → 200/);
    assert.match(report, /at \/location\/country: must be string/);
  });

  test('enum violations name the allowed values', () => {
    const r = check(spec14, 'GET', '/contacts', 200, { type: 'contacts', data: [goodContact()], total_count: 1, pages: null });
    assert.equal(r.violations.length, 1);
    assert.equal(r.violations[0].instancePath, '/type');
    assert.match(r.violations[0].message, /allowed values.*"list"/);
  });

  test('errors inside list items carry the item index', () => {
    const bad = goodContact();
    bad.role = 42;
    const r = check(spec14, 'POST', '/contacts/search', 200, {
      type: 'list',
      data: [goodContact(), bad],
      total_count: 2,
      pages: { type: 'pages', page: 1, per_page: 50, total_pages: 1 },
    });
    assert.deepEqual(r.violations.map((v) => v.instancePath), ['/data/1/role']);
  });

  test('nullable cursor pages: next may be absent or null', () => {
    const list = (pages) => ({ type: 'list', data: [], total_count: 0, pages });
    assert.deepEqual(check(spec14, 'GET', '/contacts', 200, list({ type: 'pages', page: 1, per_page: 50, total_pages: 0 })).violations, []);
    assert.deepEqual(check(spec14, 'GET', '/contacts', 200, list({ type: 'pages', page: 1, per_page: 50, total_pages: 1, next: null })).violations, []);
    const bad = check(spec14, 'GET', '/contacts', 200, list({ type: 'pages', page: '1', per_page: 50, total_pages: 1, next: { starting_after: 5 } }));
    assert.deepEqual(bad.violations.map((v) => v.instancePath).sort(), ['/pages/next/starting_after', '/pages/page']);
  });

  test('error bodies: documented 401 and undocumented 409 both use the error schema', () => {
    const good = { type: 'error.list', request_id: 'r1', errors: [{ code: 'unauthorized', message: 'Access Token Invalid' }] };
    assert.deepEqual(check(spec14, 'GET', '/admins', 401, good).violations, []);
    assert.deepEqual(check(spec14, 'POST', '/contacts', 409, good).violations, []);
    const bad = check(spec14, 'POST', '/contacts', 409, { error: 'conflict' });
    assert.deepEqual(bad.violations.map((v) => v.message).sort(), ["must have required property 'errors'", "must have required property 'type'"]);
    const noCode = check(spec14, 'GET', '/admins', 401, { type: 'error.list', errors: [{ message: 'x' }] });
    assert.deepEqual(noCode.violations.map((v) => v.instancePath), ['/errors/0']);
  });

  test('an undocumented success status is itself a violation', () => {
    const r = check(spec14, 'POST', '/contacts', 201, goodContact());
    assert.equal(r.violations.length, 1);
    assert.match(r.violations[0].message, /undocumented response status 201/);
  });

  test('empty, non-JSON and wrongly typed bodies are caught; bodiless responses are not checked', () => {
    assert.match(check(spec14, 'GET', '/me', 200, undefined).violations[0].message, /expected a JSON body/);
    assert.match(check(spec14, 'GET', '/me', 200, '<html>').violations[0].message, /not valid JSON/);
    assert.match(check(spec14, 'GET', '/me', 200, { type: 'admin' }, 'text/plain').violations[0].message, /Content-Type/);
    const events = check(spec14, 'POST', '/events', 202, undefined, null);
    assert.deepEqual(events.violations, []);
    assert.equal(events.validated, false);
  });

  test('data attribute data_type must be one of the response enum', () => {
    const attr = { type: 'data_attribute', id: 1, model: 'contact', name: 'plan', full_name: 'custom_attributes.plan', data_type: 'options', custom: true, archived: false };
    const r = check(spec14, 'POST', '/data_attributes', 200, attr);
    assert.deepEqual(r.violations.map((v) => v.instancePath), ['/data_type']);
    assert.deepEqual(check(spec14, 'POST', '/data_attributes', 200, { ...attr, data_type: 'string' }).violations, []);
  });
});

describe('version-specific shapes', () => {
  test('contact.owner_id is an integer in 2.14 and a string in 2.16', () => {
    const asInt = { ...goodContact(), owner_id: 42 };
    const asStr = { ...goodContact(), owner_id: '42' };
    assert.deepEqual(check(spec14, 'GET', '/contacts/abc', 200, asInt).violations, []);
    assert.deepEqual(check(spec14, 'GET', '/contacts/abc', 200, asStr).violations.map((v) => v.instancePath), ['/owner_id']);
    assert.deepEqual(check(spec16, 'GET', '/contacts/abc', 200, asStr).violations, []);
    assert.deepEqual(check(spec16, 'GET', '/contacts/abc', 200, asInt).violations.map((v) => v.instancePath), ['/owner_id']);
  });
});

describe('allowed differences', () => {
  const violation = { operation: 'GET /contacts/{contact_id}', operationId: 'ShowContact', status: 200, version: '2.14', instancePath: '/data/3/location/city' };

  test('match by operation or operationId, pointer prefix and * wildcard, status and version', () => {
    assert.ok(findAllowance([{ operation: 'ShowContact', pointer: '/data/*/location', reason: 'r' }], violation));
    assert.ok(findAllowance([{ operation: 'GET /contacts/{contact_id}', pointer: '/data/3/location/city', reason: 'r' }], violation));
    assert.ok(findAllowance([{ operation: 'ShowContact', pointer: '', reason: 'whole body' }], violation));
    assert.equal(findAllowance([{ operation: 'ShowContact', pointer: '/data/*/name', reason: 'r' }], violation), undefined);
    assert.equal(findAllowance([{ operation: 'ListContacts', pointer: '/data', reason: 'r' }], violation), undefined);
    assert.equal(findAllowance([{ operation: 'ShowContact', pointer: '/data', status: 404, reason: 'r' }], violation), undefined);
    assert.equal(findAllowance([{ operation: 'ShowContact', pointer: '/data', version: '2.16', reason: 'r' }], violation), undefined);
  });

  test('the committed allow list parses, and every entry has a reason', () => {
    const list = loadAllowedDifferences();
    assert.ok(Array.isArray(list));
    for (const d of list) assert.ok(d.reason.trim().length > 0);
  });

  test('entries without a reason are rejected', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-allow-'));
    const file = path.join(dir, 'a.json');
    fs.writeFileSync(file, JSON.stringify({ differences: [{ operation: 'ShowContact', pointer: '/x' }] }));
    assert.throws(() => loadAllowedDifferences(file), /reason/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('the spec examples themselves', () => {
  test('the validator accepts nearly all of Intercom 2.14 own response examples', () => {
    let ok = 0;
    let bad = 0;
    for (const r of spec14.routes) {
      for (const [status, resp0] of Object.entries(r.op.responses ?? {})) {
        const resp = spec14.resolveResponse(resp0);
        for (const ex of Object.values(resp?.content?.['application/json']?.examples ?? {})) {
          if (ex.value === undefined) continue;
          const res = check(spec14, r.method, r.template.replace(/\{[^}]+\}/g, 'p1'), status === 'default' ? 500 : Number(status), ex.value);
          if (res.violations.length) bad++;
          else ok++;
        }
      }
    }
    // A handful of Intercom's own examples contradict their schemas (activity logs, away status).
    assert.ok(ok > 400, `only ${ok} examples validated`);
    assert.ok(bad < 15, `${bad} examples failed — the OpenAPI conversion is probably broken`);
  });
});
