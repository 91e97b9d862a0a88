/* Completion page: a button that copies the code, so a participant on a phone does not have to
   select a short string by hand. Shown only where the browser allows copying. */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (!source || !navigator.clipboard || !window.isSecureContext) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        status.textContent = "Copied. Paste it where you were asked for it.";
      }, function () {
        status.textContent = "Copying did not work here: please select the code and copy it.";
      });
    });
  });
}());
