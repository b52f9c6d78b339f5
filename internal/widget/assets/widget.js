/*! Parley Messenger widget. Intercom-compatible window.Intercom API; no dependencies. */
(function (w, d) {
  'use strict';
  if (w.Parley && w.Parley.parley) return; // loaded twice: keep the first

  // ---- where we come from ------------------------------------------------
  var me = d.currentScript || (function () {
    var all = d.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0; i--) if (/\/widget(\.js|\/[^/?#]+)(\?|#|$)/.test(all[i].src)) return all[i];
    return null;
  })();
  var src = me && me.src ? new URL(me.src, location.href) : null;
  var srcOrigin = src ? src.origin : location.origin;
  var srcAppId = src && (src.pathname.match(/\/widget\/([^/]+)$/) || [])[1];
  var stub = w.Intercom;
  var queued = stub && stub.q ? Array.prototype.slice.call(stub.q) : [];

  // Settings keys that configure the widget or identify the person; any other
  // key of intercomSettings / boot / update is a custom attribute (as Intercom).
  var IDENTITY = ['user_id', 'email', 'user_hash', 'intercom_user_jwt', 'name', 'phone', 'created_at'];
  var RESERVED = IDENTITY.concat(['app_id', 'api_base', 'custom_attributes', 'alignment', 'horizontal_padding',
    'vertical_padding', 'hide_default_launcher', 'custom_launcher_selector', 'action_color', 'background_color',
    'z_index', 'language_override', 'session_duration', 'company', 'companies', 'avatar', 'page_title',
    'unsubscribed_from_emails', 'user_id_hash', 'widget', 'utm_source', 'utm_medium', 'utm_campaign',
    'utm_term', 'utm_content', 'last_request_at', 'installation_type']);

  // ---- state ---------------------------------------------------------------
  var S = fresh();
  function fresh() {
    return {
      gen: 0, booted: false, booting: null, opts: {}, appId: null, base: null, token: null,
      visitorId: null, contact: null, settings: {}, lastSeq: 0, ws: null, wsTimer: null, wsTries: 0,
      connected: false, convs: {}, order: [], threads: {}, groups: {}, outbox: [], flushing: false,
      flushTimer: null, flushTries: 0, unread: 0, open: false, view: 'home', cur: null, ui: null,
      typingTimer: null, lastTypingSent: 0, pendingFiles: [], listTimer: null
    };
  }
  var cbs = { show: [], hide: [], unread: [], ready: [] };

  function key(k) { return 'parley:' + S.appId + ':' + k; }
  function load(k) { try { return JSON.parse(localStorage.getItem(key(k)) || 'null'); } catch (e) { return null; } }
  function store(k, v) { try { if (v == null) localStorage.removeItem(key(k)); else localStorage.setItem(key(k), JSON.stringify(v)); } catch (e) { /* private mode */ } }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'x' + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function call(list, arg) { list.slice().forEach(function (f) { try { f(arg); } catch (e) { console.error(e); } }); }

  // ---- HTTP ----------------------------------------------------------------
  function api(method, path, body, idemKey) {
    var h = {}, init = { method: method, headers: h, mode: 'cors', credentials: 'omit' };
    if (S.token) h.Authorization = 'Bearer ' + S.token;
    if (idemKey) h['Idempotency-Key'] = idemKey; // a repeat returns the first write's result
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { h['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(S.base + '/messenger/v1' + path, init).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = t ? JSON.parse(t) : null; } catch (e) { /* not JSON */ }
        if (!r.ok) {
          var m = j && j.errors && j.errors[0] && j.errors[0].message;
          var err = new Error(m || 'HTTP ' + r.status);
          err.status = r.status;
          throw err;
        }
        return j;
      });
    });
  }
  // A network failure (offline, refused, reset) has no status; 5xx and 429 are
  // also worth retrying. Any other 4xx is a definitive answer.
  function retryable(e) { return !e.status || e.status >= 500 || e.status === 429 || e.status === 401; }

  // ---- Intercom API --------------------------------------------------------
  function splitAttrs(o) {
    var out = {}, custom = {};
    Object.keys(o || {}).forEach(function (k) {
      if (IDENTITY.indexOf(k) >= 0) { if (o[k] != null) out[k] = k === 'user_id' ? String(o[k]) : o[k]; }
      else if (k === 'custom_attributes' && o[k] && typeof o[k] === 'object') Object.assign(custom, o[k]);
      else if (RESERVED.indexOf(k) < 0 && typeof o[k] !== 'function' && typeof o[k] !== 'object') custom[k] = o[k];
    });
    if (Object.keys(custom).length) out.custom_attributes = custom;
    return out;
  }

  function boot(opts) {
    opts = Object.assign({}, w.intercomSettings || {}, opts || {});
    if (S.booted || S.booting) teardown();
    S.gen++;
    var gen = S.gen;
    S.opts = opts;
    S.appId = opts.app_id || srcAppId;
    if (!S.appId) { console.warn('Parley: boot needs an app_id'); return; }
    S.base = String(opts.api_base || srcOrigin).replace(/\/+$/, '');
    S.outbox = readOutbox();
    var saved = load('visitor') || {};
    S.visitorId = saved.visitor_id || null;
    var req = splitAttrs(opts);
    req.app_id = S.appId;
    if (saved.visitor_token) req.visitor_token = saved.visitor_token;
    req.page_url = location.href;
    var tries = 0;
    S.booting = new Promise(function (resolve) {
      (function attempt() {
        if (gen !== S.gen) return resolve(false);
        api('POST', '/boot', req).then(function (r) {
          if (gen !== S.gen) return resolve(false);
          S.token = r.session_token;
          S.visitorId = r.visitor_id;
          S.contact = r.contact;
          S.settings = r.settings || {};
          S.lastSeq = r.after || 0;
          store('visitor', { visitor_token: r.visitor_token, visitor_id: r.visitor_id });
          S.booted = true;
          S.booting = null;
          Intercom.booted = true;
          mount();
          setUnread(r.unread_count || 0);
          connect();
          refreshList();
          flush();
          resolve(true);
          call(cbs.ready.splice(0));
        }).catch(function (e) {
          if (gen !== S.gen) return resolve(false);
          if (!retryable(e) || e.status === 401) { console.warn('Parley: boot refused: ' + e.message); S.booting = null; return resolve(false); }
          // Offline or failing: retry with backoff, or at once when the browser is back online.
          var timer = setTimeout(attempt, backoff(tries++));
          S.bootNow = function () { clearTimeout(timer); S.bootNow = null; attempt(); };
        });
      })();
    });
  }

  // teardown forgets the session (a reboot or shutdown); the UI goes too.
  function teardown() {
    S.gen++;
    if (S.ws) { try { S.ws.close(1000); } catch (e) { /* closed */ } }
    clearTimeout(S.wsTimer); clearTimeout(S.flushTimer); clearTimeout(S.listTimer); clearTimeout(S.typingTimer);
    if (S.ui) S.ui.host.remove();
    cleaned = {};
    var keep = { gen: S.gen };
    S = Object.assign(fresh(), keep);
    Intercom.booted = false;
  }

  // Attribute and event calls go out one after the other, in the order the
  // page made them (an update then a trackEvent must not race).
  function serial(f) {
    var gen = S.gen;
    S.chain = (S.chain || Promise.resolve()).then(function () { if (gen === S.gen) return f(); }).catch(function (e) { console.warn('Parley: ' + e.message); });
  }

  function whenBooted(f) {
    if (S.booted) return f();
    if (S.booting) S.booting.then(function (ok) { if (ok) f(); });
  }

  var commands = {
    boot: boot,
    update: function (o) {
      o = o || {};
      if (!S.booted && !S.booting) { if (o.app_id || (w.intercomSettings && w.intercomSettings.app_id)) boot(o); return; }
      var cur = S.opts;
      // A new identity (logging in, or another user) needs a boot: the server
      // identifies users only there. An email change of a user known by
      // user_id is an ordinary update.
      var relogin = (o.user_id != null && String(o.user_id) !== String(cur.user_id)) ||
        (o.email && cur.user_id == null && cur.email && o.email !== cur.email);
      if (relogin) return boot(Object.assign({}, cur, o));
      Object.assign(S.opts, o);
      applyLook();
      var body = splitAttrs(o);
      delete body.user_id; delete body.user_hash; delete body.intercom_user_jwt; delete body.created_at;
      whenBooted(function () {
        if (!Object.keys(body).length) return refreshList();
        serial(function () { return api('POST', '/update', body).then(function (r) { if (r && r.contact) S.contact = r.contact; }); });
      });
    },
    shutdown: function () {
      var app = S.appId;
      teardown();
      S.appId = app;
      if (app) { store('visitor', null); store('outbox', null); }
      S.appId = null;
    },
    show: function () { whenBooted(function () { setOpen(true); }); },
    hide: function () { setOpen(false); },
    showMessages: function () { whenBooted(function () { S.view = 'home'; S.cur = null; setOpen(true); }); },
    showNewMessage: function (text) {
      whenBooted(function () {
        S.view = 'thread'; S.cur = null; setOpen(true);
        if (typeof text === 'string' && S.ui) S.ui.input.value = text;
      });
    },
    showSpace: function (space) { if (space === 'home' || space === 'messages') commands.showMessages(); },
    showConversation: function (id) { whenBooted(function () { S.view = 'thread'; S.cur = String(id); setOpen(true); }); },
    trackEvent: function (name, metadata) {
      whenBooted(function () {
        serial(function () { return api('POST', '/events', { event_name: String(name), metadata: metadata || undefined }); });
      });
    },
    getVisitorId: function () { return S.visitorId || (S.appId && (load('visitor') || {}).visitor_id) || null; },
    onShow: function (f) { if (typeof f === 'function') cbs.show.push(f); },
    onHide: function (f) { if (typeof f === 'function') cbs.hide.push(f); },
    onUnreadCountChange: function (f) { if (typeof f === 'function') { cbs.unread.push(f); if (S.booted) f(S.unread); } },
    ready: function (f) { if (typeof f === 'function') { if (S.booted) f(); else cbs.ready.push(f); } },
    reattach_activator: function () { bindCustomLaunchers(); }
  };

  function Intercom(cmd) {
    var f = commands[cmd];
    if (!f) { console.warn('Parley: unknown command ' + cmd); return; }
    return f.apply(null, Array.prototype.slice.call(arguments, 1));
  }
  Intercom.booted = false;
  Intercom.parley = true;
  w.Intercom = w.Parley = Intercom;

  // ---- conversations -------------------------------------------------------
  function thread(id) {
    return S.threads[id] || (S.threads[id] = { parts: [], ids: {}, loaded: false, admin_seen_at: null });
  }
  function isAdmin(p) { return p && p.author && (p.author.type === 'admin' || p.author.type === 'bot' || p.author.type === 'team'); }
  function addPart(cid, p) {
    var t = thread(cid);
    if (!p || p.id == null || p.id === "" || t.ids[p.id]) return false;
    t.ids[p.id] = true;
    t.parts.push(p);
    t.parts.sort(function (a, b) { return (a.created_at || 0) - (b.created_at || 0) || (+a.id - +b.id) || 0; });
    var c = S.convs[cid];
    if (c && (!c.last_part || (p.created_at || 0) >= (c.last_part.created_at || 0))) {
      c.last_part = { body: p.body, author: p.author, created_at: p.created_at };
      c.updated_at = Math.max(c.updated_at || 0, p.created_at || 0);
    }
    return true;
  }
  function upsertConv(c) {
    var o = S.convs[c.id] || (S.convs[c.id] = { id: c.id });
    ['title', 'state', 'updated_at', 'last_part', 'unread'].forEach(function (k) { if (c[k] !== undefined) o[k] = c[k]; });
    if (S.order.indexOf(c.id) < 0) S.order.push(c.id);
    return o;
  }
  function sortConvs() {
    S.order.sort(function (a, b) { return (S.convs[b].updated_at || 0) - (S.convs[a].updated_at || 0); });
  }
  function takeConversation(c) {
    upsertConv(c);
    var t = thread(c.id);
    t.loaded = true;
    if (c.admin_seen_at !== undefined) t.admin_seen_at = c.admin_seen_at;
    (c.parts || []).forEach(function (p) { addPart(c.id, p); });
  }

  function refreshList() {
    clearTimeout(S.listTimer);
    var gen = S.gen;
    return api('GET', '/conversations').then(function (r) {
      if (gen !== S.gen) return;
      (r.conversations || []).forEach(upsertConv);
      S.listed = true;
      sortConvs();
      recount(r.unread_count);
      render();
    }).catch(function () { /* offline: the socket's reconnection refreshes */ });
  }
  function laterRefresh() { clearTimeout(S.listTimer); S.listTimer = setTimeout(refreshList, 250); }

  function loadThread(id) {
    var gen = S.gen;
    return api('GET', '/conversations/' + encodeURIComponent(id)).then(function (c) {
      if (gen !== S.gen) return;
      takeConversation(c);
      render();
      markSeen(id);
    }).catch(function (e) { if (e.status === 404) { delete S.convs[id]; S.order = S.order.filter(function (x) { return x !== id; }); S.view = 'home'; S.cur = null; render(); } });
  }

  function recount(server) {
    var n = 0;
    S.order.forEach(function (id) { if (S.convs[id].unread) n++; });
    setUnread(server != null && !S.order.length ? server : n);
  }
  function setUnread(n) {
    if (n === S.unread) return renderBadge();
    S.unread = n;
    renderBadge();
    call(cbs.unread, n);
  }

  // The visitor is looking at the conversation: the window is open on it and the page is visible.
  function looking(id) { return S.open && S.view === 'thread' && S.cur === id && d.visibilityState !== 'hidden'; }
  function markSeen(id) {
    var c = S.convs[id];
    if (!looking(id) || !c) return;
    if (c.unread) { c.unread = false; recount(); }
    // Lost while offline: the reconnection reloads the open conversation, which marks it again.
    api('POST', '/conversations/' + encodeURIComponent(id) + '/seen').catch(function () { /* see above */ });
  }

  // ---- the socket ----------------------------------------------------------
  function backoff(n) { return Math.min(30000, 500 * Math.pow(2, n)) * (0.5 + Math.random() / 2); }

  function connect() {
    if (!S.token || S.ws) return;
    clearTimeout(S.wsTimer);
    var gen = S.gen, ws, first = S.wsTries === 0 && !S.everConnected;
    try { ws = new WebSocket(S.base.replace(/^http/, 'ws') + '/messenger/v1/realtime'); } catch (e) { return reconnectLater(); }
    S.ws = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ type: 'hello', session_token: S.token, after: S.lastSeq })); };
    ws.onmessage = function (m) {
      if (gen !== S.gen || S.ws !== ws) return;
      var f;
      try { f = JSON.parse(m.data); } catch (e) { return; }
      if (f.type === 'welcome') {
        S.wsTries = 0;
        S.everConnected = true;
        setConnected(true);
        flush();
        if (!first) { refreshList(); if (S.view === 'thread' && S.cur) loadThread(S.cur); }
      } else if (f.type === 'event') {
        if (f.seq) { if (f.seq <= S.lastSeq) return; S.lastSeq = f.seq; }
        onEvent(f);
      } else if (f.type === 'typing') {
        onTyping(f);
      }
    };
    ws.onclose = function (e) {
      // A socket already let go (the offline handler closed it and a new one
      // may be up) must not touch the state.
      if (S.ws !== ws || gen !== S.gen) return;
      S.ws = null;
      setConnected(false);
      // 1008: the session or resume point is refused. Boot again (at most
      // once a minute, so a persistent refusal cannot loop).
      if (e.code === 1008 && Date.now() - lastReboot > 60000) { lastReboot = Date.now(); return reboot(); }
      reconnectLater();
    };
  }
  function reconnectLater() {
    clearTimeout(S.wsTimer);
    S.wsTimer = setTimeout(connect, backoff(S.wsTries++));
  }
  var lastReboot = 0;
  // The session is no longer valid (expired, key rotated): boot again, same visitor.
  function reboot() { var o = S.opts, open = S.open; boot(o); if (open) commands.show(); }

  function onEvent(f) {
    var id = f.conversation_id;
    if (!id) return;
    var c = S.convs[id] || upsertConv({ id: id, updated_at: f.created_at || Math.floor(Date.now() / 1000) });
    if (f.part) {
      // A part already shown (read with the conversation) changes nothing.
      if (addPart(id, f.part) && isAdmin(f.part)) {
        S.typing = null;
        if (looking(id)) markSeen(id);
        else { c.unread = true; recount(); }
      }
      sortConvs();
    }
    if (f.state) c.state = f.state;
    if (f.topic === 'conversation.contact.seen') { c.unread = false; recount(); }
    if (f.topic === 'conversation.admin.seen') thread(id).admin_seen_at = f.seen_at || f.admin_seen_at || Math.floor(Date.now() / 1000);
    if (!f.part && f.topic !== 'conversation.contact.seen' && f.topic !== 'conversation.admin.seen') laterRefresh();
    render();
  }

  function onTyping(f) {
    if (!f.author || f.author.type === 'user' || f.author.type === 'lead' || f.author.type === 'visitor') return;
    S.typing = { id: f.conversation_id, name: f.author.name || 'Someone' };
    clearTimeout(S.typingTimer);
    S.typingTimer = setTimeout(function () { S.typing = null; renderTyping(); }, 5000);
    renderTyping();
  }

  // ---- sending: an outbox that survives offline periods and reloads -----------
  // Each message gets a client key. It stays in the outbox (localStorage, shared
  // by the visitor's tabs) until the server answered with the part it created.
  // The key goes with the request as its Idempotency-Key: the server answers a
  // repeat with what the first request created. Before sending again after a
  // failure whose outcome is unknown (the request may have reached the server),
  // the conversation is also read back and the message looked for. One tab at a time sends (Web
  // Locks), re-reading the stored outbox before each message.
  function readOutbox() { var o = load('outbox'); return Array.isArray(o) ? o : []; }
  function editOutbox(f) {
    var o = readOutbox();
    o = f(o) || o;
    store('outbox', o);
    S.outbox = o;
  }
  function outboxItem(k, f) { editOutbox(function (o) { o.forEach(function (x) { if (x.key === k) f(x); }); }); }

  function send(text) {
    text = text.trim();
    var files = S.pendingFiles.filter(function (f) { return f.id; });
    if (!text && !files.length) return;
    if (S.pendingFiles.some(function (f) { return !f.id; })) return status('Wait for the upload to finish');
    var it = { key: uuid(), conv: S.cur, group: null, body: text, attachments: files.map(function (f) { return f.id; }),
      files: files.map(function (f) { return { name: f.name, content_type: f.content_type }; }), created: Math.floor(Date.now() / 1000) };
    if (!S.cur) {
      // A new conversation: later messages written before it exists join it.
      S.cur = 'new:' + it.key;
      S.view = 'thread';
    }
    if (S.cur.indexOf('new:') === 0) { it.conv = S.groups[S.cur] || null; it.group = S.cur; }
    editOutbox(function (o) { o.push(it); });
    S.pendingFiles = [];
    S.ui.input.value = '';
    renderFiles();
    render();
    flush();
  }

  function flush() {
    if (S.flushing || !S.booted) return;
    clearTimeout(S.flushTimer);
    S.flushing = true;
    var gen = S.gen;
    var run = function () { return new Promise(function (done) { sendNext(gen, done); }); };
    if (navigator.locks && navigator.locks.request) {
      navigator.locks.request('parley:' + S.appId + ':outbox', run).catch(function () { if (gen === S.gen) S.flushing = false; });
    } else run();
  }

  function sendNext(gen, done) {
    if (gen !== S.gen) return done();
    S.outbox = readOutbox();
    var it = S.outbox[0];
    if (!it) { S.flushing = false; render(); return done(); }
    if (!it.conv && S.groups[it.group]) it.conv = S.groups[it.group];
    // After the page's pending update/trackEvent calls: a name set before
    // writing is on the person the message creates.
    Promise.resolve(S.chain).then(function () { return it.tried ? findSent(it) : null; }).then(function (found) {
      if (found) return found;
      if (!it.tried) {
        it.tried = true;
        it.before = knownIds(it);
        outboxItem(it.key, function (x) { x.tried = true; x.before = it.before; x.conv = it.conv; });
      }
      var body = { body: it.body };
      if (it.attachments.length) body.attachments = it.attachments;
      return it.conv ? api('POST', '/conversations/' + encodeURIComponent(it.conv) + '/reply', body, it.key)
        : api('POST', '/conversations', body, it.key);
    }).then(function (r) {
      if (gen !== S.gen) return done();
      S.sendFailed = false;
      S.flushTries = 0;
      sent(it, r);
      sendNext(gen, done);
    }, function (e) {
      done();
      if (gen !== S.gen) return;
      S.flushing = false;
      if (e.status === 401) { render(); return reboot(); }
      if (!retryable(e)) {
        // Refused for good (e.g. too long): drop it, tell the visitor, and
        // give the text back to edit when the composer is free.
        editOutbox(function (o) { return o.filter(function (x) { return x.key !== it.key; }); });
        if (S.ui && !S.ui.input.value.trim() && (S.cur === it.conv || S.cur === it.group)) S.ui.input.value = it.body;
        status('Not sent: ' + e.message);
        render();
        return flush();
      }
      S.sendFailed = true;
      render();
      S.flushTimer = setTimeout(flush, backoff(S.flushTries++));
    });
  }

  // What the visitor's side already has before the first attempt: the ids of
  // the conversation's parts, or of the conversations when starting one.
  function knownIds(it) {
    if (it.conv) return thread(it.conv).loaded ? Object.keys(thread(it.conv).ids) : null;
    return S.listed ? S.order.slice() : null;
  }
  function sameText(html, text) {
    return clean(html).textContent.replace(/\s+/g, ' ').trim() === text.replace(/\s+/g, ' ').trim();
  }
  function findSent(it) {
    if (it.conv) {
      return api('GET', '/conversations/' + encodeURIComponent(it.conv)).then(function (c) {
        takeConversation(c);
        var p = (c.parts || []).filter(function (p) {
          var fresh = it.before ? it.before.indexOf(String(p.id)) < 0 : (p.created_at || 0) >= it.created - 120;
          return !isAdmin(p) && fresh && sameText(p.body, it.body);
        })[0];
        return p ? { part: p } : null;
      });
    }
    return api('GET', '/conversations').then(function (r) {
      var fresh = (r.conversations || []).filter(function (c) { return it.before ? it.before.indexOf(c.id) < 0 : (c.updated_at || 0) >= it.created - 120; });
      return Promise.all(fresh.map(function (c) { return api('GET', '/conversations/' + encodeURIComponent(c.id)); })).then(function (cs) {
        var c = cs.filter(function (c) { return c.parts && c.parts[0] && sameText(c.parts[0].body, it.body); })[0];
        return c ? { conversation: c } : null;
      });
    });
  }

  function sent(it, r) {
    editOutbox(function (o) { return o.filter(function (x) { return x.key !== it.key; }); });
    var conv = r && r.conversation ? r.conversation : (r && r.parts ? r : null);
    var part = r && r.part ? r.part : (!conv ? r : null);
    if (conv) {
      takeConversation(conv);
      if (it.group) {
        S.groups[it.group] = conv.id;
        editOutbox(function (o) { o.forEach(function (x) { if (x.group === it.group) x.conv = conv.id; }); });
        if (S.cur === it.group) S.cur = conv.id;
      }
    } else if (part && it.conv) {
      upsertConv({ id: it.conv });
      addPart(it.conv, part);
    }
    sortConvs();
    render();
  }

  // ---- attachments -----------------------------------------------------------
  function upload(file) {
    var st = S.settings, types = st.upload_types || [];
    if (st.upload_max_bytes && file.size > st.upload_max_bytes) return status(file.name + ' is too large');
    if (types.length && file.type && types.indexOf(file.type) < 0) return status(file.name + ': this type of file cannot be sent');
    var p = { name: file.name, content_type: file.type };
    S.pendingFiles.push(p);
    renderFiles();
    var fd = new FormData();
    fd.append('file', file, file.name);
    api('POST', '/attachments', fd).then(function (a) { Object.assign(p, a); renderFiles(); }, function (e) {
      S.pendingFiles = S.pendingFiles.filter(function (x) { return x !== p; });
      status(file.name + ' not uploaded: ' + (e.status ? e.message : 'you are offline'));
      renderFiles();
    });
  }
  function attURL(a) { return a.url + (a.url.indexOf('?') < 0 ? '?' : '&') + 'session_token=' + encodeURIComponent(S.token); }
  function absolute(u) { return new URL(u, S.base + '/').href; }

  // ---- HTML from teammates: keep only harmless markup -------------------------
  var TAGS = { P: 1, BR: 1, B: 1, STRONG: 1, I: 1, EM: 1, U: 1, S: 1, A: 1, UL: 1, OL: 1, LI: 1, CODE: 1, PRE: 1, BLOCKQUOTE: 1, H1: 1, H2: 1, H3: 1, IMG: 1, SPAN: 1, DIV: 1 };
  // Returns the body of an inert document (no script runs, nothing loads)
  // holding only the allowed elements and attributes.
  function clean(html) {
    var doc = new DOMParser().parseFromString('<body>' + (html || ''), 'text/html');
    (function walk(n) {
      Array.prototype.slice.call(n.childNodes).forEach(function (c) {
        if (c.nodeType === 3) return;
        if (c.nodeType !== 1 || !TAGS[c.tagName]) {
          if (c.nodeType === 1 && !/^(SCRIPT|STYLE|IFRAME|OBJECT|EMBED|TEMPLATE|NOSCRIPT|TEXTAREA|TITLE|XMP)$/i.test(c.tagName)) { walk(c); while (c.firstChild) n.insertBefore(c.firstChild, c); }
          c.remove();
          return;
        }
        Array.prototype.slice.call(c.attributes).forEach(function (a) {
          var ok = (a.name === 'href' && c.tagName === 'A') || (a.name === 'src' && c.tagName === 'IMG') || a.name === 'alt';
          if (ok && a.name !== 'alt' && !/^(https?:|mailto:)/i.test(a.value.trim())) ok = false;
          if (!ok) c.removeAttribute(a.name);
        });
        if (c.tagName === 'IMG' && !c.hasAttribute('src')) { c.remove(); return; }
        if (c.tagName === 'A') { c.setAttribute('target', '_blank'); c.setAttribute('rel', 'noopener noreferrer nofollow'); }
        walk(c);
      });
    })(doc.body);
    return doc.body;
  }

  // A part's body is cleaned once (render draws the thread again on each event).
  var cleaned = {};
  function cleanPart(p) { return cleaned[p.id] || (cleaned[p.id] = clean(p.body)); }

  // ---- UI --------------------------------------------------------------------
  var CSS = ':host{all:initial}*{box-sizing:border-box}' +
    '.r{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2937;--c:#0057ff;--fc:#fff;--s:#1f2937;--fs:#fff;--h:20px;--v:20px}' +
    'button{font:inherit;cursor:pointer}button:focus-visible,textarea:focus-visible,a:focus-visible{outline:2px solid var(--c);outline-offset:2px}' +
    '.l{position:fixed;bottom:var(--v);right:var(--h);width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:var(--fc);box-shadow:0 4px 16px rgba(0,0,0,.25);z-index:2147483000;display:flex;align-items:center;justify-content:center;padding:0}' +
    '.left .l{right:auto;left:var(--h)}.l svg{width:28px;height:28px;fill:currentColor}' +
    '.b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#e11d48;color:#fff;font:600 12px/20px system-ui,sans-serif}.b[hidden]{display:none}' +
    '.p{position:fixed;bottom:calc(var(--v) + 68px);right:var(--h);width:376px;max-width:calc(100vw - 24px);height:min(620px,calc(100vh - var(--v) - 88px));background:#fff;border-radius:14px;box-shadow:0 8px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}' +
    '.left .p{right:auto;left:var(--h)}.p[hidden]{display:none}' +
    '.hd{background:var(--c);color:var(--fc);padding:16px 18px;display:flex;gap:10px;align-items:flex-start}.hd .t{flex:1;min-width:0}' +
    '.hd h2{margin:0;font-size:17px;font-weight:600}.hd p{margin:4px 0 0;font-size:13px;opacity:.9}.hd button{background:none;border:0;color:inherit;font-size:20px;line-height:1;padding:4px 6px;border-radius:6px}' +
    '.net{background:#fef3c7;color:#78350f;font-size:12px;padding:6px 14px}.net[hidden]{display:none}' +
    '.bd{flex:1;overflow:auto;padding:14px;background:#f9fafb}' +
    '.new{width:100%;padding:12px;border:0;border-radius:10px;background:var(--s);color:var(--fs);font-weight:600;margin-bottom:12px}' +
    '.cl{list-style:none;margin:0;padding:0}.cl button{width:100%;text-align:left;background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:10px 12px;margin-bottom:8px;color:inherit}' +
    '.cl .u{font-weight:700}.cl .u:after{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#e11d48;margin-left:6px}' +
    '.cl small{display:block;color:#6b7280;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}' +
    '.m{max-width:82%;width:fit-content;margin:6px 0;padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #e5e7eb;overflow-wrap:anywhere;clear:both}' +
    '.m.me{margin-left:auto;background:var(--s);color:var(--fs);border-color:rgba(0,0,0,.08)}.m p{margin:0 0 4px}.m p:last-child{margin:0}.m img{max-width:100%;border-radius:8px;display:block}' +
    '.m .a{font-size:12px;color:#6b7280;margin-bottom:2px}.m.me a{color:inherit}.m.q{opacity:.7}.st{font-size:11px;color:#6b7280;text-align:right;margin:-2px 2px 6px}' +
    '.ty{font-size:12px;color:#6b7280;min-height:18px;padding:0 14px}' +
    '.ft{border-top:1px solid #e5e7eb;padding:10px;display:flex;gap:6px;align-items:flex-end;background:#fff}.ft textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:8px 10px;font:inherit;max-height:120px;min-height:38px}' +
    '.ic{border:0;background:none;padding:8px;border-radius:8px;color:#4b5563;display:flex}.sd{border:0;background:var(--s);color:var(--fs);padding:8px 12px;border-radius:10px;font-weight:600}' +
    '.fl{display:flex;flex-wrap:wrap;gap:4px;padding:0 10px}.fl span{font-size:12px;background:#eef2ff;border-radius:6px;padding:2px 6px}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}.back[hidden],.ft[hidden]{display:none}';

  var CLIP = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7L14 4.5a3.5 3.5 0 0 1 5 5L10.5 18a2 2 0 0 1-3-3L15 7.5"/></svg>';
  var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';

  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }

  function mount() {
    if (S.ui) return applyLook();
    if (!d.body) return d.addEventListener('DOMContentLoaded', mount, { once: true });
    var host = el('div', { id: 'parley-messenger' });
    host.style.setProperty('all', 'initial', 'important');
    host.style.setProperty('display', 'block', 'important');
    var root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<style>' + CSS + '</style>' +
      '<div class="r">' +
      '<button class="l" type="button" aria-label="Open the Messenger" aria-expanded="false" aria-controls="pp">' + ICON + '<span class="b" hidden></span></button>' +
      '<div class="p" id="pp" role="dialog" aria-labelledby="pt" hidden>' +
      '<div class="hd"><button class="back" type="button" aria-label="Back to conversations" hidden>&#8592;</button>' +
      '<div class="t"><h2 id="pt"></h2><p class="gr"></p><p class="er"></p></div>' +
      '<button class="x" type="button" aria-label="Close the Messenger">&#215;</button></div>' +
      '<div class="net" role="status" hidden>You are offline. Messages will be sent when you are back.</div>' +
      '<div class="bd"></div><div class="ty" aria-live="polite"></div><div class="fl"></div>' +
      '<div class="ft"><label class="sr" for="pi">Write a message</label>' +
      '<textarea id="pi" rows="1" placeholder="Write a message…" aria-label="Write a message"></textarea>' +
      '<input class="sr" type="file" tabindex="-1" aria-hidden="true">' +
      '<button class="ic at" type="button" aria-label="Attach a file">' + CLIP + '</button>' +
      '<button class="sd" type="button">Send</button></div>' +
      '<div class="sr" role="status" aria-live="polite"></div></div></div>';
    var q = function (s) { return root.querySelector(s); };
    S.ui = { host: host, root: root, wrap: q('.r'), launcher: q('.l'), badge: q('.b'), panel: q('.p'), title: q('#pt'),
      greeting: q('.gr'), expected: q('.er'), body: q('.bd'), typing: q('.ty'), files: q('.fl'), foot: q('.ft'),
      input: q('textarea'), file: q('input[type=file]'), back: q('.back'), close: q('.x'), net: q('.net'), live: q('[role=status].sr') };
    var u = S.ui;
    u.launcher.addEventListener('click', function () { setOpen(!S.open); });
    u.close.addEventListener('click', function () { setOpen(false); });
    u.back.addEventListener('click', function () { S.view = 'home'; S.cur = null; render(); u.body.querySelector('button') && u.body.querySelector('button').focus(); });
    u.wrap.addEventListener('keydown', function (e) { if (e.key === 'Escape' && S.open) { e.preventDefault(); setOpen(false); } });
    u.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(u.input.value); }
    });
    u.input.addEventListener('input', typing);
    q('.sd').addEventListener('click', function () { send(u.input.value); u.input.focus(); });
    q('.at').addEventListener('click', function () { u.file.click(); });
    u.file.addEventListener('change', function () { Array.prototype.forEach.call(u.file.files, upload); u.file.value = ''; });
    d.body.appendChild(host);
    applyLook();
    bindCustomLaunchers();
    render();
  }

  function bindCustomLaunchers() {
    var sel = S.opts.custom_launcher_selector;
    if (!sel) return;
    Array.prototype.forEach.call(d.querySelectorAll(sel), function (n) {
      if (n.parleyBound) return;
      n.parleyBound = true;
      n.addEventListener('click', function (e) { e.preventDefault(); commands.show(); });
    });
  }

  function ink(hex) {
    var m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
    if (!m) return '#fff';
    var n = parseInt(m[1], 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    return (0.299 * r + 0.587 * g + 0.114 * b) > 160 ? '#111827' : '#fff';
  }
  function applyLook() {
    var u = S.ui;
    if (!u) return;
    var st = S.settings, o = S.opts;
    var c = o.action_color || st.color, s = o.background_color || st.secondary_color;
    var css = u.wrap.style;
    if (c) { css.setProperty('--c', c); css.setProperty('--fc', ink(c)); }
    if (s) { css.setProperty('--s', s); css.setProperty('--fs', ink(s)); }
    css.setProperty('--h', (+(o.horizontal_padding != null ? o.horizontal_padding : st.horizontal_padding) || 20) + 'px');
    css.setProperty('--v', (+(o.vertical_padding != null ? o.vertical_padding : st.vertical_padding) || 20) + 'px');
    u.wrap.classList.toggle('left', (o.alignment || st.alignment) === 'left');
    u.launcher.hidden = !!o.hide_default_launcher;
    if (o.hide_default_launcher) u.launcher.style.display = 'none'; else u.launcher.style.display = '';
    u.title.textContent = st.app_name || 'Messages';
    u.greeting.textContent = st.greeting || '';
    u.expected.textContent = st.expected_reply || '';
  }

  // setOpen shows or hides the window; opening an open window shows the
  // view just chosen (showMessages, showNewMessage, … while open).
  function setOpen(open) {
    if (!S.ui || (!open && !S.open)) return;
    var was = S.open;
    S.open = open;
    var u = S.ui;
    u.panel.hidden = !open;
    u.launcher.setAttribute('aria-expanded', String(open));
    u.launcher.setAttribute('aria-label', open ? 'Close the Messenger' : 'Open the Messenger');
    render();
    if (open) {
      if (S.view === 'thread') { u.body.scrollTop = u.body.scrollHeight; if (S.cur && S.cur.indexOf('new:') < 0) loadThread(S.cur); u.input.focus(); }
      else { var b = u.body.querySelector('button'); if (b) b.focus(); }
      if (!was) call(cbs.show);
    } else {
      if (u.root.activeElement || d.activeElement === u.host) u.launcher.focus();
      call(cbs.hide);
    }
  }

  function openThread(id) {
    S.view = 'thread';
    S.cur = id;
    render();
    if (id && id.indexOf('new:') < 0) loadThread(id);
    if (S.ui) S.ui.input.focus();
  }

  function setConnected(on) {
    S.connected = on;
    if (S.ui) S.ui.net.hidden = on || (!S.everConnected && navigator.onLine !== false);
  }

  function typing() {
    if (!S.cur || S.cur.indexOf('new:') === 0) return;
    var now = Date.now();
    if (now - S.lastTypingSent < 3000) return;
    S.lastTypingSent = now;
    api('POST', '/conversations/' + encodeURIComponent(S.cur) + '/typing').catch(function () { /* ephemeral */ });
  }

  function status(text) { if (S.ui) { S.ui.live.textContent = text; S.ui.typing.textContent = text; setTimeout(renderTyping, 4000); } }

  function renderBadge() {
    if (!S.ui) return;
    S.ui.badge.hidden = !S.unread;
    S.ui.badge.textContent = S.unread > 9 ? '9+' : String(S.unread);
    S.ui.badge.setAttribute('aria-label', S.unread + ' unread');
  }
  function renderTyping() {
    if (!S.ui) return;
    S.ui.typing.textContent = S.typing && S.view === 'thread' && S.typing.id === S.cur ? S.typing.name + ' is typing…' : '';
  }
  function renderFiles() {
    var f = S.ui.files;
    f.textContent = '';
    S.pendingFiles.forEach(function (p) { f.appendChild(el('span', null, (p.id ? '' : 'Uploading ') + p.name)); });
  }

  function preview(html) { return clean(html).textContent.trim(); }
  // The teammate who last wrote in a conversation, as far as this tab knows.
  function teammateOf(c) {
    var t = S.threads[c.id], parts = t ? t.parts : [];
    for (var i = parts.length - 1; i >= 0; i--) if (isAdmin(parts[i]) && parts[i].author.name) return parts[i].author.name;
    return c.last_part && isAdmin(c.last_part) ? c.last_part.author.name : null;
  }

  function render() {
    var u = S.ui;
    if (!u) return;
    renderBadge();
    var home = S.view !== 'thread';
    u.back.hidden = home;
    u.foot.hidden = home;
    u.files.hidden = home;
    var body = u.body;
    // The list is rebuilt: keep the keyboard focus on the same control.
    var had = u.root.activeElement && body.contains(u.root.activeElement) ? u.root.activeElement : null;
    var focusSel = had && (had.classList.contains('new') ? '.new' : had.dataset.conversationId ? '[data-conversation-id="' + had.dataset.conversationId + '"]' : null);
    if (home) {
      body.textContent = '';
      var nb = el('button', { type: 'button', 'class': 'new' }, 'Send us a message');
      nb.addEventListener('click', function () { openThread(null); });
      body.appendChild(nb);
      var list = el('ul', { 'class': 'cl', 'aria-label': 'Your conversations' });
      S.order.forEach(function (id) {
        var c = S.convs[id], lp = c.last_part || {};
        var title = c.title || teammateOf(c) || S.settings.app_name || 'Conversation';
        var text = (lp.author && !isAdmin(lp) ? 'You: ' : '') + (preview(lp.body) || (lp.author ? 'Attachment' : ''));
        var li = el('li'), b = el('button', { type: 'button', 'data-conversation-id': id });
        b.appendChild(el('span', { 'class': c.unread ? 'u' : '' }, title));
        b.appendChild(el('small', null, text));
        b.setAttribute('aria-label', title + (c.unread ? ', unread' : '') + ': ' + text);
        b.addEventListener('click', function () { openThread(id); });
        li.appendChild(b);
        list.appendChild(li);
      });
      body.appendChild(list);
      if (focusSel && body.querySelector(focusSel)) body.querySelector(focusSel).focus();
      renderTyping();
      return;
    }
    // The thread is one lasting live region whose entries are kept by key:
    // a new message is added, nothing else is redrawn, so screen readers
    // announce only what is new and images do not load again.
    var cid = S.cur, t = cid && S.threads[cid], lastMine = null, items = [];
    var log = u.log || (u.log = el('div', { role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', 'class': 'log' }));
    if (log.parentNode !== body) { body.textContent = ''; body.appendChild(log); }
    if (u.logFor !== cid) { log.textContent = ''; u.logFor = cid; }
    (t ? t.parts : []).forEach(function (p) {
      var mine = !isAdmin(p);
      if (mine) lastMine = p;
      items.push({ key: 'p' + p.id, build: function () {
        var m = el('div', { 'class': 'm' + (mine ? ' me' : ''), 'data-part-id': String(p.id) });
        if (!mine) m.appendChild(el('div', { 'class': 'a' }, (p.author && p.author.name) || S.settings.app_name || ''));
        var content = el('div', { 'class': 'tx' });
        // The cleaned nodes are copied in, never serialized and parsed again
        // (which is where sanitizers meet mutation XSS).
        Array.prototype.forEach.call(cleanPart(p).childNodes, function (n) { content.appendChild(d.importNode(n, true)); });
        m.appendChild(content);
        (p.attachments || []).forEach(function (a) { m.appendChild(attachment(a)); });
        return m;
      } });
    });
    // Queued messages of this conversation; one whose part already arrived
    // over the socket (before the answer to its POST) is not shown twice.
    var pending = S.outbox.filter(function (it) {
      if (it.conv ? it.conv !== cid : it.group !== cid) return false;
      return !(it.tried && it.before && t && t.parts.some(function (p) { return !isAdmin(p) && it.before.indexOf(String(p.id)) < 0 && sameText(p.body, it.body); }));
    });
    var note = S.sendFailed ? 'Not sent yet — will send when you are back online' : 'Sending…';
    pending.forEach(function (it) {
      items.push({ key: 'q' + it.key, build: function () {
        var m = el('div', { 'class': 'm me q', 'data-pending': it.key });
        it.body.split(/\n{2,}/).forEach(function (para) { m.appendChild(el('p', null, para)); });
        it.files.forEach(function (f) { m.appendChild(el('div', null, '📎 ' + f.name)); });
        return m;
      } });
      items.push({ key: 's' + it.key + note, build: function () { return el('div', { 'class': 'st' }, note); } });
    });
    if (!pending.length && lastMine && t.admin_seen_at && t.admin_seen_at >= lastMine.created_at) {
      items.push({ key: 'seen' + lastMine.id, build: function () { return el('div', { 'class': 'st seen' }, 'Seen'); } });
    }
    var conv = cid && S.convs[cid];
    if (conv && conv.state === 'closed' && !pending.length) {
      items.push({ key: 'closed', build: function () { return el('div', { 'class': 'st closed' }, 'This conversation is closed. Write to reopen it.'); } });
    }
    if ((!t || !t.parts.length) && !pending.length) {
      items.push({ key: 'hello', build: function () { return el('div', { 'class': 'm' }, S.settings.greeting || 'Ask us anything.'); } });
    }
    var old = {}, prev = null, added = false;
    Array.prototype.forEach.call(log.children, function (n) { old[n.dataset.k] = n; });
    items.forEach(function (it) {
      var n = old[it.key];
      delete old[it.key];
      if (!n) { n = it.build(); n.dataset.k = it.key; added = true; }
      var at = prev ? prev.nextSibling : log.firstChild;
      if (n !== at) log.insertBefore(n, at);
      prev = n;
    });
    Object.keys(old).forEach(function (k) { old[k].remove(); });
    if (added) body.scrollTop = body.scrollHeight;
    renderTyping();
  }

  function attachment(a) {
    var url = absolute(attURL(a));
    if (/^image\//.test(a.content_type || '')) {
      var img = el('img', { alt: a.name || 'image', src: url, loading: 'lazy' });
      return img;
    }
    var link = el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', download: a.name || '' }, '📎 ' + (a.name || 'file'));
    var box = el('div');
    box.appendChild(link);
    return box;
  }

  // ---- page lifecycle -----------------------------------------------------------
  w.addEventListener('online', function () {
    if (!S.booted) { if (S.bootNow) S.bootNow(); return; }
    clearTimeout(S.wsTimer); S.wsTries = 0; S.flushTries = 0;
    connect(); flush();
  });
  w.addEventListener('offline', function () {
    if (!S.booted) return;
    if (S.ws) { var ws = S.ws; S.ws = null; try { ws.close(); } catch (e) { /* closed */ } }
    setConnected(false);
    reconnectLater();
  });
  // Another tab of the visitor queued or sent a message.
  w.addEventListener('storage', function (e) {
    if (S.booted && e.key === key('outbox')) { S.outbox = readOutbox(); render(); }
  });
  d.addEventListener('visibilitychange', function () { if (S.cur && looking(S.cur)) markSeen(S.cur); });

  // ---- start: the snippet's queued calls, in order; else boot from intercomSettings -----
  var hasBoot = queued.some(function (a) { return a[0] === 'boot'; });
  if (!hasBoot && (w.intercomSettings && w.intercomSettings.app_id || srcAppId)) boot();
  queued.forEach(function (args) { try { Intercom.apply(null, args); } catch (e) { console.error(e); } });
})(window, document);
