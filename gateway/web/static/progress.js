// Progressive enhancement for the "verify now" page: poll the job status and update the
// progress bar in place. Without JavaScript the page has a "refresh" link that does the same.
(function () {
  "use strict";
  var box = document.getElementById("controle");
  if (!box || box.getAttribute("data-state") !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("voortgang");
  var text = document.getElementById("voortgang-tekst");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        text.textContent = job.checked + " van " + job.total + " regels gecontroleerd";
        if (job.state === "running") { window.setTimeout(poll, 400); }
        else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
})();
