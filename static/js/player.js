/* Listening pages: the answers unlock only once the whole sound has played; listening time,
   plays and response time go into hidden fields; answers are posted once, retried when the
   network or server hiccups, and never sent twice (the server keeps the first answer). */
(function () {
  "use strict";

  function randomId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function setField(form, selector, value) {
    var input = form.querySelector(selector);
    if (input) { input.value = String(Math.max(0, Math.round(value))); }
  }

  function setupPlayer(form) {
    var box = form.querySelector("[data-player]");
    if (!box) { return null; }
    var audio = box.querySelector("audio");
    var button = box.querySelector("[data-play]");
    var meter = box.querySelector("[data-meter]");
    var status = box.querySelector("[role=status]");
    var locked = form.querySelector("[data-locked]");
    var playLabel = button.textContent;
    var state = { plays: 0, listeningMs: 0, unlockedAt: null, lastTick: null, fromStart: false, failed: false };

    function tick() {
      var now = performance.now();
      if (state.lastTick !== null) { state.listeningMs += now - state.lastTick; }
      state.lastTick = audio.paused ? null : now;
    }

    /* With <source> children a load failure fires "error" on each <source>, not on the <audio>;
       only the last one's error means that no format could be played. */
    var sources = audio.querySelectorAll("source");
    var errorTarget = sources.length ? sources[sources.length - 1] : audio;

    function showFailed() {
      state.failed = true;
      button.textContent = "Try again";
      button.setAttribute("aria-pressed", "false");
      box.setAttribute("data-state", "error");
      status.textContent = "The sound did not load. Check your connection, then press Try again.";
    }

    function showLoading() {
      box.setAttribute("data-state", "loading");
      status.textContent = "Loading the sound…";
    }

    button.addEventListener("click", function () {
      if (state.failed || audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) {
        /* load() runs the source selection again; without it a failed element stays failed. */
        state.failed = false;
        audio.load();
      }
      if (audio.paused) {
        if (audio.ended || audio.currentTime === 0) {
          audio.currentTime = 0;
          state.fromStart = true;
        }
        audio.play().catch(function () {
          if (state.failed || audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) {
            showFailed();
          } else {
            box.removeAttribute("data-state");
            status.textContent = "The sound could not start. Please press play again.";
          }
        });
      } else {
        audio.pause();
      }
    });
    audio.addEventListener("play", function () {
      button.textContent = "Pause";
      button.setAttribute("aria-pressed", "true");
      if (audio.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) { showLoading(); }
    });
    audio.addEventListener("waiting", function () {
      tick();
      state.lastTick = null;  /* buffering is not listening */
      showLoading();
    });
    audio.addEventListener("playing", function () {
      /* a play counts once the sound really starts, so a failed load and its retry count once */
      if (state.fromStart) { state.plays += 1; state.fromStart = false; }
      state.lastTick = performance.now();
      box.setAttribute("data-state", "playing");
      status.textContent = "Playing…";
    });
    audio.addEventListener("pause", function () {
      tick();
      if (state.failed) { return; }
      box.removeAttribute("data-state");
      button.textContent = audio.ended ? "Listen again" : playLabel;
      button.setAttribute("aria-pressed", "false");
      if (!audio.ended) { status.textContent = "Paused. Press play to continue."; }
    });
    audio.addEventListener("timeupdate", function () {
      tick();
      if (audio.duration) { meter.style.width = (100 * audio.currentTime / audio.duration) + "%"; }
    });
    audio.addEventListener("ended", function () {
      tick();
      meter.style.width = "100%";
      box.setAttribute("data-state", "finished");
      button.textContent = "Listen again";
      button.setAttribute("aria-pressed", "false");
      if (state.unlockedAt === null) {
        state.unlockedAt = performance.now();
        locked.disabled = false;
      }
      status.textContent = "Finished. You can answer now, or listen again.";
    });
    errorTarget.addEventListener("error", showFailed);
    audio.addEventListener("error", showFailed);  /* after a source was chosen: broken or cut off */
    /* A fast failure (offline, a 404) can happen before this script runs; the element then sits
       waiting for another source. A healthy element is still loading or idle by now. */
    if (audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) { showFailed(); }
    button.disabled = false;  /* enabled only once listening can be measured */
    return state;
  }

  function submitWithRetry(form, state, saveStatus) {
    var attempt = 0;
    var submit = form.querySelector("[type=submit]");
    function send() {
      attempt += 1;
      fetch(form.action || window.location.href, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        redirect: "follow"
      }).then(function (response) {
        if (response.ok && response.redirected) {
          window.location.assign(response.url);
        } else if (response.status === 429 || response.status >= 500) {
          retry();
        } else {
          form.submit();  /* a validation problem: let the server's page explain it */
        }
      }).catch(retry);
    }
    function retry() {
      if (attempt >= 8) {
        state.sending = false;
        submit.disabled = false;
        if (saveStatus) {
          saveStatus.textContent = "Your answer could not be sent. Check your connection and press Next again.";
        }
        return;
      }
      if (saveStatus) { saveStatus.textContent = "Saving your answer… (trying again)"; }
      window.setTimeout(send, Math.min(8000, 500 * Math.pow(2, attempt)));
    }
    send();
  }

  function setupForm(form) {
    var state = setupPlayer(form) || {};
    var requestId = randomId();
    var saveStatus = form.querySelector("[data-save-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (state.sending) { return; }
      if (!form.reportValidity()) { return; }
      if (state.unlockedAt !== undefined) {
        setField(form, "[data-response-ms]", state.unlockedAt === null ? 0 : performance.now() - state.unlockedAt);
        setField(form, "[data-listening-ms]", state.listeningMs);
        setField(form, "[data-plays]", state.plays);
      }
      var idField = form.querySelector("[data-request-id]");
      if (idField) { idField.value = requestId; }
      state.sending = true;
      form.querySelector("[type=submit]").disabled = true;
      if (saveStatus) { saveStatus.textContent = "Saving your answer…"; }
      submitWithRetry(form, state, saveStatus);
    });
  }

  document.querySelectorAll("form[data-answer-form]").forEach(setupForm);
}());
