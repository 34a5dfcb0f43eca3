"""Template tags of the design system: the layout's context, status badges, countdowns, maps.

{% load whistle_ui %}
{% status_badge case.status case.get_status_display %}
{% countdown summons.arrive_due_at label=_("arrive on site by") %}
{% map_component layers="jurisdictions lanes cases" township=code %}
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from django import forms, template
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from whistle.cases import proof
from whistle.cases.models import Case, Summons
from whistle.web import basemap, chrome, once
from whistle.web import forms as web_forms
from whistle.web.badges import tone_of
from whistle.web.dashboards import NavEntry
from whistle.web.forms import counted_length

register = template.Library()


@register.simple_tag(takes_context=True)
def once_field(context: template.Context) -> SafeString:
    """The one-time key of a form that files something (whistle/web/once.py): the key the
    form was sent with when it is shown again, else a new one."""
    request = context.get("request")
    key = once.form_key(request) if request is not None else once.new_key()
    return format_html('<input type="hidden" name="{}" value="{}">', once.FIELD, key)


# Layers the map component can draw, in drawing order (areas under lines under points).
MAP_LAYERS = {
    "jurisdictions": ("web:map-jurisdictions", _("Boundaries")),
    "lanes": ("web:map-lanes", _("Lanes")),
    "cases": ("web:map-cases", _("Open cases")),
}


@register.simple_tag(takes_context=True)
def chrome_context(context: template.Context) -> chrome.Chrome:
    request = context.get("request")
    # A page answering a sent form names the page the form belongs to (`form_page`).
    form_page = str(context.get("form_page") or "")
    return chrome.chrome_for(getattr(request, "user", None), request, form_page)


@register.inclusion_tag("web/partials/inbox_badge.html", takes_context=True)
def inbox_badge(context: template.Context, state: Any) -> dict[str, Any]:
    request = context.get("request")
    return chrome.inbox_badge(state, getattr(request, "path", ""))


@register.filter(expects_localtime=True, is_safe=True)
def moment(value: Any, shape: str = "Y-m-d H:i") -> str:
    """A date or time in the reader's time zone, as ``date`` writes it, kept on one line.

    ``{{ summons.arrive_due_at|moment:"m-d H:i" }}`` gives
    ``<time class="nowrap" datetime="2026-03-10T10:30:00+08:00">03-10 10:30</time>``: a phone's
    narrow column never breaks "03-10" from "10:30", nor "03-" from "10". Only for text; an
    attribute takes ``date``.
    """
    if value in (None, ""):
        return ""
    shown = date_format(value, shape)
    if not shown:
        return ""
    return format_html(
        '<time class="nowrap" datetime="{}">{}</time>', date_format(value, "c"), shown
    )


@register.filter
def nav_holds(entry: NavEntry, path: str) -> bool:
    """Whether a menu of the top bar holds the page at ``path``."""
    return any(link.url == path for link in entry.links)


@register.filter
def html_lang(language_code: str) -> str:
    return chrome.html_lang(language_code or "")


@register.simple_tag
def js_strings() -> SafeString:
    return json_script(chrome.js_strings(), "whistle-strings")


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, param: str, number: int) -> str:
    """This page's address with ``param`` set to ``number``, every other parameter kept (the
    period, the township, another list's page)."""
    request = context["request"]
    query = request.GET.copy()
    query[param] = str(number)
    return f"?{query.urlencode()}"


@register.inclusion_tag("web/components/pagination.html", takes_context=True)
def pagination(
    context: template.Context, page: Any, param: str = "page", label: Any = ""
) -> dict[str, Any]:
    """Previous and next links of one paginated list; ``param`` names its page in the query,
    so that two lists on one page turn their pages independently."""
    return {"request": context["request"], "page": page, "param": param, "label": label}


@register.filter
def status_tone(status: str) -> str:
    return tone_of(status)


@register.inclusion_tag("web/components/badge.html")
def status_badge(status: str, label: Any = None) -> dict[str, Any]:
    return {"tone": status_tone(status), "label": label or status}


