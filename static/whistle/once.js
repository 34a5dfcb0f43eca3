/*
 * A form sent once.
 *
 * A form marked data-submit-once (the report forms) that files something is sent once per
 * tap: once its submit goes ahead — no other script stopped it, such as the phone's queue
 * (offline.js), which takes the form without signal or sends it again itself once it knows
 * the server answers, or htmx — its submit buttons are disabled and marked busy
 * (aria-busy, the pressed one saying "Sending…"), and any further submit of the form is
 * ignored until the answer replaces the page. The buttons are disabled just after the
 * submit event, so that the pressed button's own name and value still go with the form
 * (the residents' "Another question"). A page the browser brings back from its
 * back/forward cache gets its buttons back.
 *
 * The server files a form's one-time key once (whistle/web/once.py), so whatever gets
 * through — a form sent with the script off, a resend by a slow network — files nothing
 * twice. The page a sent form leads to names that form's page (data-form-sent on the
 * thank-you and "Report sent" pages); when the back button leads from there to the form's
 * page, the form is emptied (what the browser filled in again goes; a page from the
 * back/forward cache, its key used, is first loaded fresh) and says above it that the
 * report was sent and this form is for another problem.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var SENT_KEY = "whistle.form-sent";
  var RELOADED_KEY = "whistle.form-sent-reloaded";

  function words(key) {
    return (Whistle.strings && Whistle.strings[key]) || "";
  }

  function storage() {
    try {
      return window.sessionStorage || null;
    } catch (e) {
      return null; // storage refused by the browser's settings
    }
  }

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      var type = (element.getAttribute("type") || "").toLowerCase();
      if (element.tagName === "BUTTON") return type === "" || type === "submit";
      return element.tagName === "INPUT" && (type === "submit" || type === "image");
    });
  }

  function markBusy(form, pressed) {
    form.setAttribute("aria-busy", "true");
    var buttons = submitButtons(form);
    var shown = pressed && buttons.indexOf(pressed) !== -1 ? pressed : buttons[0];
    buttons.forEach(function (button) {
      if (button.disabled) return;
      button._whistleOnce = { html: button.innerHTML, value: button.value };
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.classList.add("is-sending");
      if (button === shown && words("sending")) {
        if (button.tagName === "BUTTON") button.textContent = words("sending");
        else button.value = words("sending");
      }
    });
    if (words("sending") && Whistle.announce) Whistle.announce(words("sending"));
  }

  function restore(form) {
    form._whistleSending = false;
    form.removeAttribute("aria-busy");
    submitButtons(form).forEach(function (button) {
      var kept = button._whistleOnce;
      if (!kept) return;
      button._whistleOnce = null;
      if (button.tagName === "BUTTON") button.innerHTML = kept.html;
      else button.value = kept.value;
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.classList.remove("is-sending");
    });
  }

  function guarded(form) {
    if (!form || form.tagName !== "FORM" || !form.hasAttribute("data-submit-once")) return false;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return false;
    var target = form.getAttribute("target");
    return !target || target === "_self";
  }

  // After the capture of offline.js and the form's own handlers (htmx's among them): a
  // submit someone stopped is theirs.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!guarded(form)) return;
    if (form._whistleSending) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (event.defaultPrevented) return;
    form._whistleSending = true;
    var pressed = event.submitter || null;
    window.setTimeout(function () {
      if (form._whistleSending) markBusy(form, pressed);
    }, 0);
  });

  function note(form) {
    var text = words("formSentBefore");
    if (!text || form.querySelector("[data-form-sent-note]")) return;
    var box = document.createElement("p");
    box.className = "notice";
    box.setAttribute("role", "status");
    box.setAttribute("data-form-sent-note", "");
    box.textContent = text;
    form.insertBefore(box, form.firstChild);
    if (Whistle.announce) Whistle.announce(text);
  }

  function cameBack() {
    var entry = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    return !!entry && entry.type === "back_forward";
  }

  window.addEventListener("pageshow", function (event) {
    var forms = Array.prototype.filter.call(document.forms, guarded);
    if (event.persisted) forms.forEach(restore);
    var store = storage();
    if (!store) return;
    // The page a sent form led to: the form's page, opened again by the back button, opens
    // empty.
    var sent = document.querySelector("[data-form-sent]");
    if (sent) store.setItem(SENT_KEY, sent.getAttribute("data-form-sent"));
    if (!forms.length) return;
    var here = window.location.pathname;
    var back = store.getItem(SENT_KEY) === here && (event.persisted || cameBack());
    var reloaded = store.getItem(RELOADED_KEY) === here;
    store.removeItem(SENT_KEY);
    store.removeItem(RELOADED_KEY);
    if (back && event.persisted) {
      // The page as it was sent, its key used: a fresh one from the server.
      store.setItem(RELOADED_KEY, here);
      window.location.reload();
      return;
    }
    if (!back && !reloaded) return;
    forms.forEach(function (form) {
      form.reset();
      note(form);
    });
  });
})();
