/*
 * The wall screen shows what fits and says what does not. On a wall nobody scrolls: in the
 * side column (.wall-side), rows ([data-fit-item]) are left out one by one until the column
 * fits, a heading whose rows are all left out ([data-fit-group]) goes with them, and
 * [data-fit-more] says how many were left out.
 *
 * Groups that share the room ([data-fit-share]: the open cases, one group per state) are
 * never left out for their rows: each keeps its heading and its count, and its rows are
 * trimmed from the end (the board lists the most urgent first: they stay), always from the
 * group that shows the most, so the trim is shared fairly; each group's own
 * [data-fit-group-more] says how many of its cases are not shown (data-count, its number of
 * cases in all, less the rows shown).
 *
 * The order in which rows are given up: the shared groups' rows down to two each, the other
 * rows that matter least (data-fit-keep 0, when absent), the shared groups' rows down to one
 * each, the duty of the enforcement centre's members (keep 1), the whistles sounding and
 * the check-ins to confirm (keep 2), the shared groups' last rows, the command centre's own
 * duty (keep 3); among equals the last goes first. Only when the headings alone do not fit
 * are the last groups left out whole, counted in [data-fit-more]. A tall row given up may
 * leave more room than was missing: what fits again is then taken back, the last given up
 * first, the shared groups' rows again to the group showing the fewest.
 *
 * Runs on load, on every htmx swap of the column and when the window changes size. Below the
 * wall layout's breakpoint the page scrolls as any other and everything shows.
 *
 * The map beside the column: Leaflet keeps the size it measured and its view until told
 * otherwise, so a window made smaller would cut its case points off and one made larger
 * show grey tiles. Once the map's box has changed size and held it for MAP_SETTLE_MS (the
 * window resized, or the wall's grid laid out anew), the map is told its size
 * (invalidateSize) and fitted again to what it draws, every case point within its bounds;
 * data-map-fitted on the map says the box size it was last fitted to.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function overflowing(side) {
    return side.scrollHeight > side.clientHeight + 1;
  }

  function keepOf(el) {
    return parseInt(el.getAttribute("data-fit-keep") || "0", 10) || 0;
  }

  // The rows in the order they are given up: the last of the least kept first.
  function byKeep(items) {
    return items
      .map(function (el, index) {
        return { el: el, keep: keepOf(el), index: index };
      })
      .sort(function (a, b) {
        return a.keep - b.keep || b.index - a.index;
      })
      .map(function (entry) {
        return entry.el;
      });
  }

  function shownRows(share) {
    return [].slice.call(share.querySelectorAll("[data-fit-item]:not([hidden])"));
  }

  // A shared group's own note: how many of its cases are not shown, its rows as they are.
  function tellShare(share) {
    var note = share.querySelector("[data-fit-group-more]");
    if (!note) return;
    var count = parseInt(note.getAttribute("data-count") || "0", 10) || 0;
    var left = Math.max(count - shownRows(share).length, 0);
    note.hidden = left === 0;
    if (left) {
      note.textContent = Whistle.format(note.getAttribute("data-template") || "%(n)s", {
        n: left,
      });
    }
  }

  function fit(side) {
    var items = [].slice.call(side.querySelectorAll("[data-fit-item]"));
    var groups = [].slice.call(side.querySelectorAll("[data-fit-group]"));
    var shares = [].slice.call(side.querySelectorAll("[data-fit-share]"));
    var note = side.querySelector("[data-fit-more]");
    var others = items.filter(function (el) {
      return !el.closest("[data-fit-share]");
    });
    items.concat(groups, shares).forEach(function (el) {
      el.hidden = false;
    });
    shares.forEach(tellShare);
    if (note) note.hidden = true;
    if (getComputedStyle(side).overflowY !== "hidden") return;

    // What was given up, in order: {el, share (its group, for a shared row), counts (how
    // many it adds to [data-fit-more])}.
    var given = [];
    var left = 0;
    function tell() {
      groups.forEach(function (group) {
        group.hidden = !group.querySelector(
          "[data-fit-item]:not([hidden]), [data-fit-share]:not([hidden])"
        );
      });
      if (!note) return;
      note.hidden = left === 0;
      if (left) {
        note.textContent = Whistle.format(note.getAttribute("data-template") || "%(n)s", {
          n: left,
        });
      }
    }
    function setHidden(entry, hidden) {
      entry.el.hidden = hidden;
      left += hidden ? entry.counts : -entry.counts;
      if (entry.share) tellShare(entry.share);
      tell();
    }
    function giveUpOne(entry) {
      given.push(entry);
      setHidden(entry, true);
    }

    // Trim the shared groups down to `floor` rows each, a row at a time from the group
    // showing the most (the last of them among equals).
    function trimShares(floor) {
      while (overflowing(side)) {
        var widest = null;
        var most = floor;
        shares.forEach(function (share) {
          var n = shownRows(share).length;
          if (!share.hidden && n > floor && n >= most) {
            widest = share;
            most = n;
          }
        });
        if (!widest) return;
        var rows = shownRows(widest);
        giveUpOne({ el: rows[rows.length - 1], share: widest, counts: 0 });
      }
    }

    // Give up the other rows kept at most `keep`, in the order of byKeep.
    var order = byKeep(others);
    function giveUp(keep) {
      while (overflowing(side) && order.length && keepOf(order[0]) <= keep) {
        giveUpOne({ el: order.shift(), share: null, counts: 1 });
      }
    }

    trimShares(2);
    giveUp(0);
    trimShares(1);
    giveUp(1);
    giveUp(2);
    trimShares(0);
    giveUp(Infinity);
    // The headings alone do not fit: the last groups go whole, counted at the bottom.
    for (var i = shares.length - 1; i > 0 && overflowing(side); i--) {
      var count = shares[i].querySelector("[data-fit-group-more]");
      giveUpOne({
        el: shares[i],
        share: null,
        counts: count ? parseInt(count.getAttribute("data-count") || "0", 10) || 0 : 0,
      });
    }

    // A tall row given up may have made more room than was missing: take back, the last
    // given up first, what fits again. For a row of the shared groups, the group showing
    // the fewest takes back its next row (the first among equals), so the room is shared
    // again fairly; a group whose next row does not fit takes none back after it.
    var held = [];
    function fewest() {
      var chosen = null;
      shares.forEach(function (share) {
        if (share.hidden || held.indexOf(share) >= 0) return;
        if (!share.querySelector("[data-fit-item][hidden]")) return;
        if (!chosen || shownRows(share).length < shownRows(chosen).length) chosen = share;
      });
      return chosen;
    }
    for (var j = given.length - 1; j >= 0; j--) {
      var entry = given[j];
      if (entry.share) {
        var share = fewest();
        if (!share) continue;
        entry = { el: share.querySelector("[data-fit-item][hidden]"), share: share, counts: 0 };
      }
      setHidden(entry, false);
      if (overflowing(side)) {
        setHidden(entry, true);
        if (entry.share) held.push(entry.share);
      }
    }
  }

  function fitAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var sides = [].slice.call(scope.querySelectorAll(".layout-wall .wall-side"));
    if (scope.matches && scope.matches(".layout-wall .wall-side")) sides.push(scope);
    sides.forEach(fit);
  }

  var MAP_SETTLE_MS = 150;

  function boxOf(el) {
    return el.clientWidth + "x" + el.clientHeight;
  }

  function watchMap(el) {
    if (el._whistleWall || !Whistle.map) return;
    var handle = Whistle.map.create(el);
    if (!handle) return;
    el._whistleWall = true;
    var timer = null;
    function refit() {
      timer = null;
      var box = boxOf(el);
      if (el.getAttribute("data-map-fitted") === box) return;
      handle.map.invalidateSize({ pan: false });
      handle.fit();
      el.setAttribute("data-map-fitted", box);
    }
    function settle() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refit, MAP_SETTLE_MS);
    }
    // map.js fits the map once its layers are drawn, to the size Leaflet measured then:
    // fitted again once the box has settled, and after each change from then on.
    handle.ready.then(function () {
      if (el.getAttribute("data-map-ready") !== "true") return;
      window.addEventListener("resize", settle);
      if (window.ResizeObserver) new window.ResizeObserver(settle).observe(el);
      settle();
    });
  }

  function watchMaps(root) {
    var scope = root && root.querySelectorAll ? root : document;
    [].forEach.call(scope.querySelectorAll(".layout-wall .wall-map [data-map]"), watchMap);
  }

  Whistle.wall = { fit: fitAll };
  Whistle.onInit(function (root) {
    // htmx swaps the column's inside: fit the column it landed in.
    var side = root.closest ? root.closest(".wall-side") : null;
    fitAll(side || root);
    watchMaps(root);
  });
  window.addEventListener("resize", function () {
    fitAll(document);
  });
})();
