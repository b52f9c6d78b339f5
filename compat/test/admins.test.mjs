// GET /me, GET /admins, GET /admins/{id}

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { ADMIN_EMAIL, expectError, suite } from '../lib/harness.mjs';

suite('admins', (ctx) => {
  ctx.test('GET /me identifies the bootstrap admin and its workspace', async () => {
    const me = await ctx.client.admins.identify();
    assert.equal(me.type, 'admin');
    assert.equal(typeof me.id, 'string');
    assert.match(me.id, /^\d+$/, 'admin ids are numeric strings');
    assert.equal(me.email, ADMIN_EMAIL);
    assert.ok(me.app, 'GET /me embeds the app (workspace)');
    assert.equal(me.app.type, 'app');
    assert.equal(typeof me.app.id_code, 'string');
    assert.ok(me.app.id_code.length > 0);
    assert.equal(typeof me.app.timezone, 'string', 'the workspace time zone is exposed (search matches dates by day in it)');
  });

  ctx.test('GET /admins lists the bootstrap admin', async () => {
    const me = await ctx.me();
    const list = await ctx.client.admins.list();
    assert.equal(list.type, 'admin.list');
    assert.ok(Array.isArray(list.admins));
    const found = list.admins.find((a) => a.id === me.id);
    assert.ok(found, `admin ${me.id} missing from ${JSON.stringify(list.admins.map((a) => a.id))}`);
    assert.equal(found.type, 'admin');
    assert.equal(found.email, ADMIN_EMAIL);
    assert.equal(found.name, me.name);
    assert.equal(typeof found.away_mode_enabled, 'boolean');
    assert.ok(Array.isArray(found.team_ids));
  });

  ctx.test('GET /admins/{id} returns the same admin', async () => {
    const me = await ctx.me();
    const admin = await ctx.client.admins.find({ admin_id: me.id });
    assert.equal(admin.type, 'admin');
    assert.equal(admin.id, me.id);
    assert.equal(admin.email, ADMIN_EMAIL);
    assert.equal(admin.name, me.name);
  });

  ctx.test('GET /admins/{id} for an unknown admin → NotFoundError', async () => {
    await expectError(ctx.client.admins.find({ admin_id: 987654321 }), { status: 404, cls: Intercom.NotFoundError, code: /not_found/ });
  });
});
