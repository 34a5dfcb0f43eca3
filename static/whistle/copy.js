/*
 * Copy buttons: a button with data-copy="<id>" copies the text of the element with that id
 * (a new API token's secret, shown once). The button is hidden until this script shows it,
 * so a page without JavaScript shows only the text to select by hand. Where the clipboard
 * cannot be written (an address that is not HTTPS, a browser that refuses), the text is
 * selected and the person is told to copy it with the keyboard.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function select(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
    if (status) status.textContent = text;
    if (Whistle.announce) Whistle.announce(text);
  }

  function bind(button) {
    if (button._whistleCopy) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    button._whistleCopy = true;
    button.hidden = false;
    var words = Whistle.strings || {};

    function fallback() {
      select(source);
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (e) {
        copied = false;
      }
      say(button, copied ? words.copyDone : words.copyByHand);
    }

    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () {
            say(button, words.copyDone);
          },
          fallback
        );
      } else {
        fallback();
      }
    });
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("button[data-copy]"), bind);
  }

  if (Whistle.onInit) Whistle.onInit(init);
})();
