/*
 * Where am I? A promise around navigator.geolocation that keeps the best fix it gets.
 *
 *   Whistle.geolocate({ wantAccuracy: 30, timeout: 15000 })
 *     .then(function (p) { p.lon, p.lat, p.accuracy_m, p.at })   // WGS-84
 *     .catch(function (e) { e.code: "unsupported" | "denied" | "unavailable" | "timeout" });
 *
 * Markup helper for forms (check-in, reports):
 *   <div data-geolocate data-lon="#id_lon" data-lat="#id_lat" data-accuracy="#id_accuracy_m">
 *     <button type="button" class="btn" data-geolocate-button>…</button>
 *     <p class="geolocate-status" role="status"></p>
 *   </div>
 * With data-geolocate-auto the helper asks for the position itself when the longitude
 * input is empty and the person has allowed positions to the site, saying it is locating
 * as a tap would; a place chosen on the map meanwhile is kept.
 *
 * A phone's first fix is often coarse (a cell tower, hundreds of metres); watching for a
 * few seconds usually brings a GPS fix of a few metres. Resolve as soon as a fix is good
 * enough, or with the best one seen when time runs out.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});

  function geolocate(options) {
    var opts = options || {};
    var wantAccuracy = opts.wantAccuracy || 30;
    var timeout = opts.timeout || 15000;
    return new Promise(function (resolve, reject) {
      var geo = navigator.geolocation;
      if (!geo || !window.isSecureContext) {
        reject({ code: "unsupported" });
        return;
      }
      var best = null;
      var done = false;
      var watchId = null;
      var timer = null;

      function finish(result, error) {
        if (done) return;
        done = true;
        if (watchId !== null) geo.clearWatch(watchId);
        window.clearTimeout(timer);
        if (result) resolve(result);
        else reject(error);
      }

      function fromPosition(position) {
        return {
          lon: position.coords.longitude,
          lat: position.coords.latitude,
          accuracy_m: position.coords.accuracy,
          at: new Date(position.timestamp).toISOString(),
        };
      }

      watchId = geo.watchPosition(
        function (position) {
          var fix = fromPosition(position);
          if (!best || fix.accuracy_m < best.accuracy_m) best = fix;
          if (fix.accuracy_m <= wantAccuracy) finish(fix);
        },
        function (error) {
          var codes = { 1: "denied", 2: "unavailable", 3: "timeout" };
          var code = codes[error.code] || "unavailable";
          // A timeout of one attempt is not the end while the overall time runs.
          if (code === "timeout" && !done) return;
          if (best) finish(best);
          else finish(null, { code: code, message: error.message });
        },
        { enableHighAccuracy: true, maximumAge: 0, timeout: timeout }
      );
      timer = window.setTimeout(function () {
        if (best) finish(best);
        else finish(null, { code: "timeout" });
      }, timeout);
    });
  }

  var MESSAGES = {
    unsupported: "geoUnsupported",
    denied: "geoDenied",
    unavailable: "geoUnavailable",
    timeout: "geoTimeout",
  };

  function setValue(selector, value) {
    if (!selector) return;
    var input = document.querySelector(selector);
    if (input) {
      input.value = value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function inputOf(selector) {
    return selector ? document.querySelector(selector) : null;
  }

  // Whether the page may have the position without asking: the person allowed it before.
  function allowed() {
    if (!navigator.permissions || !navigator.permissions.query) return Promise.resolve(false);
    return navigator.permissions
      .query({ name: "geolocation" })
      .then(function (status) {
        return status.state === "granted";
      })
      .catch(function () {
        return false;
      });
  }

  function bind(container) {
    if (container._whistleGeolocate) return;
    container._whistleGeolocate = true;
    var button = container.querySelector("[data-geolocate-button]");
    var status = container.querySelector(".geolocate-status");
    var words = Whistle.strings || {};
    var lonInput = inputOf(container.getAttribute("data-lon"));
    if (!button) return;

    // By itself (`data-geolocate-auto`), the fix never replaces a place chosen meanwhile.
    function locate(byItself) {
      button.disabled = true;
      if (status) {
        status.classList.remove("is-error");
        status.textContent = words.geoLocating || "";
      }
      container.setAttribute("data-geolocating", "");
      geolocate({
        wantAccuracy: parseFloat(container.getAttribute("data-want-accuracy")) || 30,
      })
        .then(function (fix) {
          if (byItself && lonInput && lonInput.value) {
            if (status) status.textContent = "";
            return;
          }
          setValue(container.getAttribute("data-lon"), fix.lon.toFixed(7));
          setValue(container.getAttribute("data-lat"), fix.lat.toFixed(7));
          setValue(container.getAttribute("data-accuracy"), Math.round(fix.accuracy_m));
          if (status) {
            status.textContent = Whistle.format(words.geoFound || "%(m)s", {
              m: Math.round(fix.accuracy_m),
            });
          }
          container.dispatchEvent(new CustomEvent("whistle:position", { bubbles: true, detail: fix }));
        })
        .catch(function (error) {
          if (status) {
            status.classList.add("is-error");
            status.textContent = words[MESSAGES[error.code] || "geoUnavailable"] || "";
          }
        })
        .then(function () {
          container.removeAttribute("data-geolocating");
          button.disabled = false;
        });
    }

    button.addEventListener("click", function () {
      locate(false);
    });
    // A form that needs a place and has none asks the phone at once, where the person
    // allowed the position before (a patrol's page did): no tap needed, no prompt shown.
    if (container.hasAttribute("data-geolocate-auto") && lonInput && !lonInput.value) {
      allowed().then(function (yes) {
        if (yes && !lonInput.value && !button.disabled) locate(true);
      });
    }
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("[data-geolocate]"), bind);
  }

  Whistle.geolocate = geolocate;
  if (Whistle.onInit) Whistle.onInit(init);
})();
