/*
 * The wall screen shows what fits and says what does not. On a 1920 × 1080 wall nobody
 * scrolls: in the side column (.wall-side), the last rows ([data-fit-item]) are left out
 * one by one until the column fits, a heading whose rows are all left out
 * ([data-fit-group]) goes with them, and [data-fit-more] says how many were left out. Runs
 * on load, on every htmx swap of the column and when the window changes size. Below the
 * wall layout's breakpoint the page scrolls as any other and everything shows.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function overflowing(side) {
    return side.scrollHeight > side.clientHeight + 1;
  }

  function fit(side) {
    var items = [].slice.call(side.querySelectorAll("[data-fit-item]"));
    var groups = [].slice.call(side.querySelectorAll("[data-fit-group]"));
    var note = side.querySelector("[data-fit-more]");
    items.concat(groups).forEach(function (el) {
      el.hidden = false;
    });
    if (note) note.hidden = true;
    if (getComputedStyle(side).overflowY !== "hidden") return;
    var left = 0;
    while (overflowing(side) && items.length) {
      items.pop().hidden = true;
      left += 1;
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-fit-item]:not([hidden])");
      });
      if (note) {
        note.hidden = false;
        note.textContent = Whistle.format(note.getAttribute("data-template") || "%(n)s", {
          n: left,
        });
      }
    }
  }

  function fitAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var sides = [].slice.call(scope.querySelectorAll(".layout-wall .wall-side"));
    if (scope.matches && scope.matches(".layout-wall .wall-side")) sides.push(scope);
    sides.forEach(fit);
  }

  Whistle.wall = { fit: fitAll };
  Whistle.onInit(function (root) {
    // htmx swaps the column's inside: fit the column it landed in.
    var side = root.closest ? root.closest(".wall-side") : null;
    fitAll(side || root);
  });
  window.addEventListener("resize", function () {
    fitAll(document);
  });
})();
