/* heard: how fresh the record is, for pages that depend only on what they show (case pages,
   later pages of lists, free pages). Those pages keep their bytes from build to build; this
   small file is rewritten on every build. A script file, not fetch(), so it works from
   file:// too; it only adds text nodes (no HTML is parsed). */
(function () {
  "use strict";
  var data = {"channels":[{"at":["2026-11-22T14:00:00Z","22 Nov 2026, 14:00 GMT"],"gathered":false,"name":"bluesky","stale":false},{"at":["2026-11-26T19:39:00Z","26 Nov 2026, 19:39 GMT"],"gathered":false,"name":"discourse","stale":false},{"at":["2026-11-24T19:12:00Z","24 Nov 2026, 19:12 GMT"],"gathered":false,"name":"github","stale":false},{"at":["2026-11-25T15:43:00Z","25 Nov 2026, 15:43 GMT"],"gathered":false,"name":"mastodon","stale":false},{"at":["2026-11-21T19:56:00Z","21 Nov 2026, 19:56 GMT"],"gathered":false,"name":"reddit","stale":false},{"at":["2026-11-28T09:54:00Z","28 Nov 2026, 09:54 GMT"],"gathered":false,"name":"x","stale":false}],"now":["2026-11-30T12:00:00Z","30 Nov 2026, 12:00 GMT"]};
  var slot = document.getElementById("freshness");
  if (!slot || !data) {
    return;
  }
  var only = slot.getAttribute("data-channel");
  function text(parent, value) {
    parent.appendChild(document.createTextNode(value));
  }
  function time(parent, pair) {
    var el = document.createElement("time");
    el.setAttribute("datetime", pair[0]);
    el.textContent = pair[1];
    parent.appendChild(el);
  }
  var rows = data.channels.filter(function (c) {
    return !only || c.name === only;
  });
  var line = document.createElement("p");
  text(line, "Figures as of ");
  time(line, data.now);
  text(line, ".");
  rows.forEach(function (c) {
    text(line, " " + c.name + (c.gathered ? ": last gathered successfully " : ": latest activity "));
    if (c.at) {
      time(line, c.at);
    } else {
      text(line, "never");
    }
    text(line, c.stale ? " (not recent: may be out of date)." : ".");
  });
  slot.parentNode.insertBefore(line, slot.nextSibling);
  var stale = rows.filter(function (c) {
    return c.stale;
  }).map(function (c) {
    return c.name;
  });
  var main = document.getElementById("main");
  if (stale.length && main) {
    var notice = document.createElement("p");
    notice.className = "notice";
    notice.setAttribute("role", "note");
    var strong = document.createElement("strong");
    strong.textContent = "Not gathered recently:";
    notice.appendChild(strong);
    text(notice, " " + stale.join(", ") + ". Cases and figures for " +
      (stale.length === 1 ? "this channel" : "these channels") +
      " may be out of date (see the bottom of the page).");
    main.insertBefore(notice, main.firstChild);
  }
})();
