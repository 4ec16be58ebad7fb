// Small niceties only; everything works without this file.
(function () {
  "use strict";

  // Countdown badges: <time data-countdown="RFC3339"> shows "3h 12m".
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(end)) return;
      var s = Math.max(0, Math.floor((end - now) / 1000));
      var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
      var txt = d > 0 ? d + "d " + h + "h" : h > 0 ? h + "h " + m + "m" : m + "m " + (s % 60) + "s";
      el.textContent = s === 0 ? (el.getAttribute("data-expired") || "closed") : txt;
      el.classList.toggle("urgent", s < 3600);
    });
  }

  // <time data-localtime datetime="…"> in the reader's own time zone.
  var fmt = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
  function localTimes(root) {
    (root || document).querySelectorAll("time[data-localtime]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(t)) el.textContent = fmt.format(new Date(t));
      el.removeAttribute("data-localtime");
    });
  }

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // Keyboard: j/k next/previous thread, r reply, e close, / search.
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll(".thread-row a.row-link"));
    var cur = rows.findIndex(function (a) { return a.hasAttribute("aria-current"); });
    if (cur < 0) cur = rows.indexOf(document.activeElement);
    var go = function (i) { if (rows[i]) { if (window.htmx) rows[i].click(); else window.location.assign(rows[i].href); } };
    switch (ev.key) {
      case "j": go(cur < 0 ? 0 : cur + 1); break;
      case "k": go(cur <= 0 ? 0 : cur - 1); break;
      case "r": var t = document.getElementById("reply-text"); if (t) { ev.preventDefault(); t.focus(); } break;
      case "e": var c = document.getElementById("close-thread"); if (c) { ev.preventDefault(); c.click(); } break;
      case "/": var q = document.getElementById("q"); if (q) { ev.preventDefault(); q.focus(); q.select(); } break;
      default: return;
    }
  });

  // Canned responses: "/" at the start of the reply lists saved replies.
  function canned(textarea) {
    var list = document.getElementById(textarea.getAttribute("data-canned"));
    if (!list) return;
    var items = Array.prototype.slice.call(list.querySelectorAll("li"));
    var sel = -1;
    function visible() { return items.filter(function (li) { return !li.hidden; }); }
    function mark() {
      visible().forEach(function (li, i) { li.setAttribute("aria-selected", i === sel ? "true" : "false"); });
    }
    function pick(li) {
      textarea.value = li.getAttribute("data-body");
      list.hidden = true; sel = -1; textarea.focus();
    }
    textarea.addEventListener("input", function () {
      var v = textarea.value;
      if (v.charAt(0) !== "/" || v.indexOf(" ") >= 0 || v.indexOf("\n") >= 0) { list.hidden = true; return; }
      var word = v.slice(1).toLowerCase();
      items.forEach(function (li) { li.hidden = li.getAttribute("data-shortcut").indexOf(word) !== 0; });
      sel = visible().length ? 0 : -1;
      list.hidden = sel < 0; mark();
    });
    textarea.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      var vis = visible();
      if (ev.key === "ArrowDown") { sel = Math.min(vis.length - 1, sel + 1); mark(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { sel = Math.max(0, sel - 1); mark(); ev.preventDefault(); }
      else if ((ev.key === "Enter" || ev.key === "Tab") && vis[sel]) { pick(vis[sel]); ev.preventDefault(); }
      else if (ev.key === "Escape") { list.hidden = true; }
    });
    list.addEventListener("click", function (ev) {
      var li = ev.target.closest("li");
      if (li) pick(li);
    });
  }

  // Snooze: send the chosen local time with the browser's offset.
  document.addEventListener("submit", function (ev) {
    var f = ev.target, local = f.querySelector("input[name=snoozed_until]");
    if (!local || !local.value) return;
    var d = new Date(local.value);
    if (isNaN(d)) return;
    var h = f.querySelector("input[name=snoozed_until_utc]");
    if (!h) { h = document.createElement("input"); h.type = "hidden"; h.name = "snoozed_until_utc"; f.appendChild(h); }
    h.value = d.toISOString().replace(/\.\d{3}Z$/, "Z");
  }, true);

  // When the policy changes live, refresh the composer unless the agent is typing.
  function policyChanged() {
    var policy = document.getElementById("policy"), form = document.querySelector("form.reply-form");
    var mode = policy && policy.getAttribute("data-mode");
    var current = form ? form.getAttribute("data-mode") : "none";
    var text = document.getElementById("reply-text");
    if (!policy || mode === current || (text && text.value.trim() !== "")) return;
    var composer = document.getElementById("composer"), url = form && form.getAttribute("data-composer-url");
    if (!url) { var th = document.querySelector("[data-thread-id].thread-pane"); if (th) url = "/inbox/threads/" + th.getAttribute("data-thread-id") + "/composer"; }
    if (url && composer && window.htmx) window.htmx.ajax("GET", url, { target: composer, swap: "outerHTML" });
  }

  function setup(root) {
    localTimes(root);
    (root || document).querySelectorAll("textarea[data-canned]").forEach(function (t) {
      if (!t.dataset.cannedReady) { t.dataset.cannedReady = "1"; canned(t); }
    });
    tick();
  }

  // Live connection indicator, and keep the newest message in view.
  document.addEventListener("htmx:wsOpen", function () {
    var l = document.getElementById("live"); if (l) l.hidden = true;
    document.body.setAttribute("data-live", "1");
  });
  document.addEventListener("htmx:wsClose", function () {
    var l = document.getElementById("live"); if (l) l.hidden = false;
    document.body.setAttribute("data-live", "0");
  });
  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var el = ev.detail && ev.detail.target;
    if (el && el.id === "policy") policyChanged();
    var tl = document.getElementById("timeline");
    if (tl && el && (el.id === "messages" || el.closest && el.closest("#messages"))) tl.scrollTop = tl.scrollHeight;
  });
  // A thread opened in place (a row's link, swapped into #thread-pane): the
  // inbox shows it (one pane at a time on a phone), its row is the current
  // one, and its newest message is in view. The server marked it read and
  // sent its row; other rows lose "current" here.
  function threadOpened() {
    var pane = document.getElementById("thread-pane"), inbox = document.querySelector(".inbox");
    var id = pane && pane.getAttribute("data-thread-id");
    if (!id || !inbox) return;
    inbox.classList.add("has-thread");
    inbox.querySelectorAll(".thread-row.current").forEach(function (li) {
      if (li.getAttribute("data-thread-id") === id) return;
      li.classList.remove("current");
      var a = li.querySelector("a.row-link"); if (a) a.removeAttribute("aria-current");
    });
    var tl = document.getElementById("timeline");
    if (tl) tl.scrollTop = tl.scrollHeight;
    seenIn = lastIn();
  }
  function paneSwap(ev) {
    var cfg = ev.detail && ev.detail.requestConfig;
    return cfg && cfg.headers && cfg.headers["HX-Target"] === "thread-pane";
  }
  document.addEventListener("htmx:afterSettle", function (ev) {
    setup(ev.target);
    if (paneSwap(ev)) threadOpened();
  });
  // A pane that cannot come (an error page, a lost connection): go there
  // the ordinary way, which shows what happened.
  function paneFailed(ev) {
    if (paneSwap(ev) && ev.detail.pathInfo) window.location.assign(ev.detail.pathInfo.requestPath);
  }
  document.addEventListener("htmx:responseError", paneFailed);
  document.addEventListener("htmx:sendError", paneFailed);
  // A customer's message to the thread on screen is read as it arrives,
  // while the page is in view (or when it comes back into view): the server
  // marks the thread read, and every agent's list drops its unread count.
  var seenIn = "", reading = false;
  function lastIn() {
    var m = document.querySelectorAll("#messages > li.msg.in");
    return m.length ? m[m.length - 1].id : "";
  }
  function readOpenThread() {
    var pane = document.getElementById("thread-pane"), id = pane && pane.getAttribute("data-thread-id");
    if (!id || reading || document.visibilityState !== "visible") return;
    var badge = document.querySelector('#thread-list li[data-thread-id="' + id + '"] .unread-count');
    var last = lastIn();
    if (!badge && last === seenIn) return;
    seenIn = last; reading = true;
    fetch("/inbox/threads/" + id + "/read", { method: "POST", credentials: "same-origin" })
      .catch(function () {}).then(function () { reading = false; });
  }
  document.addEventListener("visibilitychange", readOpenThread);
  document.addEventListener("htmx:wsAfterMessage", function () { setup(document); readOpenThread(); });

  document.addEventListener("DOMContentLoaded", function () {
    setup(document);
    seenIn = lastIn();
    var tl = document.getElementById("timeline");
    if (tl) tl.scrollTop = tl.scrollHeight;
  });
  setInterval(tick, 1000);
})();
