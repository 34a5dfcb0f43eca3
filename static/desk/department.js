/*
 * The department desk's alert: a new summons must not be missed.
 *
 * The list of summonses on hand (#incoming) is polled by htmx and replaced when it changed.
 * When it brings a summons that was not there before and waits to be acknowledged, the page
 * rings (a short tone made with the Web Audio API), vibrates where the phone can, says so
 * to screen readers, marks the card, and the title counts the summonses waiting for the
 * department ("(2) …"). Browsers allow sound only after the person has touched the page,
 * so the tone is armed on the first tap, click or key.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var audio = null;
  var known = null;

  function arm() {
    if (audio) return;
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = new Context();
      if (audio.state === "suspended" && audio.resume) audio.resume();
    } catch (e) {
      audio = null;
    }
  }

  ["pointerdown", "touchstart", "keydown"].forEach(function (name) {
    document.addEventListener(name, arm, { capture: true, passive: true });
  });

  /* Two short rising tones, loud enough to hear in a pocket, short enough not to annoy. */
  function ring() {
    if (!audio || audio.state !== "running") return false;
    var start = audio.currentTime;
    [880, 1175].forEach(function (frequency, i) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      var at = start + i * 0.25;
      tone.type = "sine";
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.6, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.24);
    });
    return true;
  }

  function vibrate() {
    if (!navigator.vibrate) return false;
    try {
      return navigator.vibrate([300, 120, 300]);
    } catch (e) {
      return false;
    }
  }

  function waiting(region) {
    var found = {};
    region.querySelectorAll("[data-summons][data-new]").forEach(function (card) {
      found[card.getAttribute("data-summons")] = card;
    });
    return found;
  }

  function retitle(region) {
    var page = document.querySelector("[data-department-desk]");
    if (!page) return;
    var base = page.getAttribute("data-title") || document.title;
    var count = parseInt(region.getAttribute("data-to-act") || "0", 10);
    document.title = count > 0 ? "(" + count + ") " + base : base;
  }

  function alertFor(region, cards) {
    var references = cards.map(function (card) {
      card.classList.add("is-arrival");
      return card.getAttribute("data-reference");
    });
    var text = Whistle.format(region.getAttribute("data-alert") || "%(cases)s", {
      cases: references.join("、"),
    });
    var rang = ring();
    var shook = vibrate();
    if (Whistle.announce) Whistle.announce(text);
    document.documentElement.setAttribute(
      "data-last-alert",
      JSON.stringify({ cases: references, sound: rang, vibration: !!shook })
    );
  }

  function check(region) {
    var now = waiting(region);
    retitle(region);
    if (known !== null) {
      var fresh = Object.keys(now)
        .filter(function (key) {
          return !known[key];
        })
        .map(function (key) {
          return now[key];
        });
      if (fresh.length) alertFor(region, fresh);
    }
    known = now;
  }

  Whistle.onInit(function (root) {
    var region =
      root.matches && root.matches("[data-incoming]")
        ? root
        : root.querySelector && root.querySelector("[data-incoming]");
    if (region) check(region);
  });
})();
