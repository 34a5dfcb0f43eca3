/*
 * The map component: <div data-map data-config="ID"> with a JSON config in <script id="ID">
 * (rendered by {% map_component %}): { basemap: {kind, crs, layers: [...]}, layers: [{name,
 * url, title}] }.
 *
 * Vector layers (boundaries, lanes, cases) come from the GeoJSON endpoints and are drawn as
 * SVG whether or not a base map is configured, so the map works on a network with no
 * internet. Stored positions are WGS-84. When the base map's tiles are GCJ-02 (Amap, or an
 * in-house server that says so), every position is shifted to GCJ-02 for display and every
 * click or dragged pin is shifted back before it leaves the map: the rest of the page only
 * ever sees WGS-84.
 *
 * Events, bubbling from the map element, detail {lon, lat} in WGS-84:
 *   whistle:map-click   a click or tap on the map
 *   whistle:position    the pin was placed or dragged
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var L = window.L;
  var BEIJING = [39.9042, 116.4074];

  var LEVEL_STYLES = {
    district: { color: "#5b2a8c", weight: 3, dashArray: "8 6", fillOpacity: 0 },
    township: { color: "#0b57d0", weight: 2, fillColor: "#0b57d0", fillOpacity: 0.05 },
    community: { color: "#4f5661", weight: 1, dashArray: "4 4", fillOpacity: 0 },
  };
  var TONE_COLOURS = {
    open: "#0b57d0",
    summoned: "#5b2a8c",
    onsite: "#0f7a50",
    done: "#1d7a3c",
    closed: "#6b7280",
    muted: "#6b7280",
    backlog: "#a36a00",
    overdue: "#b3261e",
    neutral: "#4f5661",
  };

  var LANE_STYLE = { color: "#b3261e", weight: 5, opacity: 0.9 };

  /* A lane's stroke by the zoom: hairlines over a whole district, where hundreds of lanes
     at full width would merge into red blocks; the full width from street level. */
  function laneWeight(zoom) {
    if (zoom >= 16) return LANE_STYLE.weight;
    if (zoom >= 15) return 4;
    if (zoom >= 14) return 3;
    if (zoom >= 13) return 2;
    return 1.5;
  }

  /* Case points closer on the screen than this (pixels) would cover one another. */
  var POINT_GAP = 20;

  /* Cases reported a few metres apart (several on one lane) are drawn as one dot each
     around where they are, in a small ring, so that every one can be seen and clicked:
     grouped again at every zoom, each back at its own position once it stands clear. */
  function spreadPoints(map, layer) {
    var markers = [];
    layer.eachLayer(function (marker) {
      if (marker.whistleHome) markers.push(marker);
    });
    var zoom = map.getZoom();
    var points = markers.map(function (marker) {
      return map.project(marker.whistleHome, zoom);
    });
    var parent = markers.map(function (_marker, i) {
      return i;
    });
    function root(i) {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    }
    function cell(x, y) {
      return Math.floor(x / POINT_GAP) + ":" + Math.floor(y / POINT_GAP);
    }
    var grid = {};
    points.forEach(function (p, i) {
      var key = cell(p.x, p.y);
      (grid[key] = grid[key] || []).push(i);
    });
    points.forEach(function (p, i) {
      for (var dx = -1; dx <= 1; dx += 1) {
        for (var dy = -1; dy <= 1; dy += 1) {
          (grid[cell(p.x + dx * POINT_GAP, p.y + dy * POINT_GAP)] || []).forEach(function (j) {
            if (j > i && p.distanceTo(points[j]) < POINT_GAP) parent[root(i)] = root(j);
          });
        }
      }
    });
    var groups = {};
    markers.forEach(function (_marker, i) {
      var key = root(i);
      (groups[key] = groups[key] || []).push(i);
    });
    Object.keys(groups).forEach(function (key) {
      var members = groups[key];
      var n = members.length;
      if (n === 1) {
        markers[members[0]].setLatLng(markers[members[0]].whistleHome);
        return;
      }
      var x = 0;
      var y = 0;
      members.forEach(function (i) {
        x += points[i].x / n;
        y += points[i].y / n;
      });
      // Always in the same order round the ring: by reference.
      members.sort(function (a, b) {
        return String(markers[a].feature.id).localeCompare(String(markers[b].feature.id));
      });
      var radius = Math.max(POINT_GAP, (n * (POINT_GAP + 2)) / (2 * Math.PI));
      members.forEach(function (i, k) {
        var angle = -Math.PI / 2 + (2 * Math.PI * k) / n;
        var at = L.point(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
        markers[i].setLatLng(map.unproject(at, zoom));
      });
    });
  }

  /* The legend under the map (rendered by the server, words and all) gets the colours the
     map draws with, from the same constants. */
  function paintLegend(el) {
    var figure = el.closest("figure");
    if (!figure) return;
    [].forEach.call(figure.querySelectorAll("[data-legend]"), function (swatch) {
      var kind = swatch.getAttribute("data-legend");
      var value = swatch.getAttribute("data-value");
      if (kind === "case") {
        swatch.style.backgroundColor = TONE_COLOURS[value] || TONE_COLOURS.neutral;
      } else if (kind === "lane") {
        swatch.style.borderTopColor = LANE_STYLE.color;
      } else if (kind === "level") {
        var style = LEVEL_STYLES[value] || LEVEL_STYLES.community;
        swatch.style.borderTopColor = style.color;
        swatch.style.borderTopStyle = style.dashArray ? "dashed" : "solid";
      }
    });
  }

  function identity(lon, lat) {
    return [lon, lat];
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value === undefined || value === null ? "" : String(value);
    return span.innerHTML;
  }

  function buildLayer(name, data, toLatLng, map) {
    var options = { coordsToLatLng: toLatLng };
    if (name === "jurisdictions") {
      options.style = function (feature) {
        var style = LEVEL_STYLES[feature.properties.level] || LEVEL_STYLES.community;
        return Object.assign({ className: "whistle-boundary" }, style);
      };
      options.onEachFeature = function (feature, layer) {
        layer.bindTooltip(text(feature.properties.name), { sticky: true });
      };
    } else if (name === "lanes") {
      options.style = function () {
        return Object.assign({ className: "whistle-lane" }, LANE_STYLE, {
          weight: laneWeight(map.getZoom()),
        });
      };
      options.onEachFeature = function (feature, layer) {
        var p = feature.properties;
        layer.bindTooltip(text(p.name), { sticky: true, className: "lane-label" });
        layer.bindPopup(
          "<strong>" + text(p.name) + "</strong><br>" + text(p.township) + " · " +
            text(Math.round(p.length_m)) + " m"
        );
      };
    } else if (name === "cases") {
      options.pointToLayer = function (feature, latlng) {
        var tone = feature.properties.tone || "neutral";
        var marker = L.circleMarker(latlng, {
          radius: 8,
          color: "#ffffff",
          weight: 2,
          fillColor: TONE_COLOURS[tone],
          fillOpacity: 1,
          className: "whistle-case whistle-case-" + tone,
        });
        marker.whistleHome = latlng;
        return marker;
      };
      options.onEachFeature = function (feature, layer) {
        var p = feature.properties;
        layer.bindPopup(
          "<strong>" + text(p.reference) + "</strong><br>" + text(p.status_label) +
            (p.category ? " · " + text(p.category) : "")
        );
      };
    }
    var layer = L.geoJSON(data, options);
    layer.whistleName = name;
    return layer;
  }

  function setStatus(el, message) {
    var figure = el.closest("figure");
    var status = figure && figure.querySelector("[data-map-status]");
    if (status) status.textContent = message || "";
  }

  function create(el) {
    if (el._whistleMap || !L) return el._whistleMap;
    var configNode = document.getElementById(el.getAttribute("data-config"));
    var config = configNode ? JSON.parse(configNode.textContent) : { basemap: {}, layers: [] };
    var basemap = config.basemap || { crs: "wgs84", layers: [] };
    var gcj = basemap.crs === "gcj02" && Whistle.gcj02;
    var toDisplay = gcj ? Whistle.gcj02.fromWgs84 : identity;
    var toStored = gcj ? Whistle.gcj02.toWgs84 : identity;
    var words = Whistle.strings || {};

    function toLatLng(coords) {
      var p = toDisplay(coords[0], coords[1]);
      return L.latLng(p[1], p[0]);
    }

    // The zoom buttons named in the page's language; the library credited by its name
    // alone (its own credit carries an English tooltip and a flag).
    var map = L.map(el, { preferCanvas: false, zoomControl: false }).setView(
      toLatLng([BEIJING[1], BEIJING[0]]),
      11
    );
    L.control
      .zoom({ zoomInTitle: words.mapZoomIn || "+", zoomOutTitle: words.mapZoomOut || "\u2212" })
      .addTo(map);
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    (basemap.layers || []).forEach(function (tiles) {
      L.tileLayer(tiles.url, {
        subdomains: tiles.subdomains || "abc",
        attribution: tiles.attribution || "",
        maxZoom: tiles.maxZoom || 18,
      }).addTo(map);
    });

    var overlays = {};
    var drawn = [];
    var handle = {
      map: map,
      overlays: overlays,
      crs: gcj ? "gcj02" : "wgs84",
      toDisplay: toDisplay,
      toStored: toStored,
      pinMarker: null,
      ready: null,
      /* Put (or move) the pin at a WGS-84 position; it can be dragged to correct it. */
      pin: function (lon, lat) {
        var latlng = toLatLng([lon, lat]);
        if (!handle.pinMarker) {
          handle.pinMarker = L.marker(latlng, {
            draggable: true,
            keyboard: true,
            icon: L.divIcon({ className: "map-pin", iconSize: null }),
          }).addTo(map);
          handle.pinMarker.on("dragend", function () {
            var at = handle.pinMarker.getLatLng();
            emit("whistle:position", toStored(at.lng, at.lat));
          });
        } else {
          handle.pinMarker.setLatLng(latlng);
        }
        emit("whistle:position", [lon, lat]);
        return handle.pinMarker;
      },
      /* Fit the view to everything drawn: boundaries, lanes and case points as they are now.
         False when nothing is drawn. */
      /* Fit the view to the lanes the configuration names (`focus`: lane ids), such as a
         steward's own lanes among the district's. False when none of them is drawn. */
      fitFocus: function () {
        var wanted = {};
        (config.focus || []).forEach(function (id) {
          wanted[String(id)] = true;
        });
        var bounds = L.latLngBounds([]);
        drawn.forEach(function (layer) {
          if (layer.whistleName !== "lanes") return;
          layer.eachLayer(function (lane) {
            if (lane.feature && wanted[String(lane.feature.id)]) bounds.extend(lane.getBounds());
          });
        });
        if (!bounds.isValid()) return false;
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17, animate: false });
        return true;
      },
      fit: function () {
        var bounds = L.latLngBounds([]);
        drawn.forEach(function (layer) {
          if (layer.getLayers().length) bounds.extend(layer.getBounds());
        });
        if (!bounds.isValid()) return false;
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17, animate: false });
        return true;
      },
    };

    function emit(type, position) {
      el.dispatchEvent(
        new CustomEvent(type, { bubbles: true, detail: { lon: position[0], lat: position[1] } })
      );
    }

    // A line, an area or a point the map draws is no stop of its own for the Tab key:
    // the library makes each one with a tooltip focusable, hundreds of unnamed stops
    // between the map and the rest of the form. The map itself stays one stop (its arrow
    // keys pan, + and - zoom); a place is chosen by keyboard from the lane list beside it.
    map.on("layeradd", function (event) {
      var drawnEl = event.layer.getElement && event.layer.getElement();
      if (drawnEl && drawnEl instanceof window.SVGElement) drawnEl.setAttribute("tabindex", "-1");
    });

    function spreadAll() {
      drawn.forEach(function (layer) {
        if (layer.whistleName === "cases") spreadPoints(map, layer);
      });
    }

    map.on("zoomend", function () {
      var weight = laneWeight(map.getZoom());
      drawn.forEach(function (layer) {
        if (layer.whistleName === "lanes") layer.setStyle({ weight: weight });
      });
      spreadAll();
    });

    map.on("click", function (event) {
      emit("whistle:map-click", toStored(event.latlng.lng, event.latlng.lat));
    });

    handle.ready = Promise.all(
      (config.layers || []).map(function (source) {
        return fetch(source.url, {
          credentials: "same-origin",
          headers: { Accept: "application/geo+json" },
        })
          .then(function (response) {
            if (!response.ok) throw new Error(source.url + ": " + response.status);
            return response.json();
          });
      })
    )
      .then(function (collections) {
        // Added in the configured order whatever order the responses came in, so that
        // areas lie under lanes and lanes under points.
        var layers = collections.map(function (data, index) {
          var source = config.layers[index];
          var layer = buildLayer(source.name, data, toLatLng, map);
          // A feature's popup stops the click reaching the map: report it from here too.
          layer.on("click", function (event) {
            emit("whistle:map-click", toStored(event.latlng.lng, event.latlng.lat));
          });
          layer.addTo(map);
          overlays[source.title] = layer;
          drawn.push(layer);
          return layer;
        });
        // Measured again first: a box sized by flex or grid may have settled since.
        map.invalidateSize({ pan: false });
        setStatus(el, handle.fitFocus() || handle.fit() ? "" : words.mapNoData);
        spreadAll();
        if (Object.keys(overlays).length > 1) {
          var control = L.control.layers(null, overlays, { collapsed: true }).addTo(map);
          // The library names its button in English: named in the page's language instead.
          var toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
          if (toggle && words.mapLayers) {
            toggle.title = words.mapLayers;
            toggle.setAttribute("aria-label", words.mapLayers);
          }
        }
        el.setAttribute("data-map-ready", "true");
        if (config.refresh > 0) refreshPoints(layers);
        return handle;
      })
      .catch(function () {
        setStatus(el, words.mapLoadFailed);
        el.setAttribute("data-map-ready", "error");
        return handle;
      });

    // Case points change by the minute; boundaries and lanes do not.
    function refreshPoints(layers) {
      window.setInterval(function () {
        if (document.visibilityState !== "visible") return;
        config.layers.forEach(function (source, index) {
          if (source.name !== "cases") return;
          fetch(source.url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
            .then(function (response) {
              if (!response.ok) throw new Error(String(response.status));
              return response.json();
            })
            .then(function (data) {
              layers[index].clearLayers();
              layers[index].addData(data);
              spreadPoints(map, layers[index]);
              setStatus(el, "");
            })
            .catch(function () {
              setStatus(el, words.liveStale);
            });
        });
      }, config.refresh * 1000);
    }

    // Layouts that size the map with flex or grid settle after the first paint.
    window.requestAnimationFrame(function () {
      map.invalidateSize();
    });
    paintLegend(el);
    el._whistleMap = handle;
    return handle;
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("[data-map]"), create);
  }

  Whistle.map = { create: create, init: init };
  if (Whistle.onInit) Whistle.onInit(init);
})();
