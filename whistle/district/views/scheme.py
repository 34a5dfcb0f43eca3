"""The scheme editor (assessment:scheme), for district assessors.

Shows the district's scheme versions, the one in force in a chosen period with all its
settings, and the closed periods. A new version starts from a month on (prefilled from the
version in force now); a version that would start inside a closed period is refused by the
model's own validation. Closing a period freezes its scores
(`whistle.assessment.actions.close_period`), for assessors and the district chiefs' office.

Before adopting a version, an assessor can preview it: a past period replayed under the
filled-in settings (and, if given, another arrival limit), each department's score and rank
now and under the proposal, and the summonses judged differently
(`whistle.assessment.what_if`, which writes nothing).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whistle.assessment.actions import close_period
from whistle.assessment.editing import create_scheme_version
from whistle.assessment.late_bands import bands_in_words
from whistle.assessment.models import ClosedPeriod, Scheme
from whistle.assessment.periods import Period
from whistle.assessment.what_if import Proposal, WhatIf, proposed_scheme, what_if
from whistle.district.access import Reader
from whistle.district.forms import (
    SCHEME_FIELDS,
    ClosePeriodForm,
    ComponentFormSet,
    SchemeForm,
    WhatIfForm,
)
from whistle.district.picker import period_label, pick_period
from whistle.district.views.common import REFUSALS, choose, page_context, show_refusal
from whistle.organisation.models import Jurisdiction


def _districts(reader: Reader) -> list[Jurisdiction]:
    districts = Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT).order_by("code")
    if reader.person.is_superuser:
        return list(districts)
    ids = reader.scheme_district_ids() | reader.closing_district_ids()
    return list(districts.filter(pk__in=sorted(ids)))


def place_errors(form: SchemeForm, error: ValidationError) -> None:
    """Put the model's errors on the form's fields (its start month is a field of its own)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = "valid_from_month" if name == "valid_from" else name
        form.add_error(target if target in form.fields else None, errors)


def in_force(schemes: list[Scheme], period: Period) -> Scheme | None:
    found = None
    for scheme in schemes:
        if scheme.valid_from <= period.first_month:
            found = scheme
    return found


@login_required
@require_http_methods(["GET", "POST"])
def scheme(request: HttpRequest) -> HttpResponse:
    reader = Reader.of(request.user)
    district = choose(request, _districts(reader), "district")
    superuser = bool(request.user.is_superuser)
    editable = superuser or district.pk in reader.scheme_district_ids()
    closable = superuser or district.pk in reader.closing_district_ids()
    today = timezone.localdate()
    schemes = list(
        Scheme.objects.filter(district=district)
        .prefetch_related("components")
        .order_by("valid_from")
    )
    closed = list(
        ClosedPeriod.objects.filter(district=district)
        .select_related("closed_by")
        .order_by("last_month")
    )
    last_closed = max((c.last_month for c in closed), default=None)
    current = in_force(schemes, Period.month_of(today)) or (schemes[-1] if schemes else None)
    scheme_form = components = close_form = whatif_form = None
    preview = None
    if editable:
        whatif_form = WhatIfForm(prefix="whatif", today=today)
        scheme_form = SchemeForm(
            prefix="scheme",
            district=district,
            today=today,
            initial=_initial(current, today, last_closed),
        )
        components = ComponentFormSet(
            prefix="components",
            initial=[
                {"code": c.code, "name": c.name, "name_en": c.name_en, "weight": c.weight}
                for c in (current.components.all() if current else [])
            ],
        )
    if closable:
        close_form = ClosePeriodForm(prefix="close", today=today, closed=[c.period for c in closed])
    back = reverse("assessment:scheme") + f"?district={district.code}"
    if request.method == "POST":
        op = request.POST.get("op")
        if op == "scheme" and editable:
            scheme_form = SchemeForm(request.POST, prefix="scheme", district=district, today=today)
            components = ComponentFormSet(request.POST, prefix="components")
            if scheme_form.is_valid() and components.is_valid():
                rows = [c for c in components.cleaned_data if c]
                try:
                    made = create_scheme_version(request.user, district, scheme_form.values(), rows)
                except ValidationError as exc:
                    place_errors(scheme_form, exc)
                except REFUSALS as exc:
                    show_refusal(scheme_form, exc)
                else:
                    messages.success(
                        request,
                        _("The new version “%(name)s” is in force from %(month)s.")
                        % {
                            "name": made.display_name,
                            "month": period_label(Period.month_of(made.valid_from)),
                        },
                    )
                    return HttpResponseRedirect(f"{back}&period={made.valid_from:%Y-%m}")
        elif op == "preview" and editable:
            scheme_form = SchemeForm(request.POST, prefix="scheme", district=district, today=today)
            # A proposal needs no name until it is adopted (nor ever an English one).
            scheme_form.fields["name"].required = False
            components = ComponentFormSet(request.POST, prefix="components")
            whatif_form = WhatIfForm(request.POST, prefix="whatif", today=today)
            if scheme_form.is_valid() and components.is_valid() and whatif_form.is_valid():
                preview = _preview(district, schemes, scheme_form, components, whatif_form)
        elif op == "close" and closable:
            close_form = ClosePeriodForm(
                request.POST, prefix="close", today=today, closed=[c.period for c in closed]
            )
            if close_form.is_valid():
                key = close_form.cleaned_data["period"]
                try:
                    close_period(request.user, district, key)
                except REFUSALS as exc:
                    show_refusal(close_form, exc)
                else:
                    messages.success(
                        request,
                        _("%(period)s is closed: its scores are frozen.")
                        % {"period": period_label(Period.parse(key))},
                    )
                    return HttpResponseRedirect(back)
        else:
            return HttpResponseBadRequest()
    picked = pick_period(request)
    shown = in_force(schemes, picked.period)
    context: dict[str, Any] = page_context(
        reader,
        "scheme",
        districts=_districts(reader),
        district=district,
        schemes=[
            {"scheme": s, "locked": last_closed is not None and s.valid_from <= last_closed}
            for s in schemes
        ],
        shown=shown,
        shown_settings=_settings(shown),
        closed=closed,
        last_closed=last_closed,
        editable=editable,
        closable=closable,
        scheme_form=scheme_form,
        components=components,
        whatif_form=whatif_form,
        # Filled in with the new version and listed in its "Please correct the following".
        scheme_parts=[components, whatif_form],
        preview=preview,
        close_form=close_form,
        keep=[("district", district.code)],
        **picked.context(),
    )
    return render(request, "district/assessment/scheme.html", context)


