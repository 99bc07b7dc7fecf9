// Keeps the "time left" of a deadline (the P2P, the appeal, the records) current while the page stays open. The server's text stays as-is
// when scripts are off; nothing here reads or sends patient data.
(function () {
  function render(el) {
    var ms = Date.parse(el.getAttribute("data-deadline")) - Date.now();
    if (isNaN(ms)) return;
    if (ms <= 0) { el.textContent = el.getAttribute("data-closed") || "window closed"; el.classList.add("urgent"); return; }
    var minutes = Math.floor(ms / 60000), days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60);
    el.textContent = (days ? days + " d " + hours + " h" : hours + " h " + (minutes % 60) + " min") + " left";
    if (ms < 24 * 3600 * 1000) el.classList.add("urgent");
  }
  function tick() { document.querySelectorAll(".countdown[data-deadline]").forEach(render); }
  tick();
  setInterval(tick, 30000);
})();
