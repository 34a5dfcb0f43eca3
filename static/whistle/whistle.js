/*
 * Whistle's page script: the shared namespace, the page's words, the screen-reader
 * announcer and the htmx hooks. Components (countdown.js, geolocate.js, map.js) register
 * an `init(root)` that runs on page load and on every piece of HTML htmx swaps in.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var initialisers = [];

  function readStrings() {
    var node = document.getElementById("whistle-strings");
    if (!node) return {};
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return {};
    }
  }

  Whistle.strings = readStrings();

  /* "%(name)s" placeholders, as in Django's messages. */
  Whistle.format = function (template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  };

  /* Say something once, politely, to screen readers. What two parts of a page announce
     within a few seconds of each other (a new summons on the list, the inbox's count) is
     said together: the later one does not silence the earlier. */
  var saying = [];
  var sayingUntil = 0;
  Whistle.announce = function (text) {
    var node = document.getElementById("live-announcer");
    if (!node) return;
    var now = Date.now();
    if (now > sayingUntil) saying = [];
    if (saying.indexOf(text) === -1) saying.push(text);
    sayingUntil = now + 3000;
    node.textContent = "";
    window.setTimeout(function () {
      node.textContent = saying.join(" ");
    }, 50);
  };

  Whistle.onInit = function (fn) {
    initialisers.push(fn);
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        fn(document);
      });
    } else {
      fn(document);
    }
  };

  function runAll(root) {
    initialisers.forEach(function (fn) {
      fn(root);
    });
  }

  /* A photo field (web/components/photo_field.html): the chosen file's name is said and
     the photo previewed. */
  Whistle.onInit(function (root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-photo-field]"), function (field) {
      var input = field.querySelector('input[type="file"]');
      if (!input || input._whistlePhoto) return;
      input._whistlePhoto = true;
      var preview = field.querySelector("[data-photo-preview]");
      var name = field.querySelector("[data-photo-name]");
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        if (name) name.textContent = file ? file.name : "";
        if (!preview || !window.URL) return;
        if (!file) {
          preview.hidden = true;
          return;
        }
        preview.src = window.URL.createObjectURL(file);
        preview.hidden = false;
      });
    });
  });

  /* The top bar's menus (<details data-navmenu>): one open at a time; Escape closes the
     open one and puts the focus back on its title; a click or a focus outside closes it. */
  function navMenus() {
    return Array.prototype.slice.call(document.querySelectorAll("details[data-navmenu]"));
  }
  function closeMenus(except) {
    navMenus().forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  navMenus().forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) closeMenus(menu);
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = navMenus().filter(function (menu) {
      return menu.open;
    })[0];
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
  ["click", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var inside = event.target.closest && event.target.closest("details[data-navmenu]");
      closeMenus(inside || null);
    });
  });

  if (window.htmx) {
    // htmx calls this for the document once loaded and for every swapped-in element.
    window.htmx.onLoad(function (element) {
      if (element === document.body) return;
      runAll(element);
    });

    // A polled region that fails keeps its last figures and says so.
    var markStale = function (event, stale) {
      var region = event.detail && event.detail.elt;
      if (!region || !region.hasAttribute || !region.hasAttribute("data-live")) return;
      var note = region.querySelector(".live-stale");
      region.classList.toggle("is-stale", stale);
      if (!note) return;
      note.textContent = stale ? Whistle.strings.liveStale || "" : "";
      note.hidden = !stale;
    };
    document.body.addEventListener("htmx:afterRequest", function (event) {
      markStale(event, !event.detail.successful);
    });
    document.body.addEventListener("htmx:sendError", function (event) {
      markStale(event, true);
    });

    // A polled region (hx-trigger "every Ns" with data-poll) skips its turn while the tab is
    // hidden, and, with data-poll-pause-in-form, while the person is filling in one of its
    // forms or reading its errors. Decided here, not in an hx-trigger filter: htmx would run
    // a filter as script text, which the Content-Security-Policy forbids.
    document.body.addEventListener("htmx:confirm", function (event) {
      var region = event.detail && event.detail.elt;
      if (!region || !region.hasAttribute || !region.hasAttribute("data-poll")) return;
      var busy = false;
      if (region.hasAttribute("data-poll-pause-in-form")) {
        var focused = document.activeElement;
        busy =
          !!region.querySelector(".form-errors") ||
          !!(focused && region.contains(focused) && focused.closest("form"));
      }
      if (document.visibilityState !== "visible" || busy) event.preventDefault();
    });
  }
})();
