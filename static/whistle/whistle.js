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

  /* A moment's time of day as the pages say every time: in Beijing time (the product's
     zone, `timeZone` in the page's words), whatever zone the device is set to, on a 24-hour
     clock: "09:05", or with seconds "09:05:08". Where the browser cannot convert to a named
     zone, the device's own time is the best left. */
  var timeFormats = {};
  function timeFormat(seconds) {
    var key = seconds ? "s" : "m";
    if (timeFormats[key] === undefined) {
      var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      if (seconds) options.second = "2-digit";
      options.timeZone = Whistle.strings.timeZone || "Asia/Shanghai";
      try {
        timeFormats[key] = new Intl.DateTimeFormat("en-GB", options);
      } catch (e) {
        timeFormats[key] = null;
      }
    }
    return timeFormats[key];
  }

  function pad(n) {
    return ("0" + n).slice(-2);
  }

  Whistle.timeOfDay = function (moment, seconds) {
    var date = moment instanceof Date ? moment : new Date(moment);
    if (isNaN(date.getTime())) return "";
    var format = timeFormat(seconds);
    var parts = {};
    if (format && format.formatToParts) {
      format.formatToParts(date).forEach(function (part) {
        parts[part.type] = part.value;
      });
    } else {
      parts = {
        hour: pad(date.getHours()),
        minute: pad(date.getMinutes()),
        second: pad(date.getSeconds()),
      };
    }
    // Some browsers say midnight as 24 even on a 23-hour clock.
    var hour = parts.hour === "24" ? "00" : parts.hour;
    return hour + ":" + parts.minute + (seconds ? ":" + parts.second : "");
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

  /* A photo field (web/components/photo_field.html). One photo: the chosen file's name is
     said and the photo previewed. Several: the count is said and each photo previewed with
     its name and a button that takes it out. Choosing again adds to the photos already
     chosen (a phone's camera gives one at a time), up to the field's most, where the
     browser lets a page set a file input's files; elsewhere a new choice replaces the last. */
  var canSetFiles = (function () {
    try {
      return typeof DataTransfer === "function" && !!new DataTransfer().items;
    } catch (e) {
      return false;
    }
  })();

  /* Whether a file is a JPEG, PNG or WebP picture, by its first bytes as the server reads
     them (whistle/cases/images.py), whatever its name says. The server checks again: where
     the browser cannot read the file, it is taken for a picture here. */
  function isPicture(file) {
    var head = file.slice(0, 12);
    var read = head.arrayBuffer
      ? head.arrayBuffer()
      : new Promise(function (resolve, reject) {
          var reader = new FileReader();
          reader.onload = function () {
            resolve(reader.result);
          };
          reader.onerror = reject;
          reader.readAsArrayBuffer(head);
        });
    return read.then(
      function (buffer) {
        var b = new Uint8Array(buffer);
        var text = function (from, to) {
          return String.fromCharCode.apply(null, Array.prototype.slice.call(b, from, to));
        };
        var jpeg = b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
        var png = b[0] === 0x89 && text(1, 4) === "PNG" && b[4] === 0x0d && b[5] === 0x0a;
        var webp = text(0, 4) === "RIFF" && text(8, 12) === "WEBP";
        return jpeg || png || webp;
      },
      function () {
        return true;
      }
    );
  }

  /* The field's own note that a chosen file is no picture, in the page's language. */
  function notPicture(field, files) {
    var note = field.querySelector("[data-photo-error]");
    field.classList.toggle("has-error", files.length > 0);
    if (!note) return;
    note.textContent = files
      .map(function (file) {
        return Whistle.format(Whistle.strings.photoNotPicture || "%(name)s", { name: file.name });
      })
      .join(" ");
    note.hidden = files.length === 0;
  }

  function onePhoto(field, input) {
    var preview = field.querySelector("[data-photo-preview]");
    var name = field.querySelector("[data-photo-name]");
    // Any other file field (a CSV or XLSX to import) shares the button and the name shown,
    // not the picture check.
    var pictures = !field.classList.contains("file-field");
    function show(file) {
      if (name) name.textContent = file ? file.name : "";
      if (!preview || !window.URL) return;
      if (!file) {
        preview.hidden = true;
        return;
      }
      preview.src = window.URL.createObjectURL(file);
      preview.hidden = false;
    }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      notPicture(field, []);
      show(file);
      if (!file || !pictures) return;
      isPicture(file).then(function (yes) {
        if (yes || input.files[0] !== file) return;
        // Not sent: the server would refuse it, after the whole form had travelled.
        input.value = "";
        show(null);
        notPicture(field, [file]);
      });
    });
    // A form sent and emptied (offline.js keeps it on the phone) shows no photo any more.
    if (input.form) {
      input.form.addEventListener("reset", function () {
        notPicture(field, []);
        if (name) name.textContent = "";
        if (!preview) return;
        if (preview.src && window.URL && preview.src.indexOf("blob:") === 0) {
          window.URL.revokeObjectURL(preview.src);
        }
        preview.removeAttribute("src");
        preview.hidden = true;
      });
    }
  }

  function severalPhotos(field, input) {
    var list = field.querySelector("[data-photo-list]");
    var status = field.querySelector("[data-photo-name]");
    var buttonText = field.querySelector("[data-photo-button-text]");
    var firstLabel = buttonText ? buttonText.textContent : "";
    var most = parseInt(field.getAttribute("data-photo-max"), 10) || 1;
    var chosen = [];
    var urls = [];
    var words = Whistle.strings;
    var same = function (a, b) {
      return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
    };

    function setFiles() {
      if (!canSetFiles) return;
      var transfer = new DataTransfer();
      chosen.forEach(function (file) {
        transfer.items.add(file);
      });
      input.files = transfer.files;
    }

    function show(note) {
      urls.forEach(function (url) {
        window.URL.revokeObjectURL(url);
      });
      urls = [];
      list.textContent = "";
      chosen.forEach(function (file, index) {
        var item = document.createElement("li");
        item.className = "photo-item";
        if (window.URL) {
          var img = document.createElement("img");
          var url = window.URL.createObjectURL(file);
          urls.push(url);
          img.src = url;
          img.alt = "";
          item.appendChild(img);
        }
        var name = document.createElement("span");
        name.className = "photo-item-name";
        name.textContent = file.name;
        item.appendChild(name);
        if (canSetFiles) {
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "btn photo-remove";
          remove.textContent = words.photoRemove;
          remove.setAttribute("aria-label", Whistle.format(words.photoRemoveNamed, { name: file.name }));
          remove.addEventListener("click", function () {
            chosen.splice(index, 1);
            setFiles();
            show("");
            var buttons = list.querySelectorAll(".photo-remove");
            (buttons[Math.min(index, buttons.length - 1)] || input).focus();
          });
          item.appendChild(remove);
        }
        list.appendChild(item);
      });
      list.hidden = chosen.length === 0;
      var forms = words.photosChosen || [];
      var count = chosen.length ? forms[chosen.length === 1 ? 0 : 1] || "" : "";
      count = Whistle.format(count, { n: chosen.length });
      status.textContent = note ? count + " " + note : count;
      if (buttonText) {
        buttonText.textContent = canSetFiles && chosen.length > 0 ? words.photosMore : firstLabel;
      }
    }

    input.addEventListener("change", function () {
      var picked = Array.prototype.slice.call(input.files || []);
      Promise.all(picked.map(isPicture)).then(function (answers) {
        var refused = picked.filter(function (file, index) {
          return !answers[index];
        });
        var all = canSetFiles ? chosen.slice() : [];
        picked.forEach(function (file, index) {
          var known = all.some(function (kept) {
            return same(kept, file);
          });
          if (!known && answers[index]) all.push(file);
        });
        var over = all.length > most;
        chosen = all.slice(0, most);
        // Where a page cannot set the files, none of a choice with one that is no picture.
        if (refused.length && !canSetFiles) {
          input.value = "";
          chosen = [];
        }
        setFiles();
        show(over ? Whistle.format(words.photosOver, { max: most }) : "");
        notPicture(field, refused);
      });
    });
    // A form sent and emptied (offline.js keeps it on the phone) starts again with none.
    if (input.form) {
      input.form.addEventListener("reset", function () {
        notPicture(field, []);
        chosen = [];
        window.setTimeout(function () {
          show("");
        }, 0);
      });
    }
  }

  Whistle.onInit(function (root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-photo-field]"), function (field) {
      var input = field.querySelector('input[type="file"]');
      if (!input || input._whistlePhoto) return;
      input._whistlePhoto = true;
      if (input.multiple && field.querySelector("[data-photo-list]")) {
        severalPhotos(field, input);
      } else {
        onePhoto(field, input);
      }
    });
  });

  /* The top bar's menus (<details data-navmenu>): one open at a time; Escape closes the
     open one and puts the focus back on its title; a click or a focus outside closes it. */
  function navMenus() {
    return Array.prototype.slice.call(document.querySelectorAll("details[data-navmenu]"));
  }
  // A menu inside "more" (below) stays open with it.
  function closeMenus(except) {
    navMenus().forEach(function (menu) {
      if (menu !== except && !(except && menu.contains(except))) menu.open = false;
    });
  }
  function watchMenu(menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) closeMenus(menu);
    });
  }
  navMenus().forEach(watchMenu);

  /* One row on a desk's screen: wider than a phone, when the top bar would take a second
     row the bell shows only its count, and then the last entries go, in their order, into
     a "more" menu at the bar's end (English titles are longer than Chinese ones, and some
     people have many pages). It runs on load
     and on resize; without the script the bar wraps and every entry still shows. */
  (function fitTopBar() {
    var bar = document.querySelector(".topbar-inner");
    var items = document.querySelector(".topnav-items");
    var wide = window.matchMedia && window.matchMedia("(min-width: 48rem)");
    if (!bar || !items || !wide || !Whistle.strings.navMore) return;
    var entries = Array.prototype.slice.call(items.children);
    if (!entries.length) return;
    // Made once, in the bar only while it holds entries.
    var more = document.createElement("li");
    more.className = "nav-more";
    more.innerHTML =
      '<details class="navmenu" data-navmenu="more"><summary></summary><ul class="navmenu-list"></ul></details>';
    var moreMenu = more.firstChild;
    var moreList = moreMenu.querySelector("ul");
    moreMenu.querySelector("summary").textContent = Whistle.strings.navMore;
    watchMenu(moreMenu);

    function middle(element) {
      var box = element.getBoundingClientRect();
      return box.top + box.height / 2;
    }
    // Everything in the bar on one line: the brand's, the entries', the bell's and the
    // account's middles level.
    function oneRow() {
      var line = middle(bar.querySelector(".brand") || bar.firstElementChild);
      var parts = Array.prototype.slice.call(items.children).filter(function (el) {
        return !el.hidden;
      });
      var account = bar.querySelector(".account");
      parts = parts.concat(
        Array.prototype.slice.call(account ? account.children : []).filter(function (el) {
          return !el.hidden;
        })
      );
      var bell = bar.querySelector(".inbox-link");
      if (bell) parts.push(bell);
      return parts.every(function (el) {
        return Math.abs(middle(el) - line) < 6;
      });
    }
    function fit() {
      moreMenu.open = false;
      entries.forEach(function (entry) {
        items.appendChild(entry);
      });
      if (more.parentNode) items.removeChild(more);
      bar.classList.remove("topbar-compact");
      if (!wide.matches || oneRow()) return;
      // First the bell gives up its word (its count and its name to screen readers stay).
      bar.classList.add("topbar-compact");
      if (oneRow()) return;
      items.appendChild(more);
      var inBar = entries.slice();
      while (inBar.length > 1 && !oneRow()) {
        moreList.insertBefore(inBar.pop(), moreList.firstChild);
      }
      var summary = moreMenu.querySelector("summary");
      summary.classList.toggle("is-current", !!moreList.querySelector('[aria-current="page"], .is-current'));
    }
    var waiting = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(waiting);
      waiting = window.setTimeout(fit, 100);
    });
    fit();
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(fit);
  })();
  /* The phone's menu (<details data-sitemenu>, whistle.css): its button says whether it is
     open; Escape (after any menu open inside it) closes it and puts the focus back on the
     button, and so does a click or a focus outside it. */
  var siteMenu = document.querySelector("details[data-sitemenu]");
  var siteButton = siteMenu && siteMenu.querySelector("summary");
  function markSiteMenu() {
    siteButton.setAttribute("aria-expanded", siteMenu.open ? "true" : "false");
  }
  // Only while its button shows (a phone): wider, its content is in the bar.
  function siteMenuOpen() {
    return !!siteMenu && siteMenu.open && siteButton.getClientRects().length > 0;
  }
  if (siteMenu) {
    markSiteMenu();
    siteMenu.addEventListener("toggle", markSiteMenu);
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = navMenus().filter(function (menu) {
      return menu.open;
    })[0];
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    } else if (siteMenuOpen()) {
      siteMenu.open = false;
      siteButton.focus();
    }
  });
  ["click", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var inside = event.target.closest && event.target.closest("details[data-navmenu]");
      // In the phone's menu the menus open in place: a title taking the focus (the press
      // before its click) leaves the others be, or the title would move under the finger;
      // opening it closes them.
      var title = event.target.matches && event.target.matches("details[data-navmenu] > summary");
      if (!(type === "focusin" && title && siteMenuOpen())) closeMenus(inside || null);
      if (siteMenuOpen() && !siteMenu.contains(event.target)) siteMenu.open = false;
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
          !!region.querySelector(".form-errors, .form-refusal") ||
          !!(focused && region.contains(focused) && focused.closest("form"));
      }
      if (document.visibilityState !== "visible" || busy) event.preventDefault();
    });
  }
})();
