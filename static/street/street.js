/*
 * The street pages' report forms and checklist.
 *
 * Report forms ([data-report-form]): the position comes from geolocate.js or a
 * pin on the map (static/whistle/map.js); both fill the longitude and latitude inputs in
 * WGS-84, geolocate.js also the accuracy (a pin has none). A chosen photo is previewed.
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

  function mapHandle(mapEl) {
    if (!mapEl) return null;
    return mapEl._whistleMap || (Whistle.map && Whistle.map.create(mapEl)) || null;
  }

  function bindReportForm(form) {
    if (form._streetBound) return;
    form._streetBound = true;
    var lon = form.querySelector("#id_lon");
    var lat = form.querySelector("#id_lat");
    var accuracy = form.querySelector("#id_accuracy_m");
    var category = form.querySelector("#id_category");
    var nearby = form.querySelector("[data-nearby]");
    var nearbyUrl = form.getAttribute("data-nearby-url");
    var mapEl = form.querySelector("[data-map]");
    var keepAccuracy = false;

    function placeChanged() {
      form.dispatchEvent(new CustomEvent("street:place-changed"));
      if (!nearbyUrl || !nearby || !window.htmx || !lon.value || !lat.value) return;
      window.htmx.ajax("GET", nearbyUrl, {
        target: nearby,
        swap: "innerHTML",
        values: { lon: lon.value, lat: lat.value, category: category ? category.value : "" },
      });
    }

    /* Put the pin at a position without losing the accuracy the phone gave for it. */
    function pinAt(lonValue, latValue, zoomIn) {
      var handle = mapHandle(mapEl);
      if (!handle) return;
      handle.ready.then(function () {
        keepAccuracy = true;
        var marker = handle.pin(lonValue, latValue);
        keepAccuracy = false;
        if (zoomIn) handle.map.setView(marker.getLatLng(), Math.max(handle.map.getZoom(), 17));
      });
    }

    form.addEventListener("whistle:position", function (event) {
      var detail = event.detail || {};
      if (mapEl && event.target === mapEl) {
        lon.value = Number(detail.lon).toFixed(7);
        lat.value = Number(detail.lat).toFixed(7);
        if (!keepAccuracy && accuracy) accuracy.value = "";
        placeChanged();
        return;
      }
      // From geolocate.js: the inputs are filled already.
      pinAt(detail.lon, detail.lat, true);
      placeChanged();
    });

    if (mapEl) {
      mapEl.addEventListener("whistle:map-click", function (event) {
        var handle = mapHandle(mapEl);
        if (handle) handle.pin(event.detail.lon, event.detail.lat);
      });
      mapHandle(mapEl);
      if (lon.value && lat.value) pinAt(parseFloat(lon.value), parseFloat(lat.value), true);
    }

    var place = form.querySelector("[data-resident-place]");
    if (place) bindResidentPlace(form, place, mapEl, pinAt, lon, lat);

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

    var photo = form.querySelector('input[type="file"][name="photo"]');
    var preview = form.querySelector("[data-photo-preview]");
    var photoName = form.querySelector("[data-photo-name]");
    if (photo) {
      photo.addEventListener("change", function () {
        var file = photo.files && photo.files[0];
        if (photoName) photoName.textContent = file ? file.name : "";
        if (!preview || !window.URL) return;
        if (!file) {
          preview.hidden = true;
          return;
        }
        preview.src = window.URL.createObjectURL(file);
        preview.hidden = false;
      });
    }
  }

  function residentWords() {
    var node = document.getElementById("resident-place-words");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (e) {
      return {};
    }
  }

  /* The most lanes listed at once: more would push the form off a phone's screen. */
  var LANES_LISTED = 8;

  function bindResidentPlace(form, place, mapEl, pinAt, lon, lat) {
    var words = residentWords();
    var chosen = place.querySelector("[data-place-chosen]");
    var search = place.querySelector("[data-lane-search]");
    var results = place.querySelector("[data-lane-results]");
    var count = place.querySelector("[data-lane-count]");
    var district = place.querySelector("[data-lane-district]");
    var placeUrl = place.getAttribute("data-place-url");
    var lanes = [];
    var asked = 0;

    /* Say where the report goes, as the server will place it. */
    function describe() {
      if (!lon.value || !lat.value || !placeUrl || !chosen) return;
      var ticket = ++asked;
      var url = placeUrl + "?" + new URLSearchParams({ lon: lon.value, lat: lat.value });
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json();
        })
        .then(function (data) {
          if (ticket !== asked) return;
          chosen.textContent = data.text || data.error || "";
          chosen.classList.toggle("is-error", !data.inside);
        })
        .catch(function () {
          if (ticket === asked) chosen.textContent = "";
        });
    }
    // A place kept from a refused form is described when its pin is put back on the map.
    form.addEventListener("street:place-changed", describe);

    function normal(text) {
      return String(text || "").toLowerCase().replace(/\s+/g, "");
    }

    function load(url) {
      lanes = [];
      if (!url) return Promise.resolve();
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (data) {
          lanes = (data.features || []).map(function (feature) {
            var p = feature.properties || {};
            return { name: p.name, township: p.township, length: p.length_m, point: p.point, key: normal(p.name) };
          });
          return data;
        })
        .catch(function () {
          if (count) count.textContent = words.lanesFailed || "";
        });
    }

    function choose(lane) {
      // A point chosen from the list has no accuracy, like a pin.
      var accuracy = form.querySelector("#id_accuracy_m");
      if (accuracy) accuracy.value = "";
      pinAt(lane.point[0], lane.point[1], true);
      search.value = lane.name;
      results.innerHTML = "";
      if (count) count.textContent = Whistle.format(words.laneChosen, { lane: lane.name });
    }

    function show() {
      var query = normal(search.value);
      results.innerHTML = "";
      if (!query) {
        if (count) count.textContent = words.lanesHint || "";
        return;
      }
      var found = lanes.filter(function (lane) {
        return lane.key.indexOf(query) !== -1 || normal(lane.township).indexOf(query) !== -1;
      });
      // Names that start with what was typed first, then the others, each by name.
      found.sort(function (a, b) {
        var sa = a.key.indexOf(query) === 0 ? 0 : 1;
        var sb = b.key.indexOf(query) === 0 ? 0 : 1;
        return sa - sb || a.name.localeCompare(b.name, "zh-Hans-CN");
      });
      found.slice(0, LANES_LISTED).forEach(function (lane) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn lane-result";
        var name = document.createElement("span");
        name.className = "lane-result-name";
        name.textContent = lane.name;
        var where = document.createElement("span");
        where.className = "lane-result-where";
        where.textContent = Whistle.format(words.laneWhere, { township: lane.township, m: lane.length });
        button.appendChild(name);
        button.appendChild(where);
        button.addEventListener("click", function () {
          choose(lane);
        });
        item.appendChild(button);
        results.appendChild(item);
      });
      if (!count) return;
      if (!found.length) count.textContent = words.lanesNone || "";
      else if (found.length > LANES_LISTED) {
        count.textContent = Whistle.format(words.lanesSome, { n: found.length, shown: LANES_LISTED });
      } else count.textContent = Whistle.format(words.lanesAll, { n: found.length });
    }

    if (search) {
      var loaded = load(search.getAttribute("data-url"));
      search.addEventListener("input", show);
      search.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        // Enter in the lane search picks the first lane; it must not send the report.
        event.preventDefault();
        var first = results.querySelector("button");
        if (first) first.click();
      });
      if (district) {
        district.addEventListener("change", function () {
          var option = district.options[district.selectedIndex];
          var url = option.getAttribute("data-url");
          search.setAttribute("data-url", url);
          loaded = load(url).then(function (data) {
            show();
            redrawLanes(mapEl, url, data);
          });
        });
      }
      loaded.then(show);
    }
  }

  /* Another district's lanes on the residents' map. */
  function redrawLanes(mapEl, url, data) {
    var handle = mapHandle(mapEl);
    if (!handle || !data) return;
    handle.ready.then(function () {
      Object.keys(handle.overlays).forEach(function (title) {
        var layer = handle.overlays[title];
        layer.clearLayers();
        layer.addData(data);
        if (layer.getLayers().length) handle.map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 17 });
      });
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
