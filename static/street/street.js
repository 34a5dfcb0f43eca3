/*
 * The street pages' report forms and checklist.
 *
 * Report forms ([data-report-form]): the position comes from geolocate.js or a
 * pin on the map (static/whistle/map.js); both fill the longitude and latitude inputs in
 * WGS-84, geolocate.js also the accuracy (a pin has none). A chosen photo is previewed
 * (whistle.js).
 * Suggested categories (htmx) are asked for with the start of the description and picked
 * with one tap; cases nearby that may be the same problem are fetched when the place or the
 * category changes.
 *
 * The residents' form ([data-resident-place]) also offers the district's lanes: typing
 * filters them, choosing one puts the pin halfway along it. After every change of place
 * the page says where the report goes (the lane it snaps to, or the township), as the
 * server will place it.
 *
 * Without signal those lookups cannot reach the server: the form says so in the page's
 * language, and that the report is kept on the phone and sent when the connection returns
 * ([data-report-offline]); the next lookup answered takes the note away.
 *
 * My reports ([data-my-reports]): the server draws the list once, and the phone's queue
 * (whistle/offline.js) may send a report after that — on this page's load, when the signal
 * returns, or from another page just left. So the newest page shows the reports still kept
 * on the phone as "Waiting to send", and once the queue has sent one that the list lacks,
 * the list is fetched again: the sent report replaces its waiting row.
 *
 * Checklist items swapped in by htmx say what was recorded to screen readers and keep the
 * keyboard focus on the button that was pressed.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function bindReportForm(form) {
    if (form._streetBound) return;
    form._streetBound = true;
    var category = form.querySelector("#id_category");

    // The pin, the phone's position and the residents' lane list (static/whistle/place.js).
    Whistle.bindPlace(form);

    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-pick-category]");
      if (!button || !category) return;
      category.value = button.getAttribute("data-pick-category");
      category.dispatchEvent(new Event("change", { bubbles: true }));
      var option = category.options[category.selectedIndex];
      if (option) Whistle.announce(option.textContent);
      category.focus();
    });
  }

  function lookupNote(event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && elt.closest ? elt.closest("[data-report-form]") : null;
    return form ? form.querySelector("[data-report-offline]") : null;
  }

  // The suggested categories are asked for with the start of the description only: at most
  // data-suggest-chars characters (counted as the server counts them) and data-suggest-bytes
  // of the address as it is sent, where a Chinese character takes nine.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var most = elt && elt.getAttribute ? parseInt(elt.getAttribute("data-suggest-chars"), 10) : 0;
    var bytes = elt && elt.getAttribute ? parseInt(elt.getAttribute("data-suggest-bytes"), 10) : 0;
    var params = event.detail && event.detail.parameters;
    if (!most || !params || typeof params.description !== "string") return;
    var chars = Array.from(params.description).slice(0, most);
    if (bytes) {
      var sent = 0;
      for (var i = 0; i < chars.length; i++) {
        sent += encodeURIComponent(chars[i]).length;
        if (sent > bytes) {
          chars = chars.slice(0, i);
          break;
        }
      }
    }
    params.description = chars.join("");
  });

  // Cases nearby are asked for only once the form has a place.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.matches || !elt.matches("[data-nearby]")) return;
    var form = elt.closest("form");
    var lon = form && form.querySelector("#id_lon");
    var lat = form && form.querySelector("#id_lat");
    if (!lon || !lat || !lon.value || !lat.value) event.preventDefault();
  });

  document.addEventListener("htmx:sendError", function (event) {
    var note = lookupNote(event);
    if (!note || !note.hidden) return;
    note.hidden = false;
    Whistle.announce(note.textContent);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var note = lookupNote(event);
    if (note && event.detail.successful) note.hidden = true;
  });

  /* My reports and the phone's queue. */
  var dayAndTime = null;
  try {
    dayAndTime = new Intl.DateTimeFormat("en-GB", {
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: (Whistle.strings && Whistle.strings.timeZone) || "Asia/Shanghai",
    });
  } catch (e) {
    dayAndTime = null;
  }

  // "m-d H:i" in Beijing time, as the server writes the list's times.
  function whenMade(iso) {
    var parts = {};
    if (!dayAndTime || !dayAndTime.formatToParts) return Whistle.timeOfDay(iso);
    dayAndTime.formatToParts(new Date(iso)).forEach(function (part) {
      parts[part.type] = part.value;
    });
    var hour = parts.hour === "24" ? "00" : parts.hour;
    return parts.month + "-" + parts.day + " " + hour + ":" + parts.minute;
  }

  function cell(label, text, className) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (className) td.className = className;
    if (text) td.textContent = text;
    return td;
  }

  function waitingRow(list, labels, item) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-waiting-report", item.key);
    var badge = document.createElement("span");
    badge.className = "badge offline-badge-waiting";
    badge.textContent = list.getAttribute("data-waiting") || "";
    var status = cell(labels[4], "");
    status.appendChild(badge);
    [
      cell(labels[0], "—"),
      cell(labels[1], whenMade(item.happened_at)),
      cell(labels[2], "—"),
      cell(labels[3], item.label),
      status,
      cell(labels[5], "", "is-empty"),
    ].forEach(function (td) {
      tr.appendChild(td);
    });
    return tr;
  }

  // The newest page shows the reports waiting on the phone above those the server has.
  function showWaiting(list, items) {
    var body = list.querySelector("[data-my-reports-rows]");
    if (!body) return;
    [].forEach.call(body.querySelectorAll("[data-waiting-report]"), function (row) {
      row.remove();
    });
    var waiting = list.hasAttribute("data-my-reports-newest")
      ? items.filter(function (item) {
          return item.kind === "report" && item.status === "waiting";
        })
      : [];
    var labels = [].map.call(list.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    waiting.forEach(function (item) {
      body.insertBefore(waitingRow(list, labels, item), body.firstChild);
    });
    var rows = body.querySelectorAll("tr").length;
    var table = list.querySelector(".table-scroll");
    var empty = list.querySelector("[data-my-reports-empty]");
    if (table) table.hidden = rows === 0;
    if (empty) empty.hidden = rows > 0;
  }

  // The list as the server has it now, in place of the one drawn with the page.
  function fetchList(list) {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-my-reports]");
        if (!fresh) throw new Error("no list");
        list.replaceWith(fresh);
        return fresh;
      });
  }

  // References the list was fetched again for: each is looked for once per page.
  var fetchedFor = {};

  function reconcile() {
    var list = document.querySelector("[data-my-reports]");
    if (!list || !Whistle.offline) return Promise.resolve();
    return Whistle.offline
      .items()
      .then(function (items) {
        var listed = {};
        [].forEach.call(list.querySelectorAll("[data-reference]"), function (row) {
          listed[row.getAttribute("data-reference")] = true;
        });
        var missing = items.filter(function (item) {
          return item.kind === "report" && item.status === "sent" && item.result &&
            !listed[item.result] && !fetchedFor[item.result];
        });
        if (!list.hasAttribute("data-my-reports-newest") || !missing.length) {
          showWaiting(list, items);
          return null;
        }
        return fetchList(list)
          .then(function (fresh) {
            missing.forEach(function (item) {
              fetchedFor[item.result] = true;
            });
            return fresh;
          })
          .catch(function () {
            // Without signal the list stays as it was drawn, until the next round.
            return list;
          })
          .then(function (shown) {
            showWaiting(shown, items);
          });
      })
      .catch(function () {});
  }

  document.addEventListener("whistle:offline-synced", reconcile);

  /* The follow link on the thank-you page: copied with one tap where the browser allows. */
  function bindCopy(button) {
    if (button._streetBound || !navigator.clipboard) return;
    button._streetBound = true;
    var box = button.closest("[data-follow-link]");
    var source = box && box.querySelector("[data-copy-text]");
    var status = box && box.querySelector("[data-copy-status]");
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        if (status) status.textContent = button.getAttribute("data-copied") || "";
      });
    });
  }

  var lastAnnounced = "";

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("[data-report-form]"), bindReportForm);
    [].forEach.call(scope.querySelectorAll("[data-copy]"), bindCopy);
    // A checklist item or a list of suggestions just swapped in by htmx.
    if (root && root !== document && root.matches) {
      var spoken = root.getAttribute("data-announce") ||
        (root.querySelector && root.querySelector("[data-announce]") &&
          root.querySelector("[data-announce]").getAttribute("data-announce"));
      if (spoken && spoken !== lastAnnounced) {
        lastAnnounced = spoken;
        Whistle.announce(spoken);
      }
      if (root.matches(".check-item")) {
        var pressed = root.querySelector('[aria-pressed="true"]') || root.querySelector("button");
        if (pressed) pressed.focus();
      }
    }
  }

  if (Whistle.onInit) Whistle.onInit(init);
  // Drawn from the phone's store, or opened without signal, the page hears no round sent.
  reconcile();
})();
