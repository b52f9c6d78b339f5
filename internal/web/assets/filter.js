// Parley's filter builder (docs/web.md "Filter builder"): turns
// <div data-filter-builder data-model=M data-for=ID><textarea id=ID>
// into AND/OR groups of conditions and writes the filter language's JSON
// back into the textarea on every change. Dependency-free.
(function () {
  'use strict';
  var WORDS = {
    '=': 'is', '!=': 'is not', 'IN': 'is any of', 'NIN': 'is none of', '<': 'less than', '>': 'greater than',
    '<=': 'at most', '>=': 'at least', '~': 'contains', '!~': 'does not contain', '^': 'starts with', '$': 'ends with',
    '=null': 'is unknown', '!=null': 'has any value'
  };
  var DATE_WORDS = { '=': 'is on', '!=': 'is not on', '<': 'is before', '>': 'is after', '<=': 'is on or before', '>=': 'is on or after' };
  var MULTI = { 'IN': 1, 'NIN': 1 };

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  // Time zones: a wall-clock time in the workspace zone ↔ Unix seconds.
  function parts(ms, zone) {
    var o = {};
    new Intl.DateTimeFormat('en-US', { timeZone: zone || 'UTC', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms)).forEach(function (p) { o[p.type] = p.value; });
    return o;
  }
  function offset(ms, zone) {
    var p = parts(ms, zone);
    return Date.UTC(+p.year, p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
  }
  function toUnix(text, zone) {
    var m = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d))?/.exec(text || '');
    if (!m) return text;
    var wall = Date.UTC(+m[1], m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0));
    var utc = wall - offset(wall, zone);
    utc = wall - offset(utc, zone);
    return Math.floor(utc / 1000);
  }
  function fromUnix(v, zone, withTime) {
    if (typeof v !== 'number') return '';
    var p = parts(v * 1000, zone);
    return p.year + '-' + p.month + '-' + p.day + (withTime ? 'T' + p.hour + ':' + p.minute : '');
  }

  function Builder(root) {
    this.root = root;
    this.area = document.getElementById(root.getAttribute('data-for'));
    this.model = root.getAttribute('data-model');
    this.n = 0;
    var self = this;
    fetch('/app/filter/fields?model=' + encodeURIComponent(this.model), { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (fields) { self.start(fields); })
      .catch(function () { /* keep the plain textarea */ });
  }

  Builder.prototype.start = function (fields) {
    var self = this;
    this.fields = fields;
    this.byName = {};
    fields.forEach(function (f) { self.byName[f.field] = f; });
    this.ui = el('div', { 'class': 'fb', role: 'group', 'aria-label': 'Filter conditions' });
    this.msg = el('p', { 'class': 'fb-msg', role: 'status' });
    var label = this.root.querySelector('label[for="' + this.area.id + '"]');
    var json = el('div', { 'class': 'fb-json', id: this.area.id + '-json', hidden: true });
    if (label) json.appendChild(label);
    json.appendChild(this.area);
    this.toggle = el('button', { type: 'button', 'class': 'fb-toggle', 'aria-expanded': 'false', 'aria-controls': json.id, onclick: function () {
      self.showJSON(json.hidden);
    } }, [document.createTextNode('Edit as JSON')]);
    this.json = json;
    this.root.insertBefore(this.ui, this.root.firstChild);
    this.root.insertBefore(this.msg, this.ui.nextSibling);
    this.root.insertBefore(this.toggle, this.msg.nextSibling);
    this.root.insertBefore(json, this.toggle.nextSibling);
    this.root.classList.add('fb-on');
    this.area.addEventListener('change', function () { self.load(); });
    this.load();
  };

  Builder.prototype.showJSON = function (open) {
    this.json.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
  };

  // load reads the textarea into the tree; a filter the builder cannot
  // show leaves the JSON open for editing.
  Builder.prototype.load = function () {
    var text = this.area.value.trim(), tree = { op: 'AND', items: [] };
    if (text) {
      try { tree = this.read(JSON.parse(text), 0); } catch (e) {
        this.msg.textContent = 'This filter cannot be shown in the builder; edit it as JSON.';
        this.showJSON(true);
        return;
      }
      if (!tree.items) tree = { op: 'AND', items: [tree] };
    }
    this.msg.textContent = '';
    this.tree = tree;
    this.render();
  };

  Builder.prototype.read = function (v, depth) {
    var self = this;
    if (!v || typeof v !== 'object') throw new Error('not a filter');
    if (v.operator === 'AND' || v.operator === 'OR') {
      if (depth > 1 || !Array.isArray(v.value)) throw new Error('too deep');
      return { op: v.operator, items: v.value.map(function (x) { return self.read(x, depth + 1); }) };
    }
    if (typeof v.field !== 'string') throw new Error('no field');
    var op = v.operator;
    if (v.value === null && (op === '=' || op === '!=')) op += 'null';
    return { field: v.field, op: op, value: v.value };
  };

  Builder.prototype.field = function (name) {
    return this.byName[name] || { field: name, label: name, type: 'string', kind: 'string', operators: ['=', '!=', 'IN', 'NIN', '~', '!~', '^', '$', '=null', '!=null'] };
  };

  // write puts the tree into the textarea as the filter language.
  Builder.prototype.write = function () {
    function out(n) {
      if (n.items) {
        var kids = n.items.map(out).filter(Boolean);
        return kids.length ? { operator: n.op, value: kids } : null;
      }
      if (!n.field) return null;
      var op = n.op, value = n.value;
      if (/null$/.test(op)) { op = op.slice(0, -4); value = null; }
      return { field: n.field, operator: op, value: value };
    }
    var v = out(this.tree);
    if (v && v.value.length === 1 && v.value[0].field) v = v.value[0];
    this.area.value = v ? JSON.stringify(v) : '';
  };

  Builder.prototype.changed = function (focusId) {
    this.write();
    this.render(focusId);
  };

  Builder.prototype.render = function (focusId) {
    this.n = this.g = 0;
    this.ui.textContent = '';
    this.ui.appendChild(this.group(this.tree, null, 0));
    var f = focusId && document.getElementById(focusId);
    if (f) f.focus();
  };

  Builder.prototype.id = function (what) { return this.area.id + '-fb-' + what + '-' + this.n; };

  Builder.prototype.group = function (g, parent, depth) {
    var self = this, gi = depth ? ++this.g : 0, opId = (++this.n, this.id('match'));
    var head = el('div', { 'class': 'fb-head' }, [
      el('label', { 'for': opId, text: depth ? 'Group ' + gi + ': match' : 'Match' }),
      el('select', { id: opId, onchange: function () { g.op = this.value; self.changed(opId); } }, [
        el('option', { value: 'AND', selected: g.op === 'AND', text: 'all of these conditions' }),
        el('option', { value: 'OR', selected: g.op === 'OR', text: 'any of these conditions' })
      ])
    ]);
    var box = el('div', { 'class': 'fb-group' + (depth ? ' fb-sub' : ''), role: 'group', 'aria-label': depth ? 'Group ' + gi : 'All conditions' }, [head]);
    var list = el('ol', { 'class': 'fb-list' });
    g.items.forEach(function (item, i) {
      list.appendChild(el('li', {}, [item.items ? self.group(item, g, depth + 1) : self.cond(item, g, i)]));
    });
    box.appendChild(list);
    var addId = this.id('add');
    var acts = el('div', { 'class': 'fb-acts' }, [
      el('button', { type: 'button', id: addId, onclick: function () {
        g.items.push({ field: self.fields[0].field, op: self.fields[0].operators[0], value: self.blank(self.fields[0], self.fields[0].operators[0]) });
        self.changed(addId);
      } }, [document.createTextNode('Add condition')])
    ]);
    if (!depth) {
      var grpId = this.id('addgroup');
      acts.appendChild(el('button', { type: 'button', id: grpId, onclick: function () {
        var f = self.fields[0];
        g.items.push({ op: g.op === 'AND' ? 'OR' : 'AND', items: [{ field: f.field, op: f.operators[0], value: self.blank(f, f.operators[0]) }] });
        self.changed(grpId);
      } }, [document.createTextNode('Add group')]));
    } else {
      acts.appendChild(el('button', { type: 'button', onclick: function () {
        parent.items.splice(parent.items.indexOf(g), 1);
        self.changed(self.area.id + '-fb-match-1');
      } }, [document.createTextNode('Remove group ' + gi)]));
    }
    box.appendChild(acts);
    return box;
  };

  Builder.prototype.blank = function (f, op) {
    if (/null$/.test(op)) return null;
    if (MULTI[op]) return [];
    if (f.type === 'boolean') return true;
    if (f.options && f.options.length) return this.typed(f, f.options[0].value);
    return f.kind === 'integer' || f.kind === 'float' ? 0 : '';
  };

  // typed converts an input's text to the field's JSON value.
  Builder.prototype.typed = function (f, text) {
    if (f.type === 'date' || f.type === 'datetime') return toUnix(text, f.zone);
    if (f.kind === 'integer' || f.kind === 'float') return text === '' || isNaN(+text) ? text : +text;
    if (f.kind === 'boolean') return text === 'true';
    return text;
  };

  Builder.prototype.cond = function (c, g, i) {
    var self = this, f = this.field(c.field), n = ++this.n;
    var fid = this.id('field'), oid = this.id('op'), vid = this.id('value');
    var fieldSel = el('select', { id: fid, 'aria-label': 'Field of condition ' + n, onchange: function () {
      var nf = self.field(this.value);
      c.field = nf.field;
      if (nf.operators.indexOf(c.op) < 0) c.op = nf.operators[0];
      c.value = self.blank(nf, c.op);
      self.changed(fid);
    } });
    var known = false;
    this.fields.forEach(function (x) {
      if (x.field === c.field) known = true;
      fieldSel.appendChild(el('option', { value: x.field, selected: x.field === c.field, text: x.label }));
    });
    if (!known) fieldSel.appendChild(el('option', { value: c.field, selected: true, text: c.field }));
    var words = f.type === 'date' || f.type === 'datetime' ? DATE_WORDS : {};
    var opSel = el('select', { id: oid, 'aria-label': 'Operator of condition ' + n, onchange: function () {
      var was = c.op;
      c.op = this.value;
      if (!!MULTI[was] !== !!MULTI[c.op] || /null$/.test(was) || /null$/.test(c.op)) c.value = self.blank(f, c.op);
      self.changed(oid);
    } });
    f.operators.forEach(function (op) {
      opSel.appendChild(el('option', { value: op, selected: op === c.op, text: words[op] || WORDS[op] || op }));
    });
    var row = el('div', { 'class': 'fb-cond' }, [fieldSel, opSel, this.value(c, f, vid, n),
      el('button', { type: 'button', 'class': 'fb-remove', 'aria-label': 'Remove condition ' + n, onclick: function () {
        g.items.splice(g.items.indexOf(c), 1);
        self.changed(self.area.id + '-fb-match-1');
      } }, [document.createTextNode('×')])]);
    return row;
  };

  Builder.prototype.value = function (c, f, vid, n) {
    var self = this, label = 'Value of condition ' + n, input;
    if (/null$/.test(c.op)) return null;
    var set = function (v) { c.value = v; self.write(); };
    if (f.type === 'options' || f.type === 'boolean') {
      var opts = f.type === 'boolean' ? [{ value: 'true', label: 'true' }, { value: 'false', label: 'false' }] : f.options || [];
      var multi = !!MULTI[c.op], chosen = [].concat(c.value).map(String);
      input = el('select', { id: vid, 'aria-label': label, multiple: multi, onchange: function () {
        var vals = [].filter.call(this.options, function (o) { return o.selected; }).map(function (o) { return self.typed(f, o.value); });
        set(multi ? vals : vals[0]);
      } });
      opts.forEach(function (o) { input.appendChild(el('option', { value: o.value, selected: chosen.indexOf(String(o.value)) >= 0, text: o.label })); });
      if (chosen.length && chosen[0] !== '' && !opts.some(function (o) { return chosen.indexOf(String(o.value)) >= 0; })) {
        input.appendChild(el('option', { value: chosen[0], selected: true, text: chosen[0] }));
      }
      return input;
    }
    if (MULTI[c.op]) {
      return el('input', { id: vid, 'aria-label': label + ' (separate with commas)', value: [].concat(c.value).join(', '), oninput: function () {
        set(this.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean).map(function (s) { return self.typed(f, s); }));
      } });
    }
    var type = { date: 'date', datetime: 'datetime-local', integer: 'number', float: 'number' }[f.type] || 'text';
    var shown = type === 'date' || type === 'datetime-local' ? fromUnix(c.value, f.zone, type !== 'date') : c.value;
    return el('input', { id: vid, type: type, step: f.type === 'float' ? 'any' : null, 'aria-label': label, value: shown, oninput: function () {
      set(self.typed(f, this.value));
    } });
  };

  function init() {
    [].forEach.call(document.querySelectorAll('[data-filter-builder]'), function (root) {
      if (!root.builder) root.builder = new Builder(root);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
