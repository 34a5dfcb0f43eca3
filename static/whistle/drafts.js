/*
 * What was typed into a form outlives an ended session.
 *
 * A form sent by a signed-in person (data-offline-owner on <body>) whose session has lapsed
 * (the idle time, signing out everywhere) is answered with the sign-in page
 * (whistle.accounts.middleware.SignInNeededMiddleware), which brings the person back to the
 * form's page once signed in: the page comes back empty. So, as a POST form is sent, what
 * was typed in it (text boxes, text areas, selects, checkboxes and radio buttons; never a
 * password, a hidden field such as the form's CSRF token, or a file) is kept in the tab's
 * sessionStorage, which the browser erases when the tab closes, under the page's address and
 * the form's action, with the person's id and the time: a draft.
 *
 * The next page decides. The sign-in pages (<body data-sign-in-page>: the password, the
 * second factor, the pause after too many failures) keep the drafts and mark them as having
 * passed through sign-in. Any other page drops every draft: the form went through (its
 * answer is the next page), or the person went elsewhere. Before dropping them, a page puts
 * back the draft of one of its forms when that draft passed through sign-in, is the same
 * person's and is less than KEPT_MS old: the fields are filled again, a notice above the
 * form says so, and the first text filled takes the focus. Another person signing in on the
 * same tab never sees it. A form htmx sends (a rating) leaves no draft once its answer came
 * back, unless that answer took the whole page to the sign-in page; and any answer htmx
 * gets that takes the whole page away (HX-Redirect) first keeps what is typed in every
 * form of the page, as the session may have ended while the person was typing.
 *
 * A form the offline queue (offline.js) takes or holds without signal never gets this far:
 * that script stops its submit event before this one sees it; sent with signal, the form is
 * submitted again and kept here like any other. A form marked data-draft-none is never kept;
 * the sign-out form (data-draft-forget) drops every draft.
 */
