// heard: find my complaint. Normalises what was pasted, loads the one bucket it hashes
// to, and goes to the case (or lists the matches). Mirrors generator/site/lookup.py.
(function () {
  "use strict";
  var BUCKETS = 64;
  var loaded = {};
  var waiting = {};
  window.heardLookup = function (n, data) {
    loaded[n] = data;
    (waiting[n] || []).forEach(function (cb) { cb(data); });
    delete waiting[n];
  };
  function lower(s) { return s.replace(/[A-Z]/g, function (c) { return c.toLowerCase(); }); }
  function key(text) {
    var v = lower(text.trim());
    var m = /^https?:\/\/(.*)$/.exec(v);
    if (m) {
      var rest = m[1].split(/[?#]/)[0];
      var slash = rest.indexOf("/");
      var host = slash < 0 ? rest : rest.slice(0, slash);
      var path = slash < 0 ? "" : rest.slice(slash + 1);
      if (host.indexOf("www.") === 0) { host = host.slice(4); }
      var aliases = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "mobile.x.com": "x.com"};
      if (Object.prototype.hasOwnProperty.call(aliases, host)) { host = aliases[host]; }
      path = path.replace(/\/+$/, "");
      return "u:" + host + (path ? "/" + path : "");
    }
    return "h:" + v.replace(/^@+/, "");
  }
  function fnv1a(s) {
    var bytes = new TextEncoder().encode(s);
    var h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }
  function bucket(n, root, cb) {
    if (loaded[n]) { cb(loaded[n]); return; }
    if (waiting[n]) { waiting[n].push(cb); return; }
    waiting[n] = [cb];
    var s = document.createElement("script");
    s.src = root + "lookup/" + (n < 16 ? "0" : "") + n.toString(16) + ".js";
    s.onerror = function () { delete waiting[n]; cb(null); };
    document.head.appendChild(s);
  }
  function show(out, text) { out.textContent = text; }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("find-form");
    if (!form) { return; }
    var input = document.getElementById("find-input");
    var out = document.getElementById("find-result");
    var root = form.getAttribute("data-root") || "";
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var raw = input.value;
      if (!raw.trim()) { show(out, "Paste the link to your post, or your handle."); return; }
      var k = key(raw);
      show(out, "Looking…");
      bucket(fnv1a(k) % BUCKETS, root, function (data) {
        var found = data && Object.prototype.hasOwnProperty.call(data, k) ? data[k] : [];
        var hits = found.filter(function (h) { return h[3] !== "hidden"; });
        if (hits.length === 1) { window.location.href = root + "cases/" + hits[0][0] + ".html"; return; }
        out.textContent = "";
        if (!hits.length && found.length) {
          var note = document.createElement("p");
          note.textContent = "That post is on our record (" + found[0][2] + ", " + found[0][1] +
            ") but hidden: it is not shown and not in the figures; the ";
          var ledger = document.createElement("a");
          ledger.href = root + "ledger.html";
          ledger.textContent = "moderation ledger";
          note.appendChild(ledger);
          note.appendChild(document.createTextNode(" counts it, with the reason."));
          out.appendChild(note);
          return;
        }
        if (!hits.length) {
          show(out, "No case found for that. It may not be gathered yet; try your channel's list below.");
          return;
        }
        var p = document.createElement("p");
        p.textContent = hits.length + " cases match:";
        var ul = document.createElement("ul");
        hits.forEach(function (h) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = root + "cases/" + h[0] + ".html";
          a.textContent = h[0] + " — opened " + h[1] + " on " + h[2];
          li.appendChild(a);
          ul.appendChild(li);
        });
        out.appendChild(p);
        out.appendChild(ul);
      });
    });
  });
})();
