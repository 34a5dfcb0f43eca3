/* A print button (`data-print`): the signboard's, the annual report's. A script rather than
   an onclick attribute, which the Content-Security-Policy refuses. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
