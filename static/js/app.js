// Small niceties only; everything works without this file.
(function () {
  "use strict";
  // Countdown badges: <time data-countdown="RFC3339"> shows "3h 12m left".
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
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
