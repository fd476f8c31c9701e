// The request page refreshes its live part while a placement works on it (no reload).
(function () {
  "use strict";
  var INTERVAL_MS = 1000;
  var MAX_TRIES = 180;
  var tries = 0;
  function poll() {
    var box = document.getElementById("cl-request-status");
    if (!box || box.getAttribute("data-poll") !== "1" || tries >= MAX_TRIES) { return; }
    tries += 1;
    fetch(box.getAttribute("data-poll-url"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#cl-request-status");
          if (fresh) { box.replaceWith(fresh); }
        }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS * 3); });
  }
  window.setTimeout(poll, INTERVAL_MS);
}());