@register.inclusion_tag("web/components/countdown.html")
def countdown(
    deadline: datetime | None,
    label: Any = "",
    warn: int = 300,
    name: Any = "",
    paused: bool = False,
) -> dict[str, Any]:
    """A ticking countdown to ``deadline``: amber ``warn`` seconds before, red after.

    ``name`` says what the deadline is about (a case reference, a department) for the
    announcement a screen reader hears when it passes. A ``paused`` deadline (its case is
    on the backlog) does not tick: it says so, with the moment it was due.
    """
    if deadline is None:
        return {"deadline": None}
    local = timezone.localtime(deadline)
    same_day = local.date() == timezone.localdate()
    return {
        "deadline": deadline,
        "iso": deadline.isoformat(),
        "shown": local.strftime("%H:%M") if same_day else local.strftime("%m-%d %H:%M"),
        "label": label,
        "warn": max(int(warn), 0),
        "name": name,
        "paused": paused,
    }


def map_legend(layers: list[str], township: str) -> list[dict[str, Any]]:
    """What each line and colour of the map means, for the layers drawn: open cases by the
    tone of their status (the statuses of each tone named), lanes, boundaries. map.js
    paints each swatch with the colour it draws (`data-legend`)."""
    entries: list[dict[str, Any]] = []
    if "cases" in layers:
        tones: dict[str, list[str]] = {}
        for status in Case.OPEN_STATUSES:
            tones.setdefault(tone_of(status), []).append(str(Case.Status(status).label))
        entries += [
            {"legend": "case", "value": tone, "label": str(_(", ")).join(labels)}
            for tone, labels in tones.items()
        ]
    if "lanes" in layers:
        entries.append({"legend": "lane", "value": "lane", "label": _("lane (centre line)")})
    if "jurisdictions" in layers:
        levels = ("township", "community") if township else ("district", "township")
        words = {
            "district": _("district boundary"),
            "township": _("township boundary"),
            "community": _("community boundary"),
        }
        entries += [{"legend": "level", "value": level, "label": words[level]} for level in levels]
    return entries


def map_layer_url(name: str, township: str = "") -> str:
    """The address a map's layer fetches (`MAP_LAYERS`): the phone keeps the same one for a
    dead zone (`whistle.web.offline.phone_data`)."""
    url = reverse(MAP_LAYERS[name][0])
    return f"{url}?township={township}" if township else url


@register.inclusion_tag("web/components/map.html")
def map_component(
    layers: str = "jurisdictions lanes cases",
    township: str = "",
    label: Any = "",
    height: str = "",
    dom_id: str = "map",
    refresh: int = 0,
    legend: bool = True,
) -> dict[str, Any]:
    """A Leaflet map of the signed-in person's area; see static/whistle/map.js.

    ``refresh`` (seconds) reloads the case points that often while the page is visible;
    ``legend`` says under the map what each colour and line means.
    """
    sources = [
        {"name": name, "url": map_layer_url(name, township), "title": str(MAP_LAYERS[name][1])}
        for name in layers.split()
    ]
    config = {"basemap": basemap.basemap_config(), "layers": sources, "refresh": max(refresh, 0)}
    return {
        "dom_id": dom_id,
        "label": label or _("Map of your area"),
        "config": config,
        "config_id": f"{dom_id}-config",
        "height": height,
        "legend": map_legend(layers.split(), township) if legend else [],
    }


# Widgets drawn as a box beside a label, not as a full-width text box.
_BOX_INPUTS = {"radio", "checkbox"}
# One-line inputs whose length a limit counts.
_TEXT_INPUTS = {"text", "search", "email", "url", "tel"}
# From this share of the limit the counter turns amber.
_NEAR_LIMIT = 0.9


def _limit(bound_field: Any) -> int | None:
    """The most characters the field takes, when it is a text box with a limit."""
    field, widget = bound_field.field, bound_field.field.widget
    max_length = getattr(field, "max_length", None)
    if not isinstance(field, forms.CharField) or not max_length or widget.is_hidden:
        return None
    if isinstance(widget, forms.Textarea) or getattr(widget, "input_type", None) in _TEXT_INPUTS:
        return int(max_length)
    return None


