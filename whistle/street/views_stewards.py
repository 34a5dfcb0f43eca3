"""The public pages of the recruitment of alley stewards, no account needed: the open calls,
the application form (captcha and rate limits as the residents' report), and the status of
an application by its reference (docs/street.md, "Becoming an alley steward")."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from whistle.organisation.models import Lane, Role
from whistle.organisation.personal_data import mask_name
from whistle.street import captcha, ratelimit
from whistle.township.errors import TownshipRefused
from whistle.township.recruitment import apply, is_open, open_calls
from whistle.township.recruitment_models import StewardApplication, StewardCall
from whistle.web.forms import DateInput

REFERENCE = re.compile(r"^[2-9A-HJKMNP-Z]{10}$")
APPLIED_KEY = "street_steward_applications"


class ApplicationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your full name"), max_length=60)
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=40,
        help_text=gettext_lazy("The township calls you on this number about your application."),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("As on your identity card."),
    )
    birth_year = forms.IntegerField(
        label=gettext_lazy("Or only the year of birth"),
        required=False,
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    healthy = forms.BooleanField(
        label=gettext_lazy("My health allows me to walk the lanes regularly."), required=False
    )
    communicates = forms.BooleanField(
        label=gettext_lazy("I express myself well and can talk with residents and the township."),
        required=False,
    )
    party_member = forms.BooleanField(
        label=gettext_lazy("I am a member of the Communist Party of China."), required=False
    )
    lanes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Lanes I would like to look after"),
        queryset=Lane.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    captcha = forms.CharField(
        label=gettext_lazy("Answer to the question in the picture"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, call: StewardCall, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lanes"].queryset = call.lanes.order_by("name")  # type: ignore[attr-defined]


@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    """The calls taking applications today."""
    return render(request, "street/stewards/calls.html", {"calls": list(open_calls())})


def _render(
    request: HttpRequest, call: StewardCall, form: ApplicationForm, status: int = 200
) -> HttpResponse:
    needs = not request.user.is_authenticated and not captcha.passed(request.session)
    challenge = captcha.current(request) if needs else None
    context = {
        "call": call,
        "form": form,
        "challenge": challenge,
        "challenge_text": captcha.spoken(challenge) if challenge else "",
    }
    response = render(request, "street/stewards/apply.html", context, status=status)
    return captcha.remember(request, response)


@never_cache
@require_http_methods(["GET", "POST"])
def apply_page(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(StewardCall.objects.select_related("township"), pk=pk)
    if not is_open(call, timezone.now()):
        raise Http404
    if request.method != "POST":
        return _render(request, call, ApplicationForm(call=call))
    ip = ratelimit.client_ip(request)
    for limit in (ratelimit.reports_by_ip(), ratelimit.captcha_failures()):
        if limit.exceeded(ip):
            form = ApplicationForm(request.POST, call=call)
            form.is_valid()
            form.add_error(
                None, _("Too many applications from your network just now. Try again later.")
            )
            response = _render(request, call, form, status=429)
            response["Retry-After"] = str(limit.retry_after())
            return response
    needs_captcha = not request.user.is_authenticated and not captcha.passed(request.session)
    if "new_captcha" in request.POST:
        captcha.new_challenge(request)
        values = {
            k: v for k, v in request.POST.items() if k not in {"captcha", "csrfmiddlewaretoken"}
        }
        return _render(request, call, ApplicationForm(initial=values, call=call))
    solved = not needs_captcha or captcha.check(request, request.POST.get("captcha", ""))
    form = ApplicationForm(request.POST, call=call)
    valid = form.is_valid()
    if needs_captcha:
        data = form.data.copy()  # type: ignore[attr-defined]
        data["captcha"] = ""
        form.data = data
    if not solved:
        ratelimit.captcha_failures().hit(ip)
        form.add_error("captcha", captcha.refusal(request.POST.get("captcha", "")))
    if not (valid and solved):
        return _render(request, call, form, status=400)
    data = form.cleaned_data
    try:
        application = apply(
            call,
            name=data["name"],
            phone=data["phone"],
            birth_date=data["birth_date"],
            birth_year=data["birth_year"],
            healthy=data["healthy"],
            communicates=data["communicates"],
            party_member=data["party_member"],
            lanes=data["lanes"],
            account=request.user,
        )
    except TownshipRefused as refused:
        field = refused.field if refused.field in form.fields else None
        form.add_error(field, str(refused))
        return _render(request, call, form, status=400)
    ratelimit.reports_by_ip().hit(ip)
    captcha.use_up(request.session)
    request.session[APPLIED_KEY] = [application.reference, *request.session.get(APPLIED_KEY, [])][
        :10
    ]
    return redirect("stewards:status", reference=application.reference)


@never_cache
@require_GET
def status(request: HttpRequest, reference: str) -> HttpResponse:
    """An application's status by its reference: the applicant's name masked, nothing else
    of theirs."""
    ip = ratelimit.client_ip(request)
    misses = ratelimit.follow_misses()
    if misses.exceeded(ip):
        response = render(
            request,
            "street/resident/too_many.html",
            {"message": _("Too many reference numbers that do not exist. Try again later.")},
            status=429,
        )
        response["Retry-After"] = str(misses.retry_after())
        return response
    application = None
    if REFERENCE.match(reference):
        application = (
            StewardApplication.objects.select_related("call__township", "team")
            .filter(reference=reference)
            .first()
        )
    if application is None:
        misses.hit(ip)
        raise Http404
    lanes = []
    if application.status == StewardApplication.Status.ACCEPTED and application.steward_id:
        lanes = list(
            Lane.objects.filter(
                role_assignments__person_id=application.steward_id,
                role_assignments__role=Role.STEWARD,
            ).order_by("name")
        )
    context = {
        "application": application,
        "masked_name": mask_name(application.name),
        "lanes": lanes,
        "just_applied": reference in request.session.get(APPLIED_KEY, [])[:1],
    }
    return render(request, "street/stewards/status.html", context)
