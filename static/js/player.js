/* Listening pages: the answers unlock only once the whole sound has played; listening time,
   plays and response time go into hidden fields; answers are posted once, retried when the
   network or server hiccups, and never sent twice (the server keeps the first answer). When
   retries run out the choices stay on the page for the participant to send again. */
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

  /* One player: a button, a meter and a status line around an <audio>. Listening time and plays
     go into the page's shared state; `hooks.playing` and `hooks.ended` tell the page. */
  function setupBox(box, state, hooks) {
    var audio = box.querySelector("audio");
    var button = box.querySelector("[data-play]");
    var meter = box.querySelector("[data-meter]");
    var status = box.querySelector("[role=status]");
    var playLabel = button.textContent;
    var own = { lastTick: null, fromStart: false, failed: false };

    function tick() {
      var now = performance.now();
      if (own.lastTick !== null) { state.listeningMs += now - own.lastTick; }
      own.lastTick = audio.paused ? null : now;
    }

    /* With <source> children a load failure fires "error" on each <source>, not on the <audio>;
       only the last one's error means that no format could be played. */
    var sources = audio.querySelectorAll("source");
    var errorTarget = sources.length ? sources[sources.length - 1] : audio;

    function showFailed() {
      own.failed = true;
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
      if (own.failed || audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) {
        /* load() runs the source selection again; without it a failed element stays failed. */
        own.failed = false;
        audio.load();
      }
      if (audio.paused) {
        if (audio.ended || audio.currentTime === 0) {
          audio.currentTime = 0;
          own.fromStart = true;
        }
        audio.play().catch(function () {
          if (own.failed || audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) {
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
      hooks.playing(audio);
      button.textContent = "Pause";
      button.setAttribute("aria-pressed", "true");
      if (audio.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) { showLoading(); }
    });
    audio.addEventListener("waiting", function () {
      tick();
      own.lastTick = null;  /* buffering is not listening */
      showLoading();
    });
    audio.addEventListener("playing", function () {
      /* a play counts once the sound really starts, so a failed load and its retry count once */
      if (own.fromStart) { state.plays += 1; own.fromStart = false; }
      own.lastTick = performance.now();
      box.setAttribute("data-state", "playing");
      status.textContent = "Playing…";
    });
    audio.addEventListener("pause", function () {
      tick();
      if (own.failed) { return; }
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
      status.textContent = hooks.ended(box);
    });
    errorTarget.addEventListener("error", showFailed);
    audio.addEventListener("error", showFailed);  /* after a source was chosen: broken or cut off */
    /* A fast failure (offline, a 404) can happen before this script runs; the element then sits
       waiting for another source. A healthy element also reports no source for a moment while
       it starts choosing one (seen under heavy load), so the state is read again a second
       later before the sound is called failed. */
    if (audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE) {
      window.setTimeout(function () {
        if (audio.networkState === HTMLMediaElement.NETWORK_NO_SOURCE && !own.failed) {
          showFailed();
        }
      }, 1000);
    }
    button.disabled = false;  /* enabled only once listening can be measured */
    return audio;
  }

  /* Every player of the page (one, or a pair's two): one plays at a time, and the answers
     unlock once each has been heard to its end. */
  function setupPlayer(form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("[data-player]"));
    if (!boxes.length) { return null; }
    var locked = form.querySelector("[data-locked]");
    var state = { plays: 0, listeningMs: 0, unlockedAt: null };
    var heard = [];
    var audios = [];
    var hooks = {
      playing: function (current) {
        audios.forEach(function (other) { if (other !== current && !other.paused) { other.pause(); } });
      },
      ended: function (box) {
        if (heard.indexOf(box) < 0) { heard.push(box); }
        if (heard.length < boxes.length) {
          return "Finished. Now listen to the other excerpt.";
        }
        if (state.unlockedAt === null) {
          state.unlockedAt = performance.now();
          locked.disabled = false;
          /* A refusal that asked for this listening has been answered: it goes. */
          var refusal = form.querySelector("[data-refusal]");
          if (refusal) { refusal.hidden = true; }
        }
        return "Finished. You can answer now, or listen again.";
      }
    };
    boxes.forEach(function (box) { audios.push(setupBox(box, state, hooks)); });
    return state;
  }

  var ATTEMPTS = 6;             /* about 20 s of retries before the participant is asked */
  var ATTEMPT_TIMEOUT_MS = 20000; /* a stalled mobile connection must not hang "Saving…" */

  /* Posts one fixed copy of the answer; the server keeps the first answer it stores, so a
     retry after a lost reply cannot change or duplicate it. While it is on its way the answer
     controls are locked, so what the participant sees is what is sent. */
  function submitWithRetry(form, body, done) {
    var attempt = 0;
    function send() {
      attempt += 1;
      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller && window.setTimeout(function () { controller.abort(); }, ATTEMPT_TIMEOUT_MS);
      fetch(form.action || window.location.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        /* Stored answers are answered with a redirect to the next step. Not followed here:
           the page would be fetched twice, and its first showing stamped before it is seen.
           Reloading this page lets the server send the participant on, as every page does. */
        redirect: "manual",
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        window.clearTimeout(timer);
        if (response.type === "opaqueredirect") {
          window.location.reload();
        } else if (response.status === 429 || response.status >= 500) {
          retry();
        } else {
          done("rejected");
        }
      }).catch(function () {
        window.clearTimeout(timer);
        retry();
      });
    }
    function retry() {
      if (attempt >= ATTEMPTS) {
        done("failed");
        return;
      }
      done("retrying");
      window.setTimeout(send, Math.min(8000, 500 * Math.pow(2, attempt)));
    }
    send();
  }

  function setupForm(form) {
    var state = setupPlayer(form) || {};
    var requestId = randomId();
    var saveStatus = form.querySelector("[data-save-status]");
    var locked = form.querySelector("[data-locked]");
    var submit = form.querySelector("[type=submit]");

    function say(text, isError) {
      if (!saveStatus) { return; }
      saveStatus.textContent = text;
      if (isError) { saveStatus.setAttribute("data-state", "error"); } else { saveStatus.removeAttribute("data-state"); }
    }

    function unlock() {
      state.sending = false;
      if (locked) { locked.disabled = false; }
      submit.disabled = false;
    }

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
      var body = new FormData(form);  /* before locking: disabled controls are not sent */
      state.sending = true;
      if (locked) { locked.disabled = true; }
      submit.disabled = true;
      say("Saving your answer…");
      submitWithRetry(form, body, function (outcome) {
        if (outcome === "retrying") {
          say("Still saving: the connection dropped, trying again. Your answer is kept.");
        } else if (outcome === "failed") {
          unlock();
          say("Your answer has not been sent yet. Check your connection, then press Next again. Your choices are kept.", true);
          submit.focus();
        } else {
          unlock();  /* the server turned the answer down: post it plainly so its page explains */
          form.submit();
        }
      });
    });
  }

  /* A page shown again from the back-forward cache would still be locked as "saving", or offer
     a step already answered: ask the server where the participant is instead. */
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  document.querySelectorAll("form[data-answer-form]").forEach(setupForm);
}());
