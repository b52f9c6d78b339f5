// Live updates of the inbox and the open conversation (docs/web.md).
// No dependencies: it opens the web app's socket (/app/realtime, signed in
// by the session cookie) and, when a conversation changes, fetches the page
// again and swaps in the parts that changed. It reconnects after a drop.
(function () {
  "use strict";
  var inbox = document.getElementById("inbox");
  var conv = document.getElementById("conversation");
  if (!inbox && !conv) return;
  var timer = null;
  // The last sequence seen: the page's at first, then each frame's, so a
  // (re)connection resumes without a gap.
  var seq = Number((inbox || conv).dataset.seq);

  function refresh() {
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      fetch(location.href, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) return null;
        return r.text();
      }).then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (inbox) {
          var fresh = doc.getElementById("inbox");
          if (fresh) {
            var known = {};
            inbox.querySelectorAll(".row").forEach(function (r) { known[r.dataset.id] = true; });
            fresh.querySelectorAll(".row").forEach(function (r) { if (!known[r.dataset.id]) r.classList.add("new"); });
            inbox.innerHTML = fresh.innerHTML;
          }
        }
        if (conv) {
          ["parts", "status"].forEach(function (id) {
            var el = document.getElementById(id), f = doc.getElementById(id);
            if (el && f) el.innerHTML = f.innerHTML;
          });
        }
        document.body.dataset.liveRefreshed = String(Date.now());
      }).catch(function () {});
    }, 150);
  }

  var delay = 1000;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/app/realtime" + (seq >= 0 ? "?after=" + seq : ""));
    ws.onopen = function () { delay = 1000; document.body.dataset.live = "on"; };
    ws.onmessage = function (m) {
      var f;
      try { f = JSON.parse(m.data); } catch (e) { return; }
      if (f.type !== "event") return;
      if (f.seq > seq) seq = f.seq;
      if (inbox || (conv && f.conversation_id === conv.dataset.id)) refresh();
    };
    ws.onclose = function () {
      document.body.dataset.live = "off";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
