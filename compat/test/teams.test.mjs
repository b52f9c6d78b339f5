// Teams and away mode. Parley extension (raw HTTP): POST/PUT/DELETE /teams and
// /assignment_rules. Then the SDK: teams.list, teams.find, admins.away, and the
// admin's team_ids — every SDK response validated against the 2.14 schema.

import assert from 'node:assert/strict';
import { Intercom } from 'intercom-client';
import { expectError, suite } from '../lib/harness.mjs';

suite('teams', (ctx) => {
  const team = () =>
    ctx.once('team', async () => {
      const me = await ctx.me();
      const res = await ctx.raw('POST', '/teams', {
        json: { name: ctx.unique('Sales'), distribution_method: 'balanced', assignment_limit: 5, admin_ids: [Number(me.id)] },
      });
      assert.equal(res.status, 200, `POST /teams → ${res.status}: ${res.text}`);
      return res.json;
    });

  ctx.test('teams.list and teams.find show a team created through the extension', async () => {
    const t = await team();
    const me = await ctx.me();
    const list = await ctx.client.teams.list();
    assert.equal(list.type, 'team.list');
    const found = list.teams.find((x) => x.id === t.id);
    assert.ok(found, `team ${t.id} missing from the list`);
    const one = await ctx.client.teams.find({ team_id: t.id });
    assert.equal(one.type, 'team');
    assert.match(one.id, /^\d+$/);
    assert.deepEqual(one.admin_ids, [Number(me.id)]);
    assert.equal(one.distribution_method, 'balanced');
    assert.equal(one.assignment_limit, 5);
    assert.deepEqual(one.admin_priority_level, { primary_admin_ids: [Number(me.id)], secondary_admin_ids: [] });
  });

  ctx.test('teams.find for an unknown team → NotFoundError team_not_found', async () => {
    await expectError(ctx.client.teams.find({ team_id: '987654321' }), { status: 404, cls: Intercom.NotFoundError, code: 'team_not_found' });
  });

  ctx.test('admins.away sets and clears away mode; the admin lists its teams', async () => {
    const t = await team();
    const me = await ctx.me();
    const away = await ctx.client.admins.away({ admin_id: Number(me.id), away_mode_enabled: true, away_mode_reassign: true });
    assert.equal(away.type, 'admin');
    assert.equal(away.away_mode_enabled, true);
    assert.equal(away.away_mode_reassign, true);
    assert.ok(away.team_ids.includes(Number(t.id)), `team_ids ${JSON.stringify(away.team_ids)}`);
    const admin = await ctx.client.admins.find({ admin_id: me.id });
    assert.equal(admin.away_mode_enabled, true);
    const back = await ctx.client.admins.away({ admin_id: Number(me.id), away_mode_enabled: false, away_mode_reassign: false });
    assert.equal(back.away_mode_enabled, false);
  });

  ctx.test('admins.away for an unknown admin → NotFoundError admin_not_found', async () => {
    await expectError(ctx.client.admins.away({ admin_id: 987654321, away_mode_enabled: true, away_mode_reassign: false }), {
      status: 404, cls: Intercom.NotFoundError, code: 'admin_not_found',
    });
  });

  ctx.test('assignment rules: a bad condition is a 400 naming the field; a good one is listed', async () => {
    const t = await team();
    const bad = await ctx.raw('POST', '/assignment_rules', {
      json: { name: 'bad', team_id: Number(t.id), condition: { field: 'contact.custom_attributes.nope', operator: '=', value: 'x' } },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.errors[0].field, 'condition');
    assert.match(bad.json.errors[0].message, /contact\.custom_attributes\.nope/);
    const ok = await ctx.raw('POST', '/assignment_rules', {
      json: { name: 'pricing', team_id: Number(t.id), condition: { field: 'source.body', operator: '~', value: 'pricing' } },
    });
    assert.equal(ok.status, 200, ok.text);
    const list = await ctx.raw('GET', '/assignment_rules');
    assert.ok(list.json.data.some((r) => r.id === ok.json.id));
    const del = await ctx.raw('DELETE', `/teams/${t.id}`);
    assert.equal(del.status, 400, 'a team used by a rule cannot be deleted');
    assert.equal(del.json.errors[0].code, 'team_has_dependent_objects');
  });
});
