/*
 * Countdown to a deadline: <span data-countdown data-deadline="ISO datetime" data-warn="300">.
 *
 * One timer ticks every countdown on the page each second. The visible clock is hidden from
 * screen readers (a reader would hear it change every second); a hidden sentence that
 * changes at most once a minute says the same in words ("12 minutes left"), and the page's
 * polite announcer speaks once when a deadline passes. State is also in classes
 * (is-near: amber, is-overdue: red), never in colour alone: an overdue clock says so.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var watched = [];
  var timer = null;

  function words() {
    return Whistle.strings || {};
  }

  function format(template, values) {
    return Whistle.format ? Whistle.format(template, values) : String(template);
  }

  function plural(pair, n) {
    var forms = pair || ["%(n)s", "%(n)s"];
    return format(forms[n === 1 ? 0 : 1], { n: n });
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  /* Whole seconds from now until the deadline; negative once it has passed. */
  function secondsLeft(deadline, now) {
    return Math.ceil((deadline - now) / 1000);
  }

  /* The remaining time in words, to the minute: what a screen reader says. */
  function spoken(seconds) {
    var s = Math.abs(seconds);
    var w = words();
    if (s < 60) return w.lessThanAMinute || "< 1 min";
    var minutes = Math.floor(s / 60);
    if (minutes < 60) return plural(w.minute, minutes);
    var hours = Math.floor(minutes / 60);
    var restMinutes = minutes % 60;
    if (hours < 24) {
      return plural(w.hour, hours) + (restMinutes ? " " + plural(w.minute, restMinutes) : "");
    }
    var days = Math.floor(hours / 24);
    var restHours = hours % 24;
    return plural(w.day, days) + (restHours ? " " + plural(w.hour, restHours) : "");
  }

  /* The visible clock: 12:05, 1:05:09, or 2d 03:05:09. */
  function clock(seconds) {
    var s = Math.abs(seconds);
    var days = Math.floor(s / 86400);
    var hours = Math.floor((s % 86400) / 3600);
    var minutes = Math.floor((s % 3600) / 60);
    var secs = s % 60;
    if (days) {
      return format(words().dayShort || "%(n)sd", { n: days }) + " " +
        pad(hours) + ":" + pad(minutes) + ":" + pad(secs);
    }
    if (hours) return hours + ":" + pad(minutes) + ":" + pad(secs);
    return pad(minutes) + ":" + pad(secs);
  }

  function stateOf(seconds, warn) {
    if (seconds <= 0) return "overdue";
    if (seconds <= warn) return "near";
    return "ok";
  }

  function update(el, now) {
    var left = secondsLeft(el._whistleDeadline, now);
    var state = stateOf(left, el._whistleWarn);
    var w = words();
    el.classList.toggle("is-near", state === "near");
    el.classList.toggle("is-overdue", state === "overdue");
    el.setAttribute("data-state", state);

    var clockNode = el.querySelector(".countdown-clock");
    if (clockNode) {
      clockNode.textContent = (state === "overdue" ? "+" : "") + clock(left);
      if (state === "overdue") clockNode.setAttribute("data-overdue", w.overdue || "");
      else clockNode.removeAttribute("data-overdue");
    }
    var sentence = state === "overdue"
      ? format(w.countdownOverdue || "%(time)s", { time: spoken(left) })
      : format(w.countdownLeft || "%(time)s", { time: spoken(left) });
    var spokenNode = el.querySelector(".countdown-spoken");
    if (spokenNode && spokenNode.textContent !== sentence) spokenNode.textContent = sentence;

    if (state === "overdue" && el._whistleState && el._whistleState !== "overdue") {
      var labelNode = el.querySelector(".countdown-label");
      var what = [el.getAttribute("data-name"), labelNode ? labelNode.textContent : ""]
        .filter(Boolean).join(" ");
      if (Whistle.announce) {
        Whistle.announce(format(w.countdownOverdueNow || "%(label)s", { label: what }));
      }
    }
    el._whistleState = state;
    return state;
  }

  function tick() {
    var now = Date.now();
    watched = watched.filter(function (el) {
      return document.documentElement.contains(el);
    });
    watched.forEach(function (el) {
      update(el, now);
    });
    if (!watched.length && timer) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  function start() {
    if (timer) return;
    // Start on the next whole second so every clock on the page changes together.
    window.setTimeout(function () {
      tick();
      if (!timer) timer = window.setInterval(tick, 1000);
    }, 1000 - (Date.now() % 1000));
  }

  function init(root) {
    var scope = root || document;
    var nodes = scope.querySelectorAll ? scope.querySelectorAll("[data-countdown]") : [];
    if (scope.matches && scope.matches("[data-countdown]")) nodes = [scope].concat([].slice.call(nodes));
    [].forEach.call(nodes, function (el) {
      if (el._whistleDeadline) return;
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(deadline)) return;
      var warn = parseInt(el.getAttribute("data-warn"), 10);
      el._whistleDeadline = deadline;
      el._whistleWarn = isNaN(warn) ? 300 : warn;
      update(el, Date.now());
      watched.push(el);
    });
    if (watched.length) start();
  }

  Whistle.countdown = { init: init, update: update, spoken: spoken, clock: clock, stateOf: stateOf };
  if (Whistle.onInit) Whistle.onInit(init);
})();
