// The inbox's JavaScript (docs/web.md "Inbox"), no dependencies. Every
// page works without it; it adds:
// - live updates: it opens the web app's socket (/app/realtime, signed in
//   by the session cookie) and, when a conversation changes, fetches the
//   page again and swaps in the parts that changed; it reconnects after a
//   drop. It shows @mentions of the teammate and the contact's typing.
// - the composer's helpers: saved replies and @mentions inserted at the
//   cursor, Ctrl+Enter sends.
// - select all and keyboard shortcuts (the "?" help on the page).
(function () {
  "use strict";
  var inbox = document.getElementById("inbox");
  var conv = document.getElementById("conversation");
  if (!inbox && !conv) return;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;
  // The last sequence seen: the page's at first, then each frame's, so a
  // (re)connection resumes without a gap.
  var seq = Number((inbox || conv).dataset.seq);

  // The ids of the listed conversations, for j/k on a conversation page.
  function rememberList() {
    if (!inbox) return;
    var ids = [].map.call(inbox.querySelectorAll(".row"), function (r) { return r.dataset.id; });
    try { sessionStorage.setItem("parley.list", JSON.stringify(ids)); } catch (e) { /* private mode */ }
  }

  function swap(id, doc) {
    var el = $(id), f = doc.getElementById(id);
    if (el && f) el.innerHTML = f.innerHTML;
  }

  function refresh() {
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      fetch(location.href, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (inbox) {
          var fresh = doc.getElementById("inbox");
          if (!fresh) return;
          var known = {}, checked = {};
          inbox.querySelectorAll(".row").forEach(function (r) { known[r.dataset.id] = true; });
          inbox.querySelectorAll(".sel:checked").forEach(function (c) { checked[c.value] = true; });
          fresh.querySelectorAll(".row").forEach(function (r) { if (!known[r.dataset.id]) r.classList.add("new"); });
          // The view list always; the list's rows and total, or the whole
          // list when the bulk form comes or goes. Forms being filled stay.
          inbox.querySelector(".views ul").innerHTML = fresh.querySelector(".views ul").innerHTML;
          if (!!inbox.querySelector("#bulk") !== !!fresh.querySelector("#bulk")) {
            inbox.querySelector(".list").innerHTML = fresh.querySelector(".list").innerHTML;
          } else {
            inbox.querySelector("#rows").innerHTML = fresh.querySelector("#rows").innerHTML;
            var t = inbox.querySelector(".total"), ft = fresh.querySelector(".total");
            if (t && ft) t.innerHTML = ft.innerHTML;
          }
          inbox.querySelectorAll(".sel").forEach(function (c) { c.checked = !!checked[c.value]; });
          initList();
          rememberList();
        }
        if (conv) ["parts", "status", "tags-line"].forEach(function (id) { swap(id, doc); });
        document.body.dataset.liveRefreshed = String(Date.now());
      }).catch(function () {});
    }, 150);
  }

  // A notice for the teammate (a mention), read out by screen readers.
  function notify(text, href) {
    var n = $("live-note");
    if (!n) {
      n = document.createElement("p");
      n.id = "live-note";
      n.className = "live-note floating";
      n.setAttribute("role", "status");
      document.body.appendChild(n);
    }
    n.textContent = "";
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    n.appendChild(a);
  }

  var typingTimer = null;
  function typing(name) {
    var t = $("typing");
    if (!t) return;
    t.textContent = name + " is typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { t.textContent = ""; }, 5000);
  }

  var delay = 1000;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/app/realtime" + (seq >= 0 ? "?after=" + seq : ""));
    ws.onopen = function () { delay = 1000; document.body.dataset.live = "on"; };
    ws.onmessage = function (m) {
      var f;
      try { f = JSON.parse(m.data); } catch (e) { return; }
      var mine = conv && f.conversation_id === conv.dataset.id;
      if (f.type === "typing") {
        if (mine) typing(f.name);
        return;
      }
      if (f.type !== "event" && f.type !== "mention") return;
      if (f.seq > seq) seq = f.seq;
      if (f.type === "mention" && !mine) notify("You were mentioned in conversation #" + f.conversation_id, "/app/conversations/" + f.conversation_id);
      if (mine) { var t = $("typing"); if (t) t.textContent = ""; }
      if (inbox || mine) refresh();
    };
    ws.onclose = function () {
      document.body.dataset.live = "off";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();

  // The list: "select all" exists only with JavaScript.
  function initList() {
    if (!inbox) return;
    var all = $("select-all");
    if (!all) return;
    all.parentNode.hidden = false;
    all.checked = false;
    all.onchange = function () {
      inbox.querySelectorAll(".sel").forEach(function (c) { c.checked = all.checked; });
    };
  }
  initList();
  rememberList();

  // The composer.
  var body = $("body"), mode = "reply";
  function insert(text) {
    if (!body) return;
    var s = body.selectionStart || 0, e = body.selectionEnd || 0, v = body.value;
    body.value = v.slice(0, s) + text + v.slice(e);
    body.selectionStart = body.selectionEnd = s + text.length;
    body.focus();
  }
  function setMode(m) {
    mode = m;
    var c = $("composer");
    if (c) c.classList.toggle("note-mode", m === "note");
    if (body) body.focus();
  }
  var picker = $("saved-picker");
  if (picker) picker.addEventListener("submit", function (e) {
    var o = $("saved").selectedOptions[0];
    if (!o || !body) return;
    e.preventDefault();
    insert(o.dataset.text);
  });
  // The Mention menu (shown with JavaScript; without it the help text
  // says to type @Full Name) inserts a name and switches to a note.
  var mention = $("mention");
  if (mention) $("mention-row").hidden = false;
  if (mention) mention.addEventListener("change", function () {
    if (!mention.value) return;
    setMode("note");
    var v = body.value, s = body.selectionStart || 0;
    insert((s > 0 && !/\s/.test(v.charAt(s - 1)) ? " " : "") + mention.value + " ");
    mention.value = "";
  });

  // Typing "@" and the start of a name offers the matching teammates
  // (a listbox under the composer: arrows choose, Enter or Tab inserts,
  // Escape closes).
  var names = mention ? [].slice.call(mention.options).filter(function (o) { return o.value; }).map(function (o) { return o.value.slice(1); }) : [];
  var sug = null, matches = [], active = -1, at = -1;
  function closeSug() {
    if (!sug) return;
    sug.hidden = true;
    body.setAttribute("aria-expanded", "false");
    body.removeAttribute("aria-activedescendant");
  }
  function mark() {
    [].forEach.call(sug.children, function (li, i) { li.setAttribute("aria-selected", String(i === active)); });
    body.setAttribute("aria-activedescendant", "mention-opt-" + active);
  }
  function pick(i) {
    var end = body.selectionStart, name = "@" + matches[i] + " ";
    body.value = body.value.slice(0, at) + name + body.value.slice(end);
    body.selectionStart = body.selectionEnd = at + name.length;
    closeSug();
    setMode("note");
  }
  function suggest() {
    var m = /(^|\s)@([^\s@]{0,40})$/.exec(body.value.slice(0, body.selectionStart));
    var q = m ? m[2].toLowerCase() : "";
    matches = m ? names.filter(function (n) { n = n.toLowerCase(); return n.indexOf(q) === 0 || n.indexOf(" " + q) > 0; }).slice(0, 6) : [];
    if (!matches.length) return closeSug();
    at = body.selectionStart - m[2].length - 1;
    if (!sug) {
      sug = document.createElement("ul");
      sug.id = "mention-suggest";
      sug.className = "suggest";
      sug.setAttribute("role", "listbox");
      sug.setAttribute("aria-label", "Teammates to mention");
      body.parentNode.insertBefore(sug, body.nextSibling);
      body.setAttribute("aria-controls", "mention-suggest");
      body.setAttribute("aria-autocomplete", "list");
    }
    sug.textContent = "";
    matches.forEach(function (n, i) {
      var li = document.createElement("li");
      li.id = "mention-opt-" + i;
      li.setAttribute("role", "option");
      li.textContent = n;
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
      sug.appendChild(li);
    });
    active = 0;
    mark();
    sug.hidden = false;
    body.setAttribute("aria-expanded", "true");
  }
  // The key that picked a name types nothing (also when the browser sends
  // its character apart from the key press).
  var swallow = null;
  if (body && names.length) {
    body.addEventListener("input", suggest);
    body.addEventListener("keypress", function (e) { if (swallow && e.key === swallow) e.preventDefault(); });
    body.addEventListener("keyup", function () { swallow = null; });
    body.addEventListener("blur", function () { setTimeout(closeSug, 150); });
  }
  if (body) body.addEventListener("keydown", function (e) {
    if (sug && !sug.hidden) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") active = (active + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length, mark();
      else if (e.key === "Enter" || e.key === "Tab") { pick(active); swallow = e.key; }
      else if (e.key === "Escape") closeSug();
      else return;
      e.preventDefault();
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("composer").requestSubmit($(mode === "note" ? "send-note" : "send-reply"));
    }
  });

  // Keyboard shortcuts; never while typing in a field.
  function go(step) {
    if (inbox) {
      var links = [].slice.call(inbox.querySelectorAll(".row a"));
      if (!links.length) return;
      var i = links.indexOf(document.activeElement);
      var n = i < 0 ? (step > 0 ? 0 : links.length - 1) : Math.max(0, Math.min(links.length - 1, i + step));
      links[n].focus();
      return;
    }
    var ids = [];
    try { ids = JSON.parse(sessionStorage.getItem("parley.list") || "[]"); } catch (e) { /* none */ }
    var at = ids.indexOf(conv.dataset.id), next = ids[at + step];
    if (at >= 0 && next) location.href = "/app/conversations/" + next;
    else notify(step > 0 ? "No next conversation: back to the inbox" : "No previous conversation: back to the inbox", "/app/inbox");
  }
  var pending = null;
  document.addEventListener("keyup", function (e) {
    if (pending && (e.key === "r" || e.key === "n")) { setMode(pending); pending = null; }
  });
  function focus(id) { var el = $(id); if (el) el.focus(); }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var help = $("shortcuts");
    switch (e.key) {
    case "?":
      if (help) { help.open = !help.open; if (help.open) help.querySelector("summary").focus(); }
      break;
    case "j": go(1); break;
    case "k": go(-1); break;
    case "x":
      if (inbox && t && t.closest && t.closest(".row")) { var c = t.closest(".row").querySelector(".sel"); c.checked = !c.checked; }
      break;
    // r and n move the focus on key up, so the letter is not typed.
    case "r": if (body) pending = "reply"; else return; break;
    case "n": if (body) pending = "note"; else return; break;
    case "c": var b = $("close") || $("reopen"); if (b) b.click(); else return; break;
    case "s": focus(conv ? "until" : "bulk-until"); break;
    case "a": focus(conv ? "to" : "bulk-to"); break;
    case "Escape": if (help && help.open) help.open = false; else return; break;
    default: return;
    }
    e.preventDefault();
  });
})();
