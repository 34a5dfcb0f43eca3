/*
 * The street pages' report forms and checklist.
 *
 * Report forms ([data-report-form]): the position comes from geolocate.js or a
 * pin on the map (static/whistle/map.js); both fill the longitude and latitude inputs in
 * WGS-84, geolocate.js also the accuracy (a pin has none). A chosen photo is previewed
 * (whistle.js).
 * Suggested categories (htmx) are picked with one tap; cases nearby that may be the same
 * problem are fetched when the place or the category changes.
 *
 * The residents' form ([data-resident-place]) also offers the district's lanes: typing
 * filters them, choosing one puts the pin halfway along it. After every change of place
 * the page says where the report goes (the lane it snaps to, or the township), as the
 * server will place it.
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
    var lon = form.querySelector("#id_lon");
    var lat = form.querySelector("#id_lat");
    var category = form.querySelector("#id_category");
    var nearby = form.querySelector("[data-nearby]");
    var nearbyUrl = form.getAttribute("data-nearby-url");

    // The pin, the phone's position and the residents' lane list (static/whistle/place.js).
    Whistle.bindPlace(form);

    function placeChanged() {
      if (!nearbyUrl || !nearby || !window.htmx || !lon.value || !lat.value) return;
      window.htmx.ajax("GET", nearbyUrl, {
        target: nearby,
        swap: "innerHTML",
        values: { lon: lon.value, lat: lat.value, category: category ? category.value : "" },
      });
    }
    form.addEventListener("whistle:place-changed", placeChanged);

    if (category) category.addEventListener("change", placeChanged);

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
})();
