/*
 * Text limits: every text box rendered by web/components/field.html with a limit carries
 * data-limit="N" and a counter "n / N" (id "<input id>-count") that this script keeps
 * current as the person types. Nothing is cut: past the limit the counter turns red and
 * says by how much, a screen reader hears it once, and the form refuses the text with its
 * own error. A line break counts as one character, as the server counts it
 * (whistle.web.forms.Textarea); characters outside the BMP (emoji) count as one, as
 * Python counts them.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var NEAR = 0.9;

  function counted(text) {
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  function bind(input) {
    if (input._whistleLimit) return;
    var max = parseInt(input.getAttribute("data-limit"), 10);
    var counter = document.getElementById(input.id + "-count");
    if (!max || !counter) return;
    input._whistleLimit = true;
    var words = Whistle.strings || {};
    var wasOver = counted(input.value) > max;

    function update() {
      var used = counted(input.value);
      var over = used > max;
      counter.textContent =
        used + " / " + max + (over ? " · " + Whistle.format(words.limitOver, { n: used - max }) : "");
      counter.classList.toggle("is-over", over);
      counter.classList.toggle("is-near", !over && used >= max * NEAR);
      if (over && !wasOver) Whistle.announce(Whistle.format(words.limitReached, { max: max }));
      wasOver = over;
    }

    input.addEventListener("input", update);
    // A form emptied (offline.js keeps a report on the phone and starts again) counts anew,
    // once the browser has put the fields back.
    if (input.form) {
      input.form.addEventListener("reset", function () {
        window.setTimeout(update, 0);
      });
    }
    update();
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    if (scope.matches && scope.matches("[data-limit]")) bind(scope);
    [].forEach.call(scope.querySelectorAll("[data-limit]"), bind);
  }

  Whistle.textLimit = { init: init, counted: counted };
  if (Whistle.onInit) Whistle.onInit(init);
})();
