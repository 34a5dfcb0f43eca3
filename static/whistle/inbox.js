/*
 * The header's unread count. htmx polls it (web/partials/inbox_badge.html); when the count
 * changed the server answers with the new link and raises "inbox-changed" on the page, which
 * the inbox list and the department desk listen to. Here: say a new notification to screen
 * readers, once, when the count rises (the polled link itself is not a live region).
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  document.addEventListener("inbox-changed", function (event) {
    var link = document.getElementById("inbox-link");
    var before = link ? parseInt(link.getAttribute("data-unread") || "0", 10) : 0;
    var after = event.detail && typeof event.detail.unread === "number" ? event.detail.unread : 0;
    if (after > before && Whistle.announce && Whistle.strings.inboxNew) {
      Whistle.announce(Whistle.format(Whistle.strings.inboxNew, { n: after }));
    }
  });
})();
