/*
 * Field work without signal: the queue kept on the phone (IndexedDB) and its sending.
 *
 * A form marked data-offline="tick" (a checklist item of the patrol), "report" (the one-tap
 * report), "resident-report" (the report of a resident signed in with an account),
 * "patrol-start" and "patrol-end", or "check-in", "progress", "result" and
 * "check-out" (the department's on the case page), sent while the browser has no
 * connection, is not lost: it becomes one item of the queue, with the time the
 * phone's clock showed (happened_at), the position and its accuracy when it has one (the
 * patrol's last position, or a fix asked for and waited on at most FIX_WAIT_MS), and a
 * random idempotency key. Photos are shrunk on the phone first (at most MAX_SIDE pixels,
 * JPEG) so a queue of them fits in the phone's storage and goes through a weak signal.
 *
 * When the connection returns (the browser's "online" event, and each page load), the
 * items are sent in the order they were made to the API as JSON, each with its
 * Idempotency-Key and X-Whistle-Sent-At (the phone's clock at sending, from which the
 * server measures the clock's offset): a resend after a lost answer gets the first answer
 * again and never acts twice. An item the server refuses is kept as failed, with the
 * server's reason (a refused state, input or right, a resident's reports over their limit:
 * 4xx other than 401, the API's own 429 and an expired form token), until its author retries it (with a new key: the refused attempt did
 * nothing) or discards it; nothing leaves the queue silently. Items belong to the account
 * that made them (data-offline-owner on <body>): another account signed in on the same
 * phone neither sees nor sends them.
 *
 * A patrol started without signal gets its key here (the patrol's public id): the page of
 * that patrol (patrol:walk-offline, kept by the worker for each lane) queues its positions,
 * ticks and end behind the start, always, so they reach the server complete and in order
 * (forms marked data-offline-always never go to the page's own URLs). A patrol started
 * with signal and ended without it is ended the same way: its positions still waiting and
 * its end join the queue, behind any tick made without signal.
 *
 * Any other form sent without signal (or a resident's report without an account, marked
 * data-offline-hold: the server is asked first) is held on its page with everything typed
 * in it, saying it was not sent and will not be sent by itself. The banner promises sending
 * only on a page with a form the queue takes.
 *
 * The panel [data-offline-panel] lists the queue: waiting, sent, failed with the reason.
 * A page the service worker answered from the phone's store says, above everything, when it
 * was saved and how many records of the queue are not sent yet: it may not show them (a
 * patrol ended without signal still shown in progress).
 * This script also registers the site's service worker (whistle.web.offline) and asks it
 * to keep the person's phone pages while there is signal.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var DB_NAME = "whistle-offline";
  var STORE = "queue";
  var API = "/api/v1";
  var MAX_SIDE = 1600;
  var QUALITY = 0.8;
  var MIN_FRESH_MS = 5000;
  var FIX_WAIT_MS = 5000;
  var WARM_EVERY_MS = 5 * 60 * 1000;
  var SENT_KEPT_MS = 3 * 24 * 3600 * 1000;
  var PING_TIMEOUT_MS = 4000;
  var RETRY_EVERY_MS = 15000;
  // A phone number as the residents' form accepts it (whistle.street.forms).
  var PHONE = /^\+?[0-9][0-9 ()-]{5,38}[0-9]$/;
  var WARMED_KEY = "whistle.offline.warmed";
  var body = document.body;
  var sending = null;
  // Set when the server could not be reached although the browser believed it online (a
  // weak signal, a page opened from the worker): the browser's flag alone is not enough.
  // A page the service worker answered from the phone's store (no answer from the server)
  // starts so.
  // So does the "no signal" page (data-no-signal), which the worker shows only then.
  var unreachable = !!(
    body &&
    (body.hasAttribute("data-offline-kept") || body.hasAttribute("data-no-signal"))
  );
  // When the server made the page the worker answered from the store (its value; empty when
  // unknown), null for a page from the server.
  var keptAt = body ? body.getAttribute("data-offline-kept") : null;

  function offline() {
    return navigator.onLine === false || unreachable;
  }

  // Whether the server answers now, within a few seconds.
  function reachable() {
    var url = body && body.getAttribute("data-offline-ping");
    if (navigator.onLine === false || !url) return Promise.resolve(navigator.onLine !== false);
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort
      ? setTimeout(function () {
          abort.abort();
        }, PING_TIMEOUT_MS)
      : null;
    return fetch(url, {
      cache: "no-store",
      credentials: "same-origin",
      signal: abort ? abort.signal : undefined,
    })
      .then(
        function (response) {
          unreachable = !response.ok;
        },
        function () {
          unreachable = true;
        }
      )
      .then(function () {
        if (timer) clearTimeout(timer);
        return !unreachable;
      });
  }

  function words(key, values) {
    var text = (Whistle.strings && Whistle.strings[key]) || key;
    return values && Whistle.format ? Whistle.format(text, values) : text;
  }

  function owner() {
    return (body && body.getAttribute("data-offline-owner")) || "";
  }

  // A random key (a version 4 UUID: the patrol's key must be one).
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function csrf() {
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // IndexedDB ---------------------------------------------------------------------------------

  var opened = null;

  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        if (!window.indexedDB) {
          reject(new Error("no IndexedDB"));
          return;
        }
        var request = window.indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "key" });
        };
        request.onsuccess = function () {
          resolve(request.result);
        };
        request.onerror = function () {
          reject(request.error);
        };
      });
    }
    return opened;
  }

  function store(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () {
          resolve(result && "result" in result ? result.result : undefined);
        };
        tx.onerror = function () {
          reject(tx.error);
        };
        tx.onabort = function () {
          reject(tx.error || new Error("aborted"));
        };
      });
    });
  }

  function put(item) {
    return store("readwrite", function (s) {
      return s.put(item);
    });
  }

  function remove(key) {
    return store("readwrite", function (s) {
      return s.delete(key);
    });
  }

  function mine() {
    var me = owner();
    return store("readonly", function (s) {
      return s.getAll();
    }).then(function (items) {
      return (items || [])
        .filter(function (item) {
          return item.owner === me;
        })
        .sort(function (a, b) {
          return a.created - b.created;
        });
    });
  }

  // Photos ------------------------------------------------------------------------------------

  function loadImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () {
        resolve({ image: image, url: url });
      };
      image.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("unreadable"));
      };
      image.src = url;
    });
  }

  // The photo, at most MAX_SIDE pixels on its longer side, as base64 JPEG (what the API takes).
  function shrink(file) {
    if (!file) return Promise.resolve(null);
    return loadImage(file).then(function (loaded) {
      var image = loaded.image;
      var ratio = Math.min(1, MAX_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(image.naturalWidth * ratio));
      canvas.height = Math.max(1, Math.round(image.naturalHeight * ratio));
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(loaded.url);
      return canvas.toDataURL("image/jpeg", QUALITY).split(",")[1];
    });
  }

  // Every photo of a multiple file field, shrunk, as base64 JPEG.
  function shrinkAll(form, suffix) {
    var input = form.querySelector("input[type=file][name$='" + suffix + "']");
    var files = input && input.files ? [].slice.call(input.files) : [];
    return Promise.all(files.map(shrink));
  }

  function position(form) {
    return {
      lon: number(form, "lon"),
      lat: number(form, "lat"),
      accuracy_m: number(form, "accuracy_m"),
    };
  }

  function heading() {
    var title = document.querySelector("h1");
    return title ? title.textContent.trim() : "";
  }

  // A text written on the case page (progress, result) with its photos.
  // Where the phone is now, for progress and a result: a fix of the last minute, or null
  // after FIX_WAIT_MS (a basement gives none, and nothing waits on it).
  function fix() {
    if (!navigator.geolocation) return Promise.resolve(null);
    return new Promise(function (done) {
      var settled = false;
      function finish(where) {
        if (settled) return;
        settled = true;
        done(where);
      }
      setTimeout(function () {
        finish(null);
      }, FIX_WAIT_MS);
      navigator.geolocation.getCurrentPosition(
        function (found) {
          finish({
            lon: found.coords.longitude,
            lat: found.coords.latitude,
            accuracy_m: found.coords.accuracy,
          });
        },
        function () {
          finish(null);
        },
        { enableHighAccuracy: true, timeout: FIX_WAIT_MS, maximumAge: 60000 }
      );
    });
  }

  // Where the phone is: the patrol's last position when it has one, else a fix.
  function here() {
    return Whistle.lastPosition ? Promise.resolve(Whistle.lastPosition) : fix();
  }

  // The body carries the position and its accuracy when the phone had a fix.
  function placed(body, where) {
    if (where && where.lon !== null && where.lon !== undefined) {
      body.lon = where.lon;
      body.lat = where.lat;
      if (where.accuracy_m !== null && where.accuracy_m !== undefined) body.accuracy_m = where.accuracy_m;
    }
    return body;
  }

  function written(field, name) {
    return {
      ready: function () {
        return true;
      },
      check: function (form) {
        return value(form, field) ? "" : words("offlineNeedsText");
      },
      build: function (form) {
        var summons = value(form, "target");
        var text = value(form, field);
        return Promise.all([shrinkAll(form, "photos"), fix()]).then(function (found) {
          var photos = found[0];
          var where = found[1];
          var body = placed({ photos: photos }, where);
          body[field] = text;
          return {
            path: API + "/summonses/" + summons + "/" + name,
            body: body,
            label: heading() + "：" + text.slice(0, 30),
            photo: photos.length > 0,
            position: where,
          };
        });
      },
      after: function (form) {
        form.reset();
      },
    };
  }

  function patrolKey(form) {
    return form.getAttribute("data-offline-patrol") || "";
  }

  function fileOf(form, suffix) {
    var input = form.querySelector("input[type=file][name$='" + suffix + "']");
    return input && input.files && input.files[0] ? input.files[0] : null;
  }

  function value(form, suffix) {
    var input = form.querySelector("[name$='" + suffix + "']");
    return input ? String(input.value || "").trim() : "";
  }

  function number(form, suffix) {
    var text = value(form, suffix);
    var parsed = text === "" ? NaN : Number(text);
    return isNaN(parsed) ? null : parsed;
  }

  // What each kind of form becomes -------------------------------------------------------------

  var kinds = {
    tick: {
      ready: function () {
        return true;
      },
      build: function (form, submitter) {
        var patrol = form.getAttribute("data-offline-patrol");
        var item = value(form, "item");
        var result = value(form, "result");
        var outcome = "";
        if (submitter && submitter.name === "result") result = submitter.value;
        if (submitter && submitter.name === "outcome") outcome = submitter.value;
        var legend = form.closest(".check-item");
        var label = legend && legend.querySelector(".check-label");
        return here().then(function (where) {
          return {
            path: API + "/patrols/" + patrol + "/checks",
            body: placed({ item: item, result: result, outcome: outcome }, where),
            label:
              (label ? label.textContent.trim() : item) +
              (submitter ? "：" + submitter.textContent.trim() : ""),
            position: where,
          };
        });
      },
      after: function (form, submitter) {
        if (!submitter || submitter.name !== "result") return;
        [].forEach.call(form.querySelectorAll("button[name=result]"), function (button) {
          button.setAttribute("aria-pressed", button === submitter ? "true" : "false");
        });
        var row = form.closest(".check-item");
        if (row) row.classList.add("is-queued");
      },
    },
    report: {
      ready: function () {
        return true;
      },
      check: function (form) {
        if (!value(form, "description")) return words("offlineNeedsDescription");
        if (number(form, "lon") === null || number(form, "lat") === null)
          return words("offlineNeedsPlace");
        return "";
      },
      build: function (form) {
        var categories = {};
        var map = document.getElementById("offline-categories");
        try {
          categories = map ? JSON.parse(map.textContent) : {};
        } catch (e) {
          categories = {};
        }
        var category = categories[value(form, "category")] || null;
        var position = {
          lon: number(form, "lon"),
          lat: number(form, "lat"),
          accuracy_m: number(form, "accuracy_m"),
        };
        return shrink(fileOf(form, "photo")).then(function (photo) {
          var description = value(form, "description");
          var report = {
            description: description,
            lon: position.lon,
            lat: position.lat,
            accuracy_m: position.accuracy_m,
            photos: photo ? [photo] : [],
          };
          if (category) {
            report.category = category[0];
            report.category_kind = category[1];
          }
          return {
            path: API + "/cases",
            body: report,
            label: description.slice(0, 40),
            position: position,
            photo: !!photo,
          };
        });
      },
      after: function (form) {
        form.reset();
        [].forEach.call(form.querySelectorAll("input[type=hidden][name$='lon'], input[type=hidden][name$='lat'], input[type=hidden][name$='accuracy_m']"), function (input) {
          input.value = "";
        });
      },
    },
    // A signed-in resident's report (reports:new): the same checks as the one-tap report,
    // and the phone number as the form checks it, so nothing refused waits in the queue.
    "resident-report": {
      ready: function () {
        return true;
      },
      check: function (form) {
        var problem = kinds.report.check(form);
        if (problem) return problem;
        var phone = value(form, "phone");
        var digits = phone.replace(/[^0-9]/g, "").length;
        if (phone && (!PHONE.test(phone) || digits < 7 || digits > 15)) return words("offlineNeedsPhone");
        // A photo the server kept from an earlier try cannot be read without signal.
        if (value(form, "photo_token") && !fileOf(form, "photo")) return words("offlinePhotoAgain");
        return "";
      },
      build: function (form) {
        var where = position(form);
        return shrink(fileOf(form, "photo")).then(function (photo) {
          var description = value(form, "description");
          return {
            path: API + "/cases/resident-reports",
            body: {
              description: description,
              lon: where.lon,
              lat: where.lat,
              accuracy_m: where.accuracy_m,
              address: value(form, "address"),
              name: value(form, "name"),
              phone: value(form, "phone"),
              photos: photo ? [photo] : [],
            },
            label: description.slice(0, 40),
            position: where,
            photo: !!photo,
          };
        });
      },
      after: function (form, submitter, item, built) {
        kinds.report.after(form, submitter, item, built);
      },
    },
    "check-in": {
      // Without a fresh fix the check-in page's script finds one first and sends again.
      ready: function (form) {
        var container = form.querySelector("[data-check-in]");
        var taken = Number(value(form, "device_time"));
        if (!value(form, "lon") || !taken) return false;
        var fresh = Math.max(
          MIN_FRESH_MS,
          (parseFloat(container && container.getAttribute("data-max-skew")) || 0) * 500
        );
        return Date.now() - taken <= fresh;
      },
      build: function (form) {
        var summons = value(form, "target");
        var position = {
          lon: number(form, "lon"),
          lat: number(form, "lat"),
          accuracy_m: number(form, "accuracy_m"),
        };
        var title = document.querySelector("h1");
        return shrink(fileOf(form, "photo")).then(function (photo) {
          var checkIn = {
            lon: position.lon,
            lat: position.lat,
            source: "device",
            accuracy_m: position.accuracy_m,
            device_time: new Date(Number(value(form, "device_time"))).toISOString(),
            device_id: value(form, "device_id"),
          };
          if (photo) checkIn.photo = photo;
          return {
            path: API + "/summonses/" + summons + "/check-in",
            body: checkIn,
            label: title ? title.textContent.trim() : summons,
            position: position,
            photo: !!photo,
          };
        });
      },
      after: function () {},
    },
    progress: written("text", "progress"),
    result: written("result", "result"),
    "check-out": {
      // The position is optional: the page's script tries for a fresh fix first
      // (data-fix-tried once it has), and the check-out goes without one if none comes.
      ready: function (form) {
        var container = form.querySelector("[data-check-in]");
        if (!container || form.hasAttribute("data-fix-tried")) return true;
        return kinds["check-in"].ready(form);
      },
      build: function (form) {
        var summons = value(form, "target");
        var where = position(form);
        var body = {};
        if (where.lon !== null && where.lat !== null) {
          body.lon = where.lon;
          body.lat = where.lat;
          body.source = "device";
          if (where.accuracy_m !== null) body.accuracy_m = where.accuracy_m;
        }
        return Promise.resolve({
          path: API + "/summonses/" + summons + "/check-out",
          body: body,
          label: heading() || summons,
          position: where.lon !== null ? where : null,
        });
      },
      after: function (form) {
        form.removeAttribute("data-fix-tried");
      },
    },
    "patrol-start": {
      ready: function () {
        return true;
      },
      build: function (form) {
        var lanes = {};
        var map = document.getElementById("offline-lanes");
        try {
          lanes = map ? JSON.parse(map.textContent) : {};
        } catch (e) {
          lanes = {};
        }
        var lane = lanes[value(form, "lane")];
        if (!lane) return Promise.reject(new Error("no lane"));
        return here().then(function (where) {
          return {
            path: API + "/patrols",
            body: placed({ township: lane.township, lane: lane.lane, uuid: newKey() }, where),
            label: lane.lane,
            position: where,
            walk: lane.walk,
          };
        });
      },
      after: function (form, submitter, item, built) {
        var started = JSON.parse(item.body);
        // The patrol's page, kept by the worker: its key and start in the fragment.
        window.location.href =
          built.walk + "#" + encodeURIComponent(started.uuid) + "," + encodeURIComponent(item.happened_at);
      },
    },
    "patrol-end": {
      ready: function () {
        return true;
      },
      build: function (form) {
        var key = patrolKey(form);
        // The positions still waiting go first, so the route reaches the server whole: into
        // the queue, ahead of the end, whether the patrol was started with signal or not.
        var patrol = Whistle.patrol;
        var flushed = patrol && patrol.keep ? patrol.keep() : patrol && patrol.flush ? patrol.flush() : null;
        return Promise.resolve(flushed)
          .then(here)
          .then(function (where) {
            return {
              path: API + "/patrols/" + key + "/finish",
              body: placed({}, where),
              label: heading(),
              position: where,
            };
          });
      },
      after: function (form) {
        if (Whistle.patrol && Whistle.patrol.stop) Whistle.patrol.stop();
        var home = document.querySelector("[data-home-url]");
        if (home) window.location.href = home.getAttribute("data-home-url");
      },
    },
  };

  function enqueue(kind, built) {
    var now = new Date();
    // Positions carry their own times; everything else the moment it was made.
    if (!built.timeless) built.body.happened_at = now.toISOString();
    var item = {
      key: newKey(),
      owner: owner(),
      kind: kind,
      label: built.label,
      path: built.path,
      // Kept as text: a resend carries exactly the same body under the same key.
      body: JSON.stringify(built.body),
      happened_at: built.body.happened_at || now.toISOString(),
      position: built.position || null,
      photo: !!built.photo,
      created: now.getTime(),
      status: "waiting",
      reason: "",
      result: "",
    };
    return put(item).then(function () {
      return item;
    });
  }

  // Sending -----------------------------------------------------------------------------------

  function summary(kind, data) {
    if (kind === "report" && data.reference) return data.reference;
    if (kind === "resident-report" && data.case && data.case.reference) return data.case.reference;
    if (kind === "check-in" && data.verdict) return words("offlineVerdict_" + data.verdict);
    if (kind === "check-out" && data.status === "left") return words("offlineLeft");
    if (kind === "positions" && typeof data.accepted === "number")
      return words("offlinePositions", { n: data.accepted + (data.duplicates || 0) });
    return "";
  }

  function sendOne(item) {
    return fetch(item.path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrf(),
        "Idempotency-Key": item.key,
        "X-Whistle-Sent-At": new Date().toISOString(),
      },
      body: item.body,
    }).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            unreachable = false;
            if (response.ok) {
              item.status = "sent";
              item.reason = "";
              item.result = summary(item.kind, data);
              item.sent = Date.now();
            } else if (
              response.status === 401 ||
              // An expired form token waits for the next try; a refusal of the person's
              // rights is an answer about the item, shown with its reason like any other.
              response.status === 403 && data.code !== "permission_refused" ||
              response.status === 409 && data.code === "idempotency_key_in_use" ||
              // A resident's report over the reports allowed under the number (or account)
              // is refused, with the reason: its author retries tomorrow or calls 12345.
              response.status === 429 && data.code !== "report_limit_reached" ||
              response.status >= 500
            ) {
              // Not an answer about the item: it waits for the next try.
              item.reason = response.status === 401 ? words("offlineSignIn") : "";
              return put(item).then(function () {
                throw new Error("later");
              });
            } else {
              item.status = "failed";
              item.reason = data.message || words("offlineRefused", { status: response.status });
            }
            return put(item);
          });
      },
      function () {
        unreachable = true;
        throw new Error("later");
      }
    );
  }

  function sync() {
    if (sending || !owner() || navigator.onLine === false) return sending || Promise.resolve();
    // A page opened without signal may believe it is online: the first send will tell.
    sending = mine()
      .then(function (items) {
        var waiting = items.filter(function (item) {
          return item.status === "waiting";
        });
        // One at a time, in the order they were made: a tick after the patrol's start, a
        // check-out after the check-in. The first that cannot go stops the round.
        return waiting.reduce(function (chain, item) {
          return chain.then(function () {
            return sendOne(item);
          });
        }, Promise.resolve());
      })
      .catch(function () {})
      .then(prune)
      .then(render)
      .then(function () {
        sending = null;
        // "Kept on this phone" under a form is no longer true once the panel says sent.
        if (!unreachable) {
          [].forEach.call(document.querySelectorAll("[data-offline-status]"), function (box) {
            box.remove();
          });
        }
        document.dispatchEvent(new CustomEvent("whistle:offline-synced"));
      });
    return sending;
  }

  function prune() {
    return mine().then(function (items) {
      var old = Date.now() - SENT_KEPT_MS;
      return Promise.all(
        items
          .filter(function (item) {
            return item.status === "sent" && (item.sent || 0) < old;
          })
          .map(function (item) {
            return remove(item.key);
          })
      );
    });
  }

  // The panel ---------------------------------------------------------------------------------

  var panel = document.querySelector("[data-offline-panel]");
  var banner = document.querySelector("[data-offline-banner]");

  function time(iso) {
    return Whistle.timeOfDay(iso);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function row(item) {
    var li = element("li", "offline-item is-" + item.status);
    li.setAttribute("data-offline-item", item.key);
    li.setAttribute("data-status", item.status);
    var head = element("p", "offline-item-head");
    head.appendChild(element("span", "badge offline-badge-" + item.status, words("offlineStatus_" + item.status)));
    head.appendChild(document.createTextNode(" " + words("offlineKind_" + item.kind) + " · " + item.label));
    li.appendChild(head);
    var facts = [words("offlineMadeAt", { time: time(item.happened_at) })];
    if (item.position && item.position.lon !== null && item.position.lon !== undefined) {
      facts.push(
        item.position.accuracy_m !== null && item.position.accuracy_m !== undefined
          ? words("offlineAccuracy", { m: Math.round(item.position.accuracy_m) })
          : words("offlinePlaced")
      );
    }
    if (item.photo) facts.push(words("offlinePhoto"));
    if (item.result) facts.push(item.result);
    li.appendChild(element("p", "muted offline-item-facts", facts.join(" · ")));
    if (item.reason) li.appendChild(element("p", "offline-item-reason", item.reason));
    if (item.status === "failed") {
      var actions = element("p", "actions");
      var retry = element("button", "btn", words("offlineRetry"));
      retry.type = "button";
      retry.setAttribute("data-offline-retry", item.key);
      var discard = element("button", "btn btn-danger", words("offlineDiscard"));
      discard.type = "button";
      discard.setAttribute("data-offline-discard", item.key);
      actions.appendChild(retry);
      actions.appendChild(discard);
      li.appendChild(actions);
    }
    return li;
  }

  // Whether a form of this page goes into the queue: the banner promises sending only then.
  function queues() {
    return (
      !!owner() &&
      [].some.call(document.querySelectorAll("form[data-offline]"), function (form) {
        return !!kinds[form.getAttribute("data-offline")];
      })
    );
  }

  function unsent(items) {
    return items.filter(function (item) {
      return item.status !== "sent";
    }).length;
  }

  // The day, in Beijing time, as 2026-12-07.
  function day(date) {
    try {
      return new Intl.DateTimeFormat("en-CA", {
        timeZone: Whistle.strings.timeZone || "Asia/Shanghai",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(date);
    } catch (e) {
      return date.toDateString();
    }
  }

  // When a kept page was saved: its time of day, with its day when that was not today.
  function savedAt(iso) {
    var date = new Date(iso);
    if (!iso || isNaN(date.getTime())) return "";
    return (day(date) === day(new Date()) ? "" : day(date) + " ") + time(date);
  }

  // A page from the phone's store says how old it is and that the records not sent yet may
  // not show on it: a page kept before a patrol was ended without signal still shows it in
  // progress.
  function keptNote(waiting) {
    if (keptAt === null) return;
    var note = document.querySelector("[data-offline-kept-note]");
    if (!note) {
      note = element("p", "offline-banner offline-kept");
      note.setAttribute("data-offline-kept-note", "");
      var where = banner || document.querySelector("main");
      if (!where) return;
      if (where === banner) where.parentNode.insertBefore(note, banner.nextSibling);
      else where.insertBefore(note, where.firstChild);
    }
    var at = savedAt(keptAt);
    var text = at ? words("offlineKeptAt", { time: at }) : words("offlineKept");
    // Chinese sentences follow each other without a space.
    if (waiting) text += (/[。！？]$/.test(text) ? "" : " ") + words("offlineKeptWaiting", { n: waiting });
    note.textContent = text;
  }

  // The language switch asks the server to change the language: while it cannot be
  // reached, its buttons show as unavailable and a note ([data-language-offline], in the
  // page's language) says that switching needs a connection. A press still asks (hold).
  function languageSwitch() {
    var off = offline();
    var buttons = document.querySelectorAll("form[data-language-switch] button");
    [].forEach.call(buttons, function (button) {
      if (off) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    });
    [].forEach.call(document.querySelectorAll("[data-language-offline]"), function (note) {
      note.hidden = !off;
    });
  }

  function render() {
    languageSwitch();
    if (banner) {
      banner.hidden = !offline();
      var queued = queues();
      [].forEach.call(banner.querySelectorAll("[data-offline-banner-queued]"), function (words) {
        words.hidden = !queued;
      });
      [].forEach.call(banner.querySelectorAll("[data-offline-banner-held]"), function (words) {
        words.hidden = queued;
      });
    }
    if (!owner()) {
      keptNote(0);
      return Promise.resolve();
    }
    return mine()
      .then(function (items) {
        var waiting = unsent(items);
        keptNote(waiting);
        if (!panel) return;
        var list = panel.querySelector("[data-offline-list]");
        panel.querySelector("[data-offline-count]").textContent = waiting
          ? words("offlineWaiting", { n: waiting })
          : words("offlineAllSent");
        list.textContent = "";
        items
          .slice()
          .reverse()
          .forEach(function (item) {
            list.appendChild(row(item));
          });
        panel.hidden = items.length === 0;
      })
      .catch(function () {});
  }

  function find(key) {
    return mine().then(function (items) {
      return items.filter(function (item) {
        return item.key === key;
      })[0];
    });
  }

  if (panel) {
    panel.addEventListener("click", function (event) {
      var retry = event.target.closest("[data-offline-retry]");
      var discard = event.target.closest("[data-offline-discard]");
      if (retry) {
        find(retry.getAttribute("data-offline-retry")).then(function (item) {
          if (!item) return null;
          // The refused attempt did nothing: the retry is a new request with a new key.
          return remove(item.key).then(function () {
            item.key = newKey();
            item.status = "waiting";
            item.reason = "";
            return put(item);
          });
        }).then(function () {
          return render();
        }).then(sync);
      } else if (discard) {
        if (!window.confirm(words("offlineDiscardConfirm"))) return;
        remove(discard.getAttribute("data-offline-discard")).then(render);
      }
    });
  }

  // Catching the forms ------------------------------------------------------------------------

  function status(form, text, isError) {
    var box = form.querySelector("[data-offline-status]");
    if (!box) {
      box = element("p", "offline-status");
      box.setAttribute("data-offline-status", "");
      box.setAttribute("role", isError ? "alert" : "status");
      form.appendChild(box);
    }
    box.classList.toggle("is-error", !!isError);
    box.textContent = text;
    if (Whistle.announce) Whistle.announce(text);
  }

  function keepOnPhone(form, kind, submitter) {
    var handler = kinds[kind];
    var problem = handler.check ? handler.check(form) : "";
    if (problem) {
      status(form, problem, true);
      return Promise.resolve();
    }
    var built = null;
    return handler
      .build(form, submitter)
      .then(function (result) {
        built = result;
        return enqueue(kind, built);
      })
      .then(function (item) {
        status(form, words("offlineQueued"));
        handler.after(form, submitter, item, built);
        return render();
      })
      .catch(function () {
        status(form, words("offlineNotKept"), true);
      });
  }

  // Something the page's own script keeps (a patrol's positions): into the queue as is.
  function keep(kind, built) {
    return enqueue(kind, built).then(function (item) {
      return render().then(function () {
        return item;
      });
    });
  }

  // A form the queue does not take (or a page of someone signed out), sent without signal:
  // its request would fail on the browser's error page and take what was typed with it. It
  // is held instead, with everything typed still in it, and says that it was not sent and
  // will not be sent by itself. Checked when the phone knows it has no signal, and always for
  // a form marked data-offline-hold (a resident's report: the server is asked first).
  function hold(event, form) {
    if (form._whistleOnline) {
      form._whistleOnline = false;
      return;
    }
    if (!form.hasAttribute("data-offline-hold") && !offline()) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter || null;
    var language = form.hasAttribute("data-language-switch");
    reachable().then(function (online) {
      render();
      if (!online) {
        if (language) {
          var note = document.querySelector("[data-language-offline]");
          if (note && Whistle.announce) Whistle.announce(note.textContent);
        } else {
          status(form, words("offlineHeld"), true);
        }
        return;
      }
      if (language && body.hasAttribute("data-no-signal")) {
        // The "no signal" page was made for nobody: its form would not be accepted. The
        // page asked for comes from the server now, with a switch that works.
        window.location.reload();
        return;
      }
      var box = form.querySelector("[data-offline-status]");
      if (box) box.remove();
      form._whistleOnline = true;
      if (form.requestSubmit) form.requestSubmit(submitter || undefined);
      else form.submit();
    });
  }

  // Capture, before htmx and the page's own scripts see the submit: when the server cannot
  // be reached the form's request would fail, so the queue takes it instead; when it can,
  // the form is sent again as it was.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      // Sent already (once.js): the tap is ignored there, not asked about here.
      if (form && form._whistleSending) return;
      var kind = form && form.getAttribute && form.getAttribute("data-offline");
      if (!kind || !kinds[kind] || !owner()) {
        if (form && form.getAttribute) hold(event, form);
        return;
      }
      if (form._whistleOnline) {
        form._whistleOnline = false;
        return;
      }
      if (!kinds[kind].ready(form)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      // A second tap while the first is still being decided or kept is the same sending.
      if (form._whistleDeciding) return;
      form._whistleDeciding = true;
      var decided = function () {
        form._whistleDeciding = false;
      };
      var submitter = event.submitter || null;
      if (form.hasAttribute("data-offline-always")) {
        // Behind a patrol started without signal: the queue keeps the order, then sends.
        keepOnPhone(form, kind, submitter).then(function () {
          decided();
          return sync();
        });
        return;
      }
      reachable().then(function (online) {
        render();
        if (!online) {
          keepOnPhone(form, kind, submitter).then(decided);
          return;
        }
        decided();
        form._whistleOnline = true;
        if (form.requestSubmit) form.requestSubmit(submitter || undefined);
        else form.submit();
      });
    },
    true
  );

  // The service worker ------------------------------------------------------------------------

  function worker() {
    var url = body && body.getAttribute("data-service-worker");
    if (!url || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(url, { scope: "/" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        // Warmed again at once in another language than the last warming's (the person
        // switched language): the kept pages follow it. Stored as "<time> <language>".
        var language = document.documentElement.lang;
        var last = (window.localStorage.getItem(WARMED_KEY) || "").split(" ");
        var fresh = Date.now() - Number(last[0] || 0) < WARM_EVERY_MS && last[1] === language;
        if (navigator.onLine === false || fresh) return;
        window.localStorage.setItem(WARMED_KEY, Date.now() + " " + language);
        if (registration.active) registration.active.postMessage({ type: "warm" });
      })
      .catch(function () {});
  }

  // The "no signal" page ([data-kept-pages], the worker's store as its value) names nobody:
  // of the phone pages it offers, it shows those this phone keeps, which open without signal.
  // Its brand and "Home" ([data-kept-home]) lead to the first of them in the list's order (the
  // home page is not kept: without signal it would bring this page back); where the phone
  // keeps none, they lead home, which opens once the signal returns.
  function keptPages() {
    var list = document.querySelector("[data-kept-pages]");
    if (!list || !window.caches) return;
    var store = list.getAttribute("data-kept-pages");
    var found = Array.prototype.map.call(list.querySelectorAll("li"), function (item) {
      var href = item.querySelector("a[href]").getAttribute("href");
      return window.caches
        .match(href, { cacheName: store, ignoreVary: true })
        .then(function (kept) {
          if (!kept) return null;
          item.hidden = false;
          list.hidden = false;
          return href;
        })
        .catch(function () {
          return null;
        });
    });
    Promise.all(found).then(function (hrefs) {
      var first = hrefs.filter(Boolean)[0];
      if (!first) return;
      Array.prototype.forEach.call(document.querySelectorAll("a[data-kept-home]"), function (link) {
        link.setAttribute("href", first);
      });
    });
  }

  // Signing out: the pages the worker kept were this person's.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.action || form.action.indexOf("/logout") === -1) return;
    window.localStorage.removeItem(WARMED_KEY);
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget" });
    }
  });

  window.addEventListener("online", function () {
    render();
    sync();
  });
  window.addEventListener("offline", render);

  Whistle.offline = { sync: sync, render: render, items: mine, keep: keep };

  keptPages();
  if (!owner()) render();
  if (owner()) {
    worker();
    render().then(sync);
    // The browser does not always say when the connection returns: try again now and then
    // while something waits.
    setInterval(function () {
      mine()
        .then(function (items) {
          var waiting = items.some(function (item) {
            return item.status === "waiting";
          });
          if (waiting) return sync();
          return null;
        })
        .catch(function () {});
    }, RETRY_EVERY_MS);
  }
})();
