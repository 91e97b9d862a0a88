// Polls the dashboard's JSON progress endpoint for every job on the page and updates it in place;
// when a job finishes, the page reloads once to show its results (curves, samples, errors).
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function update(box, data) {
    var state = box.querySelector('[data-field="state"]');
    if (state) { state.textContent = data.state; state.className = "status " + data.state; }
    var words = box.querySelector('[data-field="words"]');
    if (words) { words.textContent = data.words; }
    var bar = box.querySelector('[data-field="bar"]');
    if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
    var message = box.querySelector('[data-field="message"]');
    if (message) { message.textContent = data.message || ""; }
  }

  function poll(box) {
    fetch(box.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.headers.get("Content-Type").indexOf("json") < 0) {
          throw new Error("progress unavailable: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        update(box, data);
        if (data.finished) { window.location.reload(); } else { window.setTimeout(function () { poll(box); }, INTERVAL_MS); }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, INTERVAL_MS * 5); });
  }

  document.querySelectorAll("[data-progress-url]").forEach(function (box) {
    window.setTimeout(function () { poll(box); }, INTERVAL_MS);
  });
})();
