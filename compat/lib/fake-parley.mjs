#!/usr/bin/env node
// A tiny stand-in for the Parley binary, used only by test/harness.selftest.mjs to prove
// that the harness (process start/stop, proxy, validator, SDK error mapping) works and
// that it catches schema violations. Usage mirrors the real binary:
//   fake-parley.mjs serve --addr 127.0.0.1:PORT --data DIR
// FAKE_PARLEY_MODE=crash      exits 3 at start-up after printing to stderr
// FAKE_PARLEY_MODE=dirty-exit exits 1 on SIGTERM

import fs from 'node:fs';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (args[0] !== 'serve' || !opt('--addr') || !opt('--data')) {
  process.stderr.write(`usage: serve --addr HOST:PORT --data DIR (got ${args.join(' ')})\n`);
  process.exit(2);
}
if (!fs.existsSync(opt('--data'))) {
  process.stderr.write(`data dir ${opt('--data')} missing\n`);
  process.exit(2);
}
const token = process.env.PARLEY_BOOTSTRAP_TOKEN;
if (!token || process.env.PARLEY_ADMIN_EMAIL !== 'owner@example.com' || !process.env.PARLEY_ADMIN_PASSWORD) {
  process.stderr.write('bootstrap env missing\n');
  process.exit(2);
}
if (process.env.FAKE_PARLEY_MODE === 'crash') {
  process.stderr.write('boom: cannot open database\n');
  process.exit(3);
}

const now = Math.floor(Date.now() / 1000);
const contact = (id) => ({
  type: 'contact',
  id,
  workspace_id: 'fake',
  external_id: `ext-${id}`,
  role: 'user',
  email: `${id}@example.com`,
  name: null,
  created_at: now,
  updated_at: now,
  custom_attributes: {},
  location: { type: 'location', country: null, region: null, city: null },
});
const contacts = Array.from({ length: 7 }, (_, i) => contact(`c${i + 1}`));

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'x-ratelimit-limit': '10000',
    'x-ratelimit-remaining': '9999',
    'x-ratelimit-reset': String(now + 10),
    ...headers,
  });
  res.end(text);
}
const error = (res, status, code, message) => send(res, status, { type: 'error.list', request_id: 'req-1', errors: [{ code, message }] });

const server = http.createServer(async (req, res) => {
  for await (const _ of req);
  const url = new URL(req.url, 'http://fake');
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.headers.authorization !== `Bearer ${token}`) return error(res, 401, 'unauthorized', 'Access Token Invalid');
  const p = url.pathname;
  if (req.method === 'GET' && p === '/me') {
    return send(res, 200, { type: 'admin', id: '1', name: 'Owner', email: 'owner@example.com', app: { type: 'app', id_code: 'fake', name: 'Fake', timezone: 'UTC' } });
  }
  if (req.method === 'GET' && p === '/contacts') {
    const perPage = Number(url.searchParams.get('per_page') ?? 50);
    const after = url.searchParams.get('starting_after');
    const start = after ? contacts.findIndex((c) => c.id === after) + 1 : 0;
    const data = contacts.slice(start, start + perPage);
    const pages = { type: 'pages', page: Math.floor(start / perPage) + 1, per_page: perPage, total_pages: Math.ceil(contacts.length / perPage) };
    if (start + perPage < contacts.length) pages.next = { per_page: perPage, starting_after: data[data.length - 1].id };
    return send(res, 200, { type: 'list', data, total_count: contacts.length, pages });
  }
  if (req.method === 'GET' && p === '/contacts/bad') {
    return send(res, 200, { ...contact('bad'), id: 12345, created_at: '2024-01-01' });
  }
  if (req.method === 'GET' && p.startsWith('/contacts/')) return send(res, 200, contact(p.split('/')[2]));
  if (req.method === 'GET' && p.startsWith('/companies/')) return error(res, 404, 'company_not_found', 'Company Not Found');
  if (req.method === 'POST' && p === '/segments') return send(res, 200, { type: 'segment', id: 's1', whatever: 1 });
  return error(res, 404, 'not_found', 'Resource Not Found');
});

const [host, port] = opt('--addr').split(':');
server.listen(Number(port), host);
process.on('SIGTERM', () => {
  server.close(() => process.exit(process.env.FAKE_PARLEY_MODE === 'dirty-exit' ? 1 : 0));
  server.closeAllConnections();
});