def _preview(
    district: Jurisdiction,
    schemes: list[Scheme],
    scheme_form: SchemeForm,
    components: Any,
    whatif_form: WhatIfForm,
) -> WhatIf | None:
    """The replay of the chosen period under the form's settings, or None with the reason
    on the forms."""
    period: Period = whatif_form.cleaned_data["replay"]
    base = next(
        (s for m in reversed(period.months()) if (s := in_force(schemes, Period.month_of(m)))),
        None,
    )
    if base is None:
        whatif_form.add_error(
            "replay",
            _("No scheme was in force in %(period)s: there is nothing to replay.")
            % {"period": period_label(period)},
        )
        return None
    values = scheme_form.values()
    name = values.pop("name")
    values.pop("name_en")
    values.pop("valid_from")
    try:
        scheme = proposed_scheme(base, values, [c for c in components.cleaned_data if c], name)
    except ValidationError as exc:
        place_errors(scheme_form, exc)
        return None
    return what_if(
        district,
        period,
        Proposal(scheme=scheme, arrive_within=whatif_form.cleaned_data["arrive_within"]),
    )


def _initial(current: Scheme | None, today: Any, last_closed: Any) -> dict[str, Any]:
    month = Period.month_of(today)
    if last_closed is not None and month.first_month <= last_closed:
        following = last_closed.month % 12 + 1
        month = Period(last_closed.year + (last_closed.month == 12), "month", following)
    initial: dict[str, Any] = {"valid_from_month": month.key}
    if current is not None:
        initial.update(model_to_dict(current, fields=SCHEME_FIELDS))
        initial["name"] = initial["name_en"] = ""
    return initial


def _settings(scheme: Scheme | None) -> list[tuple[str, Any]]:
    """Each setting of a scheme with its name, as the new-version form labels it."""
    if scheme is None:
        return []
    rows = []
    for name in SCHEME_FIELDS:
        field = cast(models.Field, Scheme._meta.get_field(name))
        value = getattr(scheme, name)
        if field.choices:
            # A choice reads as its label, never its stored code.
            value = dict(field.flatchoices).get(value, value)
        if name == "late_bands":
            value = bands_in_words(value)
        if value == "":
            # A setting left empty (an English name not given) reads as a dash, not a blank.
            value = "—"
        rows.append((capfirst(str(field.verbose_name)), value))
    return rows