(function () {
  "use strict";

  var Whistle = (window.Whistle = window.Whistle || {});
  var PREFIX = "whistle.draft:";
  var KEPT_MS = 2 * 3600 * 1000;
  var NOT_TYPED = { password: 1, hidden: 1, file: 1, submit: 1, button: 1, reset: 1, image: 1 };
  var body = document.body;

  function storage() {
    try {
      return window.sessionStorage || null;
    } catch (e) {
      return null; // storage refused by the browser's settings
    }
  }

  function owner() {
    return (body && body.getAttribute("data-offline-owner")) || "";
  }

  function words(key) {
    return (Whistle.strings && Whistle.strings[key]) || key;
  }

  // An address of this site as path, query and fragment (a rating's form names its card).
  function address(url) {
    var parts = new URL(url, window.location.href);
    return parts.pathname + parts.search + parts.hash;
  }

  function page() {
    return window.location.pathname + window.location.search;
  }

  function actionOf(form) {
    return address(
      form.getAttribute("action") || form.getAttribute("hx-post") || window.location.href
    );
  }

  function posts(form) {
    return (
      (form.getAttribute("method") || "").toLowerCase() === "post" || form.hasAttribute("hx-post")
    );
  }

  // The page's forms sent to this action, in the page's order.
  function formsFor(action) {
    return [].filter.call(document.forms, function (form) {
      return actionOf(form) === action;
    });
  }

  function keyOf(path, action) {
    return PREFIX + path + " " + action;
  }

  function typed(field) {
    if (!field.name || field.disabled || field.name === "csrfmiddlewaretoken") return false;
    var tag = field.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    return tag === "INPUT" && !NOT_TYPED[(field.type || "text").toLowerCase()];
  }

  function fieldsOf(form) {
    return [].filter.call(form.elements, typed);
  }

  function choosable(field) {
    return field.type === "checkbox" || field.type === "radio";
  }

  function changed(field) {
    if (choosable(field)) return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      return [].some.call(field.options, function (option) {
        return option.selected !== option.defaultSelected;
      });
    }
    return field.value !== field.defaultValue;
  }

  // What the form holds: each field by name and its place among the fields of that name.
  function snapshot(form) {
    var seen = {};
    return fieldsOf(form).map(function (field) {
      var n = (seen[field.name] = (seen[field.name] || 0) + 1) - 1;
      if (choosable(field)) return { name: field.name, value: field.value, checked: field.checked };
      if (field.tagName === "SELECT") {
        return {
          name: field.name,
          n: n,
          values: [].filter
            .call(field.options, function (option) {
              return option.selected;
            })
            .map(function (option) {
              return option.value;
            }),
        };
      }
      return { name: field.name, n: n, text: field.value };
    });
  }

  function keep(form) {
    var store = storage();
    if (!store || !owner() || !posts(form) || form.hasAttribute("data-draft-none")) return;
    // The sign-in pages' own forms (a password, a code) are never kept.
    if (body.hasAttribute("data-sign-in-page")) return;
    // Nothing typed (a button with hidden fields): nothing to lose.
    if (!fieldsOf(form).some(changed)) return;
    var action = actionOf(form);
    var draft = {
      owner: owner(),
      saved: Date.now(),
      page: page(),
      action: action,
      index: formsFor(action).indexOf(form),
      fields: snapshot(form),
      signIn: false,
    };
    try {
      store.setItem(keyOf(draft.page, action), JSON.stringify(draft));
    } catch (e) {
      // Storage full or refused: the form is sent all the same.
    }
  }

  function forget(key) {
    var store = storage();
    if (store) store.removeItem(key);
  }

  function drafts() {
    var store = storage();
    var found = [];
    if (!store) return found;
    for (var i = 0; i < store.length; i++) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) found.push(key);
    }
    return found.map(function (key) {
      var draft = null;
      try {
        draft = JSON.parse(store.getItem(key));
      } catch (e) {
        draft = null;
      }
      return { key: key, draft: draft };
    });
  }

  function forgetAll() {
    drafts().forEach(function (entry) {
      forget(entry.key);
    });
  }

  function fill(form, saved) {
    var filled = [];
    var fields = fieldsOf(form);
    (saved || []).forEach(function (kept) {
      var named = fields.filter(function (field) {
        return field.name === kept.name;
      });
      var field = null;
      if ("checked" in kept) {
        field = named.filter(function (one) {
          return choosable(one) && one.value === kept.value;
        })[0];
        if (!field || field.checked === !!kept.checked) return;
        field.checked = !!kept.checked;
      } else {
        field = named[kept.n || 0];
        if (!field || choosable(field)) return;
        if (field.tagName === "SELECT") {
          var values = kept.values || [];
          [].forEach.call(field.options, function (option) {
            option.selected = values.indexOf(option.value) !== -1;
          });
        } else {
          if (typeof kept.text !== "string" || field.value === kept.text) return;
          field.value = kept.text;
        }
      }
      // The page's own scripts (a text's counter, a category's hints) hear of it as of typing.
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
      filled.push(field);
    });
    return filled;
  }

  function restore(draft) {
    var forms = formsFor(draft.action);
    var form = forms[draft.index] || forms[0];
    if (!form) return false;
    var filled = fill(form, draft.fields);
    if (!filled.length) return false;
    var text = words("draftRestored");
    var notice = document.createElement("p");
    notice.className = "message draft-restored";
    notice.setAttribute("data-draft-restored", "");
    notice.setAttribute("role", "status");
    notice.tabIndex = -1;
    notice.textContent = text;
    form.insertBefore(notice, form.firstChild);
    var first = filled.filter(function (field) {
      return field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && !choosable(field));
    })[0];
    if (first) {
      first.focus();
      if (typeof first.setSelectionRange === "function") {
        try {
          first.setSelectionRange(first.value.length, first.value.length);
        } catch (e) {
          // An input type without a caret (a date, a number).
        }
      }
      notice.scrollIntoView({ block: "nearest" });
    } else {
      notice.focus();
    }
    if (Whistle.announce) Whistle.announce(text);
    return true;
  }

  function fresh(draft) {
    var age = Date.now() - (draft.saved || 0);
    return age >= 0 && age < KEPT_MS;
  }

  function settle() {
    var store = storage();
    if (!store) return;
    var entries = drafts();
    if (body && body.hasAttribute("data-sign-in-page")) {
      entries.forEach(function (entry) {
        if (!entry.draft) return forget(entry.key);
        entry.draft.signIn = true;
        try {
          store.setItem(entry.key, JSON.stringify(entry.draft));
        } catch (e) {
          forget(entry.key);
        }
      });
      return;
    }
    var me = owner();
    var here = page();
    var done = false;
    entries.forEach(function (entry) {
      var draft = entry.draft;
      forget(entry.key);
      if (done || !draft || !draft.signIn || !me || draft.owner !== me) return;
      if (draft.page !== here || !fresh(draft)) return;
      done = restore(draft);
    });
  }

  // After the page's own scripts (and htmx) had their say: a form htmx sends has had its
  // submit event stopped by htmx already, and is kept all the same.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM") return;
    if (form.hasAttribute("data-draft-forget")) {
      forgetAll();
      return;
    }
    if (event.defaultPrevented && !form.hasAttribute("hx-post")) return;
    keep(form);
  });

  // An answer htmx put in the page: the form went through, or was answered with its errors
  // in place. Only an answer taking the whole page to sign in (HX-Redirect) keeps the draft.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail && event.detail.elt;
    var xhr = event.detail && event.detail.xhr;
    if (!form || form.tagName !== "FORM") return;
    if (xhr && xhr.getResponseHeader && xhr.getResponseHeader("HX-Redirect")) return;
    forget(keyOf(page(), actionOf(form)));
  });

  // An answer that takes the whole page elsewhere (HX-Redirect: the sign-in page, when a
  // request htmx sends while the person types finds the session ended, such as the category
  // suggestions under a report's description) would take the page's forms with it: what is
  // typed in them is kept as if they had been sent.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || !xhr.getResponseHeader || !xhr.getResponseHeader("HX-Redirect")) return;
    [].forEach.call(document.forms, keep);
  });

  Whistle.drafts = { keep: keep, forgetAll: forgetAll };

  // After every other script of the page has set up its fields (counters, pickers).
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", settle);
  else settle();
})();
