/*
 * The admin's form for a new service token: choosing the person the token acts as opens the
 * form again for that person (`?person=<id>`), so that the roles offered are theirs alone,
 * keeping the name typed so far (the expiry is filled in again with its default). The autocomplete (select2) tells of a choice
 * through jQuery's change event, which the admin's own jQuery (django.jQuery) hears.
 */
(function () {
  "use strict";

  function reopen(select) {
    var form = select.form;
    var params = new URLSearchParams();
    if (select.value) params.set("person", select.value);
    var name = form.elements.name;
    if (name && name.value) params.set("name", name.value);
    window.location.search = "?" + params.toString();
  }

  function start() {
    var select = document.getElementById("id_person");
    if (!select || !window.django || !window.django.jQuery) return;
    // The person the form was opened for: select2 also says "change" as it starts.
    var shown = select.value;
    window.django.jQuery(select).on("change", function () {
      if (select.value !== shown) reopen(select);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
