/*
 * Choosing the place of a problem in a form: the residents' report page and the command
 * centre's work-order page share it (templates/web/components/place_picker.html).
 *
 *   var place = Whistle.bindPlace(form);   // once per form; returns { pinAt }
 *
 * The position comes from geolocate.js ("Use my position"), from a pin on the map
 * (static/whistle/map.js), or from the list of the district's lanes ([data-place-picker]):
 * typing filters them, choosing one puts the pin halfway along it. All of them fill the
 * form's longitude and latitude inputs (#id_lon, #id_lat) in WGS-84; geolocate.js also the
 * accuracy (#id_accuracy_m), which a pin or a lane empties. After every change of place the
 * form hears "whistle:place-changed", and the picker says where the problem goes (the lane
 * it snaps to, or the township), as the server will place it.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function mapHandle(mapEl) {
    if (!mapEl) return null;
    return mapEl._whistleMap || (Whistle.map && Whistle.map.create(mapEl)) || null;
  }

  function pickerWords() {
    var node = document.getElementById("place-picker-words");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (e) {
      return {};
    }
  }

  /* The most lanes listed at once: more would push the form off a phone's screen. */
  var LANES_LISTED = 8;

  function bindPlace(form) {
    if (form._placeBound) return form._placeBound;
    var lon = form.querySelector("#id_lon");
    var lat = form.querySelector("#id_lat");
    var accuracy = form.querySelector("#id_accuracy_m");
    var mapEl = form.querySelector("[data-map]");
    var keepAccuracy = false;

    function changed() {
      form.dispatchEvent(new CustomEvent("whistle:place-changed"));
    }

    /* Put the pin at a position without losing the accuracy the phone gave for it. A
       position that is no pair of finite numbers (an input tampered with) is no place:
       the pin stays where it was and the server refuses the form. */
    function pinAt(lonValue, latValue, zoomIn) {
      lonValue = finite(lonValue);
      latValue = finite(latValue);
      if (lonValue === null || latValue === null) return;
      var handle = mapHandle(mapEl);
      if (!handle) return;
      handle.ready.then(function () {
        keepAccuracy = true;
        var marker = handle.pin(lonValue, latValue);
        keepAccuracy = false;
        if (zoomIn) handle.map.setView(marker.getLatLng(), Math.max(handle.map.getZoom(), 17));
      });
    }

    var api = { pinAt: pinAt };
    form._placeBound = api;
    if (!lon || !lat) return api;

    form.addEventListener("whistle:position", function (event) {
      var detail = event.detail || {};
      if (mapEl && event.target === mapEl) {
        lon.value = Number(detail.lon).toFixed(7);
        lat.value = Number(detail.lat).toFixed(7);
        if (!keepAccuracy && accuracy) accuracy.value = "";
        changed();
        return;
      }
      // From geolocate.js: the inputs are filled already.
      pinAt(detail.lon, detail.lat, true);
      changed();
    });

    if (mapEl) {
      mapEl.addEventListener("whistle:map-click", function (event) {
        var handle = mapHandle(mapEl);
        if (handle) handle.pin(event.detail.lon, event.detail.lat);
      });
      mapHandle(mapEl);
      if (lon.value && lat.value) pinAt(lon.value, lat.value, true);
    }

    var picker = form.querySelector("[data-place-picker]");
    if (picker) bindPicker(form, picker, mapEl, pinAt, lon, lat);
    return api;
  }

  /* A coordinate as a number, or null when it is empty or not a finite number. */
  function finite(value) {
    if (value === null || value === undefined || String(value).trim() === "") return null;
    var number = Number(value);
    return isFinite(number) ? number : null;
  }

  function bindPicker(form, picker, mapEl, pinAt, lon, lat) {
    var words = pickerWords();
    var chosen = picker.querySelector("[data-place-chosen]");
    var search = picker.querySelector("[data-lane-search]");
    var results = picker.querySelector("[data-lane-results]");
    var count = picker.querySelector("[data-lane-count]");
    var district = picker.querySelector("[data-lane-district]");
    var placeUrl = picker.getAttribute("data-place-url");
    var lanes = [];
    var asked = 0;

    /* Say where the problem goes, as the server will place it. */
    function describe() {
      if (finite(lon.value) === null || finite(lat.value) === null) return;
      if (!placeUrl || !chosen) return;
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
    form.addEventListener("whistle:place-changed", describe);

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
        // Enter in the lane search picks the first lane; it must not send the form.
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
            redrawLanes(mapEl, data);
          });
        });
      }
      loaded.then(show);
    }
  }

  /* Another district's lanes on the map. */
  function redrawLanes(mapEl, data) {
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

  Whistle.bindPlace = bindPlace;

  /* Forms that only choose a place ([data-place-form]); report forms bind it themselves. */
  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("[data-place-form]"), bindPlace);
  }

  if (Whistle.onInit) Whistle.onInit(init);
})();
