/*
 * Tessera's only script. Every page works without it; it adds feedback htmx cannot give.
 *
 * A refused cart action answers 422 with a fragment that explains why; the htmx-config meta
 * tag in base.html makes htmx swap it in. Any other failed htmx request (a server error, no
 * network) would otherwise change nothing on screen, so say so in the page's messages region.
 */
(function () {
  "use strict";

  function showError(text) {
    var region = document.getElementById("messages");
    if (!region) {
      return;
    }
    var message = document.createElement("p");
    message.className = "message message--error";
    message.textContent = text;
    region.replaceChildren(message);
  }

  document.addEventListener("htmx:responseError", function () {
    showError("Something went wrong on our side. Please try again, or reload the page.");
  });

  document.addEventListener("htmx:sendError", function () {
    showError("We could not reach the shop. Check your connection and try again.");
  });
})();
