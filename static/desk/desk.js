/*
 * The desk pages' maps: what a case's map draws besides the township (the problem, its
 * lane, the meeting points, every check-in, accepted, flagged or refused), and the meeting-point pin
 * of the whistle form.
 *
 * Features come as WGS-84 JSON in <script id="case-map-features"> (rendered by the view);
 * they are drawn through the map's own toDisplay, so a GCJ-02 base map shifts them like
 * everything else, and pins come back as WGS-84 from the map's whistle:position event.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var L = window.L;

  function readFeatures() {
    var node = document.getElementById("case-map-features");
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value === undefined || value === null ? "" : String(value);
    return span.innerHTML;
  }

  function draw(handle, features) {
    var map = handle.map;
    function latLng(lon, lat) {
      var p = handle.toDisplay(lon, lat);
      return L.latLng(p[1], p[0]);
    }
    var drawn = L.featureGroup();
    if (features.lane && features.lane.geometry) {
      L.geoJSON(features.lane.geometry, {
        coordsToLatLng: function (c) {
          return latLng(c[0], c[1]);
        },
        style: function () {
          return { color: "#b3261e", weight: 6, opacity: 0.85, className: "desk-lane" };
        },
      })
        .bindTooltip(text(features.lane.label), { sticky: true })
        .addTo(drawn);
    }
    (features.meeting || []).forEach(function (point) {
      L.circleMarker(latLng(point.lon, point.lat), {
        radius: 10, color: "#ffffff", weight: 3, fillColor: "#5b2a8c", fillOpacity: 1,
        className: "desk-meeting",
      })
        .bindTooltip(text(point.label || ""))
        .addTo(drawn);
    });
    // Accepted: green; refused: amber; flagged for the township: an amber ring.
    var checkInStyles = {
      accepted: { color: "#ffffff", weight: 2, fillColor: "#0f7a50", className: "desk-check-in" },
      refused: { color: "#ffffff", weight: 2, fillColor: "#a36a00", className: "desk-check-in-refused" },
      flagged: { color: "#a36a00", weight: 4, fillColor: "#ffffff", className: "desk-check-in-flagged" },
    };
    // Once the township has ruled on a flagged check-in: confirmed, as accepted; rejected,
    // as refused.
    checkInStyles.confirmed = checkInStyles.accepted;
    checkInStyles.rejected = checkInStyles.refused;
    (features.check_ins || []).forEach(function (point) {
      var style = checkInStyles[point.state || (point.accepted ? "accepted" : "refused")];
      L.circleMarker(latLng(point.lon, point.lat), {
        radius: 7, color: style.color, weight: style.weight,
        fillColor: style.fillColor, fillOpacity: 1,
        className: style.className,
      })
        .bindTooltip(text(point.label + " " + point.at))
        .addTo(drawn);
    });
    if (features.case) {
      L.circleMarker(latLng(features.case.lon, features.case.lat), {
        radius: 9, color: "#ffffff", weight: 3, fillColor: "#b3261e", fillOpacity: 1,
        className: "desk-case",
      })
        .bindTooltip(text(features.case.label))
        .addTo(drawn);
    }
    drawn.addTo(map);
    var bounds = drawn.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds.pad(0.6), { maxZoom: 17, animate: false });
    }
    map.getContainer().setAttribute("data-case-drawn", "true");
  }

  /* The whistle form: a tap on the map pins the meeting point into the two inputs; typing
     coordinates moves the pin; "clear" empties both. */
  function bindPin(container, handle) {
    var lonInput = document.querySelector(container.getAttribute("data-lon"));
    var latInput = document.querySelector(container.getAttribute("data-lat"));
    var el = handle.map.getContainer();
    if (!lonInput || !latInput) return;
    el.addEventListener("whistle:map-click", function (event) {
      handle.pin(event.detail.lon, event.detail.lat);
    });
    el.addEventListener("whistle:position", function (event) {
      lonInput.value = event.detail.lon.toFixed(7);
      latInput.value = event.detail.lat.toFixed(7);
    });
    function fromInputs() {
      var lon = parseFloat(lonInput.value);
      var lat = parseFloat(latInput.value);
      if (isFinite(lon) && isFinite(lat)) handle.pin(lon, lat);
    }
    lonInput.addEventListener("change", fromInputs);
    latInput.addEventListener("change", fromInputs);
    fromInputs();
    var clear = container.querySelector("[data-pin-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        lonInput.value = "";
        latInput.value = "";
        if (handle.pinMarker) {
          handle.map.removeLayer(handle.pinMarker);
          handle.pinMarker = null;
        }
      });
    }
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll || !L || !Whistle.map) return;
    var features = readFeatures();
    [].forEach.call(scope.querySelectorAll("[data-map]"), function (el) {
      if (el._deskDrawn) return;
      el._deskDrawn = true;
      var handle = Whistle.map.create(el);
      if (!handle) return;
      handle.ready.then(function () {
        if (features) draw(handle, features);
        var pinFields = document.querySelector('[data-pin-fields][data-pin-map="' + el.id + '"]');
        if (pinFields) bindPin(pinFields, handle);
      });
    });
  }

  if (Whistle.onInit) Whistle.onInit(init);
})();
