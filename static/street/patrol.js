/*
 * The patrol page's route: positions from navigator.geolocation, sent in small batches.
 *
 * Each position gets a sequence number from its own time (milliseconds since ten minutes
 * before the patrol started), so a batch sent twice after a lost answer is stored once.
 * Positions not yet sent wait in localStorage: a reload, a tunnel or a dead zone loses
 * nothing. When the browser refuses positions the patrol goes on without a route and the
 * server records why. Ending the patrol sends what is waiting first.
 *
 * A patrol started without signal (data-offline-walk, the page patrol:walk-offline) reads
 * its key and start from the address's fragment, and hands its positions to the phone's
 * queue (whistle/offline.js) instead of sending them: they follow the patrol's start there
 * and reach the server in order, whenever the connection returns. A patrol started with
 * signal and ended without it hands the positions still waiting to the queue too, ahead of
 * its end (Whistle.patrol.keep).
 *
 * Browsers stop giving positions to a page whose screen is off: keep the page open.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var SEND_EVERY_MS = 15000;
  var SEND_AT = 10; // positions waiting
  var BATCH_MAX = 200;
  var SEQ_OFFSET_MS = 10 * 60 * 1000;
  // Without signal, fewer and larger batches: each is one item of the phone's queue.
  var SEND_AT_QUEUED = 50;
  var SEND_EVERY_QUEUED_MS = 60000;

  function words() {
    var node = document.getElementById("patrol-strings");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (e) {
      return {};
    }
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function storage() {
    try {
      var probe = "__whistle__";
      window.localStorage.setItem(probe, probe);
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function start(el) {
    if (el._whistlePatrol) return;
    el._whistlePatrol = true;
    var strings = words();
    // A count's words: the singular ("…_one") for 1 where the language has one.
    function counted(name, n) {
      return (n === 1 && strings[name + "_one"]) || strings[name] || "";
    }
    var queued = el.hasAttribute("data-offline-walk");
    if (queued && !adopt(el)) return;
    var url = el.getAttribute("data-positions-url");
    var key = "whistle-patrol-" + el.getAttribute("data-patrol-id");
    var startedMs = Date.parse(el.getAttribute("data-started")) || Date.now();
    var store = storage();
    var statusNode = el.querySelector("[data-patrol-status]");
    var distanceNode = el.querySelector("[data-patrol-distance]");
    var pointsNode = el.querySelector("[data-patrol-points]");
    var location = el.getAttribute("data-location");
    var queue = [];
    var sending = null;
    var watchId = null;
    var stopped = false;
    // A position that could not be found for a moment: the next one found takes the note away.
    var lost = false;

    try {
      queue = JSON.parse((store && store.getItem(key)) || "[]") || [];
    } catch (e) {
      queue = [];
    }

    function save() {
      if (!store) return;
      try {
        if (queue.length) store.setItem(key, JSON.stringify(queue));
        else store.removeItem(key);
      } catch (e) {
        /* storage full: the points stay in memory */
      }
    }

    function say(text, isError) {
      if (!statusNode || !text) return;
      statusNode.textContent = text;
      statusNode.classList.toggle("is-error", Boolean(isError));
    }

    function post(body) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response.json().then(
          function (data) {
            return { status: response.status, data: data };
          },
          function () {
            return { status: response.status, data: {} };
          }
        );
      });
    }

    function stop(message) {
      stopped = true;
      if (watchId !== null && navigator.geolocation) navigator.geolocation.clearWatch(watchId);
      say(message, true);
    }

    // Without signal: the positions join the phone's queue behind the patrol's start.
    function handOver() {
      if (!queue.length || !Whistle.offline || !Whistle.offline.keep) return Promise.resolve();
      var batch = queue.slice(0, BATCH_MAX);
      var patrolId = el.getAttribute("data-patrol-id");
      return Whistle.offline
        .keep("positions", {
          path: "/api/v1/patrols/" + patrolId + "/positions",
          body: { points: batch },
          label: Whistle.format(counted("positions", batch.length) || "%(n)s", { n: batch.length }),
          timeless: true,
        })
        .then(function () {
          queue = queue.slice(batch.length);
          save();
          if (pointsNode) pointsNode.textContent = String(Number(pointsNode.textContent || 0) + batch.length);
          return handOver();
        });
    }

    function flush() {
      if (sending) return sending;
      if (!queue.length || (stopped && !queued)) return Promise.resolve();
      if (queued) {
        sending = handOver()
          .catch(function () {})
          .then(function () {
            sending = null;
          });
        return sending;
      }
      var batch = queue.slice(0, BATCH_MAX);
      sending = post({ points: batch })
        .then(function (result) {
          if (result.status === 200 || result.status === 400) {
            // A refused batch would be refused again: drop it rather than block the rest.
            queue = queue.slice(batch.length);
            save();
          }
          if (result.status === 200) {
            if (distanceNode) distanceNode.textContent = result.data.distance;
            if (pointsNode) pointsNode.textContent = result.data.points;
            location = result.data.location;
            say(strings.recording);
          } else if (result.status === 409 || result.status === 403 || result.status === 404) {
            stop(result.data.error || strings.ended);
          }
        })
        .catch(function () {
          say(Whistle.format(counted("offline", queue.length), { n: queue.length }), true);
        })
        .then(function () {
          sending = null;
        });
      return sending;
    }

    function tell(status, message) {
      say(message, status !== "recording");
      if (location === status || queued) return;
      location = status;
      post({ points: [], location: status }).catch(function () {
        /* told again on the next page load */
      });
    }

    function onPosition(position) {
      if (stopped) return;
      var seq = Math.max(0, Math.round(position.timestamp - startedMs + SEQ_OFFSET_MS));
      queue.push({
        seq: seq,
        lon: position.coords.longitude,
        lat: position.coords.latitude,
        accuracy_m: position.coords.accuracy,
        at: new Date(position.timestamp).toISOString(),
      });
      save();
      // The checklist's ticks queued without signal keep where they were made.
      Whistle.lastPosition = {
        lon: position.coords.longitude,
        lat: position.coords.latitude,
        accuracy_m: position.coords.accuracy,
      };
      if (location !== "recording" || lost) say(strings.recording);
      lost = false;
      if (queue.length >= (queued ? SEND_AT_QUEUED : SEND_AT)) flush();
    }

    function onError(error) {
      if (error.code === 1) tell("denied", strings.denied);
      else if (error.code === 2) {
        lost = true;
        say(strings.unavailable, true);
      }
      // A timeout of one attempt: the watch goes on.
    }

    if (!navigator.geolocation || !window.isSecureContext) {
      tell("unsupported", strings.unsupported);
    } else {
      watchId = navigator.geolocation.watchPosition(onPosition, onError, {
        enableHighAccuracy: true,
        maximumAge: 5000,
        timeout: 30000,
      });
    }
    window.setInterval(flush, queued ? SEND_EVERY_QUEUED_MS : SEND_EVERY_MS);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") flush();
    });
    flush();

    function halt() {
      stopped = true;
      if (watchId !== null && navigator.geolocation) navigator.geolocation.clearWatch(watchId);
    }

    var endForm = document.querySelector("[data-patrol-end]");
    // Without signal the phone's queue ends the patrol (after handing over the positions).
    if (endForm && !queued) {
      endForm.addEventListener("submit", function (event) {
        if (endForm._sent) return;
        event.preventDefault();
        endForm._sent = true;
        var button = endForm.querySelector("button");
        if (button) button.disabled = true;
        say(strings.sending);
        flush().then(function () {
          stopped = true;
          if (watchId !== null) navigator.geolocation.clearWatch(watchId);
          endForm.submit();
        });
      });
    }

    // Ending without signal: whatever is waiting (a send under way first) joins the phone's
    // queue, ahead of the end, so the route reaches the server whole and in order.
    function keep() {
      return Promise.resolve(sending)
        .then(handOver)
        .catch(function () {});
    }

    Whistle.patrol = {
      flush: flush,
      keep: keep,
      stop: halt,
      queue: function () {
        return queue.slice();
      },
    };
  }

  // The page of a patrol started without signal: its key and start come from the fragment
  // ("#<key>,<start>") that whistle/offline.js wrote when it queued the start.
  function adopt(el) {
    var parts = decodeURIComponent(window.location.hash.replace(/^#/, "")).split(",");
    var key = parts[0] || "";
    var started = Date.parse(parts[1] || "");
    if (!/^[0-9a-f-]{36}$/i.test(key) || isNaN(started)) {
      var home = el.getAttribute("data-home-url");
      if (home) window.location.replace(home);
      return false;
    }
    el.setAttribute("data-patrol-id", key);
    el.setAttribute("data-started", new Date(started).toISOString());
    [].forEach.call(document.querySelectorAll("[data-offline-patrol]"), function (form) {
      form.setAttribute("data-offline-patrol", key);
    });
    var shown = el.querySelector("[data-patrol-started]");
    if (shown) {
      var at = new Date(started);
      shown.setAttribute("datetime", at.toISOString());
      shown.textContent = Whistle.timeOfDay(at);
    }
    return true;
  }

  function init(root) {
    var scope = root || document;
    if (!scope.querySelectorAll) return;
    [].forEach.call(scope.querySelectorAll("[data-patrol]"), start);
  }

  // Come back to with the browser's back button, the page may be the one kept in memory
  // when it was left (the server sends it with no-store, so never an older copy from the
  // cache): a report sent from an item's form meanwhile ticked that item on the server.
  // The checklist is read again as the server has it.
  function showSaved() {
    var list = document.querySelector("#checklist .checklist");
    if (!list || document.querySelector("[data-offline-walk]")) return;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshList = fresh.querySelector("#checklist .checklist");
        if (!freshList) return;
        list.replaceWith(freshList);
        var unticked = document.getElementById("unticked");
        var freshUnticked = fresh.getElementById("unticked");
        if (unticked && freshUnticked) unticked.replaceWith(freshUnticked);
        if (window.htmx) window.htmx.process(freshList);
      })
      .catch(function () {
        /* without signal the page stays as it was left */
      });
  }

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) showSaved();
  });

  if (Whistle.onInit) Whistle.onInit(init);
})();
