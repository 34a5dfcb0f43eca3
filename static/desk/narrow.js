/*
 * Lists narrowed to what another list chose: the township's recommendation offers only the
 * chosen agency's assessment records, the roster only the chosen department's people.
 *
 * Without this script the page offers everything under the name of its group and the
 * server refuses what does not belong to the choice; with it, the page offers no more
 * than the server accepts.
 *
 * A <select data-narrows="#target …"> names what it narrows. The key of its choice is the
 * chosen option's data-group, else its value; no choice ("") offers everything.
 *  - A target <select>: its options carrying data-group (alone or under an <optgroup>) stay
 *    when of the key, the others are taken out of the list (a phone's list shows hidden
 *    options all the same); a chosen person taken out leaves the list unchosen.
 *  - Any other target: its [data-group] parts are hidden when not of the key, their check
 *    boxes unticked and disabled so that they are not sent; its [data-narrow-empty] note
 *    shows when nothing is left.
 */
(function () {
  "use strict";

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  function keyOf(select) {
    var option = select.options[select.selectedIndex];
    if (!option) return "";
    return option.hasAttribute("data-group") ? option.getAttribute("data-group") : option.value;
  }

  function groupOf(node) {
    var option = node.tagName === "OPTGROUP" ? node.querySelector("option") : node;
    return option && option.hasAttribute("data-group") ? option.getAttribute("data-group") : null;
  }

  function narrowSelect(target, key) {
    if (!target.narrowAll) target.narrowAll = Array.prototype.slice.call(target.children);
    var value = target.value;
    while (target.firstChild) target.removeChild(target.firstChild);
    target.narrowAll.forEach(function (node) {
      var group = groupOf(node);
      if (group === null || !key || group === key) target.appendChild(node);
    });
    target.value = value;
    if (target.value !== value || target.selectedIndex < 0) target.selectedIndex = 0;
  }

  function narrowParts(target, key) {
    var shown = 0;
    each(target.querySelectorAll("[data-group]"), function (part) {
      var on = !key || part.getAttribute("data-group") === key;
      part.hidden = !on;
      if (on) shown += 1;
      each(part.querySelectorAll("input"), function (input) {
        if (!on) input.checked = false;
        input.disabled = !on;
      });
    });
    var empty = target.querySelector("[data-narrow-empty]");
    if (empty) empty.hidden = shown > 0;
  }

  function bind(root) {
    each(root.querySelectorAll("select[data-narrows]"), function (select) {
      if (select.narrowBound) return;
      select.narrowBound = true;
      var apply = function () {
        var key = keyOf(select);
        each(select.getAttribute("data-narrows").split(/\s+/), function (selector) {
          var target = selector && document.querySelector(selector);
          if (!target) return;
          if (target.tagName === "SELECT") narrowSelect(target, key);
          else narrowParts(target, key);
        });
      };
      select.addEventListener("change", apply);
      apply();
    });
  }

  bind(document);
  if (window.htmx) {
    window.htmx.onLoad(function (element) {
      if (element !== document.body) bind(element);
    });
  }
})();
