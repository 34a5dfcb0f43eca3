/*
 * The wall screen shows what fits and says what does not. On a 1920 × 1080 wall nobody
 * scrolls: in the side column (.wall-side), rows ([data-fit-item]) are left out one by one
 * until the column fits, a heading whose rows are all left out ([data-fit-group]) goes with
 * them, and [data-fit-more] says how many were left out. The rows that matter least go
 * first: a row's data-fit-keep (0 when absent) says how long it stays, so the open cases
 * make room before the duty of the enforcement centre's members, which makes room before
 * the whistles sounding and the command centre's own duty; among equals the last goes
 * first. Runs
 * on load, on every htmx swap of the column and when the window changes size. Below the
 * wall layout's breakpoint the page scrolls as any other and everything shows.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function overflowing(side) {
    return side.scrollHeight > side.clientHeight + 1;
  }

  // The rows in the order they are given up: the last of the least kept first.
  function byKeep(items) {
    return items
      .map(function (el, index) {
        var keep = parseInt(el.getAttribute("data-fit-keep") || "0", 10) || 0;
        return { el: el, keep: keep, index: index };
      })
      .sort(function (a, b) {
        return a.keep - b.keep || b.index - a.index;
      })
      .map(function (entry) {
        return entry.el;
      });
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
    var order = byKeep(items);
    while (overflowing(side) && order.length) {
      order.shift().hidden = true;
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
