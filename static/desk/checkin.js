/*
 * The position of the check-in on site (报到) and of the check-out: it comes from the phone's
 * location only.
 *
 * "Find my position" asks the device for a fresh, high-accuracy fix (Whistle.geolocate:
 * enableHighAccuracy, maximumAge 0) and fills the form's hidden fields with it: longitude,
 * latitude, accuracy, the device's time of the fix (position.timestamp, milliseconds) and
 * this browser's device id. The page shows the fix, its accuracy, the distance to the place
 * and what the district's rules will make of it. A fix older than half the clock difference
 * the district allows (data-max-skew, seconds) when the form is sent is taken again first,
 * so the device's time of the fix stays close to the server's time of the check-in.
 *
 * The device id is a random id kept in this browser's localStorage. It tells the server
 * that one browser checked in for two departments; clearing the browser's data or using
 * another browser makes a new one, so it is a hint, never proof.
 *
 * Markup (desk/ops/device_fix.html): a [data-check-in] container inside the form, with
 * data-target-lon/-lat/-max-skew, the words as a JSON <script>, the hidden inputs and the
 * [data-geolocate-button]. With data-radius the page also says what the district's rules will
 * make of the fix (the check-in). With data-optional a form whose position cannot be found is
 * sent without one (the check-out: nobody is kept on site by a phone without a fix).
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var DEVICE_KEY = "whistle.device";
  var MIN_FRESH_MS = 5000;
  var WGS84_A = 6378137;
  var WGS84_F = 1 / 298.257223563;

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function deviceId() {
    try {
      var id = window.localStorage.getItem(DEVICE_KEY);
      if (!id || !/^[A-Za-z0-9-]{8,64}$/.test(id)) {
        id = newId();
        window.localStorage.setItem(DEVICE_KEY, id);
      }
      return id;
    } catch (e) {
      return "";
    }
  }

  // The distance on the WGS 84 ellipsoid, as the server measures it (pyproj's geodesic,
  // whistle/organisation/geo.py): Vincenty's inverse formula, which agrees with it to well
  // under a millimetre at a check-in's distances; rounded to 0.1 m as the server keeps it.
  function metres(lon1, lat1, lon2, lat2) {
    var rad = Math.PI / 180;
    var f = WGS84_F;
    var b = WGS84_A * (1 - f);
    var L = (lon2 - lon1) * rad;
    var U1 = Math.atan((1 - f) * Math.tan(lat1 * rad));
    var U2 = Math.atan((1 - f) * Math.tan(lat2 * rad));
    var sinU1 = Math.sin(U1);
    var cosU1 = Math.cos(U1);
    var sinU2 = Math.sin(U2);
    var cosU2 = Math.cos(U2);
    var lambda = L;
    var previous;
    var iterations = 0;
    var sinSigma, cosSigma, sigma, sinAlpha, cosSqAlpha, cos2SigmaM, C;
    do {
      var sinLambda = Math.sin(lambda);
      var cosLambda = Math.cos(lambda);
      var x = cosU2 * sinLambda;
      var y = cosU1 * sinU2 - sinU1 * cosU2 * cosLambda;
      sinSigma = Math.sqrt(x * x + y * y);
      if (sinSigma === 0) return 0;
      cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
      sigma = Math.atan2(sinSigma, cosSigma);
      sinAlpha = (cosU1 * cosU2 * sinLambda) / sinSigma;
      cosSqAlpha = 1 - sinAlpha * sinAlpha;
      cos2SigmaM = cosSqAlpha !== 0 ? cosSigma - (2 * sinU1 * sinU2) / cosSqAlpha : 0;
      C = (f / 16) * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha));
      previous = lambda;
      lambda =
        L +
        (1 - C) *
          f *
          sinAlpha *
          (sigma +
            C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    } while (Math.abs(lambda - previous) > 1e-12 && ++iterations < 200);
    var uSq = (cosSqAlpha * (WGS84_A * WGS84_A - b * b)) / (b * b);
    var A = 1 + (uSq / 16384) * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    var B = (uSq / 1024) * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    var deltaSigma =
      B *
      sinSigma *
      (cos2SigmaM +
        (B / 4) *
          (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) -
            (B / 6) *
              cos2SigmaM *
              (-3 + 4 * sinSigma * sinSigma) *
              (-3 + 4 * cos2SigmaM * cos2SigmaM)));
    return Math.round(b * A * (sigma - deltaSigma) * 10) / 10;
  }

  // Whole metres, rounded up, as the server's messages write them (geo.shown_metres): a fix
  // beyond a radius of whole metres never reads as on it.
  function shownMetres(value) {
    return Math.ceil(value);
  }

  Whistle.checkInMetres = metres;
  Whistle.shownMetres = shownMetres;

  function readWords(container) {
    var node = container.querySelector("script[type='application/json']");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (e) {
      return {};
    }
  }

  function field(container, name) {
    return container.querySelector("input[type=hidden][name$='-" + name + "']");
  }

  function bind(container) {
    if (container._whistleCheckIn) return;
    container._whistleCheckIn = true;
    var form = container.closest("form");
    var button = container.querySelector("[data-geolocate-button]");
    var status = container.querySelector("[data-check-in-status]");
    var figures = container.querySelector("[data-check-in-figures]");
    var verdict = container.querySelector("[data-check-in-verdict]");
    var words = readWords(container);
    var target = {
      lon: parseFloat(container.getAttribute("data-target-lon")),
      lat: parseFloat(container.getAttribute("data-target-lat")),
      radius: parseFloat(container.getAttribute("data-radius")),
      label: container.getAttribute("data-target-label") || "",
    };
    var optional = container.hasAttribute("data-optional");
    var freshMs = Math.max(
      MIN_FRESH_MS,
      (parseFloat(container.getAttribute("data-max-skew")) || 0) * 500
    );
    var inputs = {
      lon: field(container, "lon"),
      lat: field(container, "lat"),
      accuracy: field(container, "accuracy_m"),
      time: field(container, "device_time"),
      device: field(container, "device_id"),
    };
    var fix = null;
    var busy = false;
    // Set when a fix was just taken for sending: the next submit goes through as it is.
    var sending = false;

    // A page shown again after a refusal carries the old position: never send it again.
    Object.keys(inputs).forEach(function (key) {
      if (inputs[key]) inputs[key].value = "";
    });

    function say(text, isError) {
      if (!status) return;
      status.classList.toggle("is-error", !!isError);
      status.textContent = text || "";
    }

    function show(found) {
      var distance = metres(found.lon, found.lat, target.lon, target.lat);
      // The accuracy as the form sends it (0.1 m).
      var accuracy = Math.round(found.accuracy_m * 10) / 10;
      container.querySelector("[data-fix-position]").textContent =
        found.lon.toFixed(6) + ", " + found.lat.toFixed(6);
      container.querySelector("[data-fix-accuracy]").textContent = Whistle.format(
        words.accuracy || "± %(m)s m",
        { m: shownMetres(accuracy) }
      );
      container.querySelector("[data-fix-distance]").textContent = Whistle.format(
        words.distance || "%(m)s m",
        { m: shownMetres(distance), target: target.label }
      );
      container.querySelector("[data-fix-time]").textContent = Whistle.timeOfDay(
        found.timestamp,
        true
      );
      figures.hidden = false;
      if (!verdict || isNaN(target.radius)) return;
      var key = "inside";
      if (distance > target.radius) key = "far";
      else if (distance + accuracy > target.radius) key = "imprecise";
      verdict.textContent = Whistle.format(words[key] || "", { radius: target.radius });
      verdict.className = "check-in-verdict is-" + key;
      verdict.hidden = false;
    }

    function fill(found) {
      inputs.lon.value = found.lon.toFixed(7);
      inputs.lat.value = found.lat.toFixed(7);
      inputs.accuracy.value = Math.round(found.accuracy_m * 10) / 10;
      inputs.time.value = String(Math.round(found.timestamp));
      if (inputs.device) inputs.device.value = deviceId();
    }

    function locate(message) {
      busy = true;
      if (button) button.disabled = true;
      say(message || words.locating);
      return Whistle.geolocate({ wantAccuracy: 30, timeout: 15000 })
        .then(function (found) {
          found.timestamp = Date.parse(found.at);
          fix = found;
          fill(found);
          show(found);
          say(words.found);
          return true;
        })
        .catch(function (error) {
          fix = null;
          Object.keys(inputs).forEach(function (key) {
            if (inputs[key]) inputs[key].value = "";
          });
          say(words[error && error.code] || words.unavailable, true);
          return false;
        })
        .then(function (ok) {
          busy = false;
          if (button) button.disabled = false;
          return ok;
        });
    }

    if (button) {
      button.addEventListener("click", function () {
        if (!busy) locate();
      });
    }

    if (form) {
      form.addEventListener("submit", function (event) {
        if (sending || (fix && Date.now() - fix.timestamp <= freshMs)) {
          sending = false;
          return;
        }
        event.preventDefault();
        if (busy) return;
        locate(fix ? words.refreshing : words.locating).then(function (ok) {
          if (ok || optional) {
            sending = true;
            // The phone's queue (whistle/offline.js) takes a check-out without a fix now.
            if (!ok) form.setAttribute("data-fix-tried", "");
            if (form.requestSubmit) form.requestSubmit();
            else form.submit();
          }
        });
      });
    }
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("[data-check-in]"), bind);
  }

  if (Whistle.onInit) Whistle.onInit(init);
})();