@register.simple_tag
def text_limit(bound_field: Any) -> dict[str, Any] | None:
    """The counter under a text box with a limit: "n / max", amber near it, red over it.

    The number counted is the one the form's length check counts (a line break is one
    character: `whistle.web.forms.Textarea`); static/whistle/textlimit.js keeps it current
    as the person types.
    """
    limit = _limit(bound_field)
    if limit is None:
        return None
    value = bound_field.value()
    used = counted_length(value) if isinstance(value, str) else 0
    return {
        "max": limit,
        "used": used,
        "over": used > limit,
        "near": limit * _NEAR_LIMIT <= used <= limit,
        "multiline": isinstance(bound_field.field.widget, forms.Textarea),
    }


@register.filter
def refusals(form: forms.BaseForm) -> list[str]:
    """The form's refusals by the rules, shown apart from the errors to correct."""
    return web_forms.refusals(form)


@register.filter
def corrections(form: forms.BaseForm) -> list[str]:
    """The form's errors not tied to a field that ask for a correction."""
    return web_forms.corrections(form)


@register.simple_tag
def correction_list(form: forms.BaseForm | None, parts: Any = None) -> list[web_forms.Correction]:
    """Every error to correct on the form and on the forms and formsets filled in with it
    (`parts`, if given)."""
    return web_forms.correction_list(form, parts or ())


@register.simple_tag
def correction_link(item: web_forms.Correction, separator: str) -> SafeString:
    """An error's label in the list of errors, linking to its field, and what comes between
    it and the error. The separator (": ", "：") goes inside the link: the link is a touch
    target at least as wide as a finger, and a short label ("照片") would otherwise stand
    apart from its colon. A label that ends as a question or with a colon ("What is the
    problem?", "发现了什么问题？") takes none, which would read "What is the problem?: …".
    After the link, a space follows a Latin stop and nothing a full-width one, which holds
    its own space."""
    text = str(item.label).rstrip()
    named = text if text.endswith(("？", "：", "?", ":")) else text + separator.rstrip()
    space = "" if named.endswith(("？", "：")) else " "
    return format_html('<a href="#{}">{}</a>{}', item.anchor, named, space)


@register.simple_tag
def field_widget(bound_field: Any, autocomplete: str = "", labelled_by: str = "") -> SafeString:
    """A form field's widget with the design system's class and its ARIA links.

    Radio buttons and check boxes get no "input" class: it would stretch them to the width
    and height of a text box. The error and help texts rendered by
    web/components/field.html carry the ids that ``aria-describedby`` names, so a screen
    reader reads them with the field. ``labelled_by`` names the ids whose texts make the
    field's name when it is more than its label (the photo field: its title and its button).
    """
    attrs: dict[str, str] = {}
    widget = bound_field.field.widget
    if getattr(widget, "input_type", None) not in _BOX_INPUTS:
        attrs["class"] = "input"
    described_by = []
    if bound_field.help_text:
        described_by.append(f"{bound_field.auto_id}-help")
    if bound_field.errors:
        described_by.append(f"{bound_field.auto_id}-errors")
        attrs["aria-invalid"] = "true"
    limit = _limit(bound_field)
    if limit is not None:
        # No maxlength: a browser would cut a pasted text short without a word. The
        # counter shows the limit instead, and the form refuses a longer text, saying so.
        widget = copy.copy(widget)
        widget.attrs = {k: v for k, v in widget.attrs.items() if k != "maxlength"}
        attrs["data-limit"] = str(limit)
        described_by.append(f"{bound_field.auto_id}-count")
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    if labelled_by:
        attrs["aria-labelledby"] = labelled_by
    return bound_field.as_widget(widget=widget, attrs=attrs)


@register.filter
def flag_reasons(summons: Summons) -> str:
    """Why a summons' check-in was flagged, in the reader's words; "too fast" says which
    earlier position it was compared with (`whistle.cases.proof.flag_reasons`)."""
    return str(proof.flag_reasons(summons))
