"""Residents' pages, no account needed: report a problem, follow it by its reference number,
rate the outcome. Guarded by rate limits and a captcha (docs/street.md)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whistle.cases import report_limits
from whistle.cases.actions import (
    record_resident_rating,
    report_resident_case,
    resident_may_rate,
)
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.cases.models import Case
from whistle.cases.public_photos import PHOTO_HEADERS, followed_photo
from whistle.cases.public_timeline import (
    RATABLE,
    own_report,
    result_photos,
    timeline,
)
from whistle.organisation import geo
from whistle.organisation.models import Lane
from whistle.street import captcha, kept, ratelimit
from whistle.street.forms import FollowForm, RatingForm, ResidentReportForm, show_refusal
from whistle.street.photos import PhotoState, attach, take_photo
from whistle.street.public import REFERENCE
from whistle.web import once
from whistle.web.places import (
    describe_place,
    lane_districts,
    lanes_geojson,
    own_lanes,
    picker_district,
    place_picker,
)

# The references a browser reported most recently, for the thank-you page.
REFERENCES_KEY = "street_references"
# The newest report's rating key, until the thank-you page has shown it once.
NEW_KEY = "street_new_rating_key"
# The thank-you page's parameter naming the one-time key of a report sent again.
SENT = "sent"
DISTRICT_CODE = re.compile(r"^[0-9]{6}$")


def _too_many(request: HttpRequest, limit: ratelimit.Limit, message: str) -> HttpResponse:
    response = render(request, "street/resident/too_many.html", {"message": message}, status=429)
    response["Retry-After"] = str(limit.retry_after())
    return response


def _blocked(ip: str) -> ratelimit.Limit | None:
    for limit in (ratelimit.reports_by_ip(), ratelimit.captcha_failures()):
        if limit.exceeded(ip):
            return limit
    return None


def _render_form(
    request: HttpRequest, form: ResidentReportForm, photo: PhotoState | None, status: int = 200
) -> HttpResponse:
    needs = not request.user.is_authenticated and not captcha.passed(request.session)
    challenge = captcha.current(request) if needs else None
    districts = lane_districts()
    # A steward's map opens on their own lanes, in their district.
    lanes = own_lanes(request.user)
    district = picker_district(lanes, districts)
    context = {
        "form": form,
        "photo": photo,
        "challenge": challenge,
        "challenge_text": captcha.spoken(challenge) if challenge else "",
        "picker": place_picker(
            lanes_url=reverse("reports:lanes"),
            place_url=reverse("reports:place"),
            districts=districts,
            district=district,
            focus=[lane.pk for lane in lanes],
        ),
    }
    response = render(request, "street/resident/report.html", context, status=status)
    return captcha.remember(request, response)


def _initial(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    initial: dict[str, Any] = {}
    if user.is_authenticated:
        initial.update(name=user.display_name, phone=user.phone)
    initial.update(lane_place(request.GET.get("lane", "")))
    return initial


def lane_place(lane_id: str) -> dict[str, Any]:
    """The place of a report started from a lane's page or signboard (`?lane=<id>`): halfway
    along the lane, where choosing the lane from the list puts the pin. An id that names no
    lane, or a lane without a readable line, leaves the place to choose."""
    if not lane_id.isdigit() or len(lane_id) > 12:
        return {}
    line = Lane.objects.filter(pk=int(lane_id)).values_list("centre_line", flat=True).first()
    if line is None:
        return {}
    try:
        lon, lat = geo.halfway(line)
    except geo.GeometryError:
        return {}
    return {"lon": round(lon, 7), "lat": round(lat, 7)}


def _thanks_again(key: str) -> HttpResponse:
    """The answer to a report sent again (a double tap, a resend) under a key that already
    filed one: the thank-you page with the first sending's reference. Nothing is written
    to the session here: the first sending's answer may still be writing it."""
    return redirect(reverse("reports:thanks") + "?" + urlencode({SENT: key}))


def _sent_before(key: str, *, wait: bool = True) -> HttpResponse | None:
    """The thank-you page of an earlier sending under `key`, or None; `wait` waits for one
    still filing (once.first_reference), else only what is written is read."""
    found = once.first_reference(key) if wait else once.filed_under(key)
    return None if found is None else _thanks_again(key)


@never_cache
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, ResidentReportForm(initial=_initial(request)), None)
    # Before the limits: the first sending counted against them already.
    key = once.posted_key(request)
    again = _sent_before(key, wait=False)
    if again is not None:
        return again
    ip = ratelimit.client_ip(request)
    blocked = _blocked(ip)
    if blocked is not None:
        # Refused before the photo is decoded: an address over its limit costs little.
        form = ResidentReportForm(request.POST)
        form.is_valid()
        form.add_error(None, _("Too many reports from your network just now. Try again later."))
        response = _render_form(request, form, None, status=429)
        response["Retry-After"] = str(blocked.retry_after())
        return response
    needs_captcha = not request.user.is_authenticated and not captcha.passed(request.session)
    if "new_captcha" in request.POST:
        # Another question, keeping what was typed, without marking anything as wrong; a
        # photo kept from before stays, a new file waits for the answer.
        captcha.new_challenge(request)
        values = {
            k: v for k, v in request.POST.items() if k not in {"captcha", "csrfmiddlewaretoken"}
        }
        photo = take_photo(request, decode=not needs_captcha)
        return _render_form(request, ResidentReportForm(initial=values), photo)
    # The question is checked before the photo is opened: a wrong or missing answer costs
    # the server no decoding (docs/security.md).
    solved = not needs_captcha or captcha.check(request, request.POST.get("captcha", ""))
    photo = take_photo(request, decode=solved)
    form = ResidentReportForm(request.POST, request.FILES)
    valid = form.is_valid()
    if not (valid and solved and not photo.error):
        # The first sending may have used up what this one misses (the kept photo, the
        # question answered): it leads where the first led, and counts as no wrong answer.
        again = _sent_before(key)
        if again is not None:
            return again
    attach(form, photo)
    if needs_captcha:
        # An answer belongs to its question: the next question starts with an empty box.
        data = form.data.copy()  # type: ignore[attr-defined]
        data["captcha"] = ""
        form.data = data
    if not solved:
        ratelimit.captcha_failures().hit(ip)
        form.add_error("captcha", captcha.refusal(request.POST.get("captcha", "")))
    if not (valid and solved and not photo.error):
        return _render_form(request, form, photo)
    data = form.cleaned_data
    phone_limit = ratelimit.reports_by_phone()
    user: Any = request.user
    # Under the number, else the signed-in account (as the API's queued reports); without
    # either only the address's limit applies.
    phone = report_limits.resident_key(data["phone"], user)
    if phone and phone_limit.exceeded(phone):
        field = None if phone.startswith(report_limits.ACCOUNT) else "phone"
        form.add_error(field, report_limits.refusal(phone))
        return _sent_before(key) or _render_form(request, form, photo, status=429)
    try:
        with once.filing(key) as filed:
            report = report_resident_case(
                name=data["name"],
                phone=data["phone"],
                description=data["description"],
                lon=data["lon"],
                lat=data["lat"],
                accuracy_m=data["accuracy_m"],
                address=data["address"],
                photos=[photo.photo] if photo.photo else None,
                reporter=user if user.is_authenticated else None,
            )
            filed.reference = report.case.reference
    except once.AlreadySent:
        kept.drop(photo.token)
        return _thanks_again(key)
    except ActionRefused as refused:
        show_refusal(form, refused)
        return _render_form(request, form, photo)
    case = report.case
    ratelimit.reports_by_ip().hit(ip)
    if phone:
        phone_limit.hit(phone)
    captcha.use_up(request.session)
    kept.drop(photo.token)
    previous = request.session.get(REFERENCES_KEY, [])
    request.session[REFERENCES_KEY] = [case.reference, *previous][:10]
    request.session[NEW_KEY] = {"reference": case.reference, "key": report.rating_key}
    return redirect("reports:thanks")


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
def lanes(request: HttpRequest) -> HttpResponse:
    """A district's lanes as GeoJSON, for the report page's map and lane list."""
    districts = lane_districts()
    code = request.GET.get("district")
    if code is None:
        district = districts[0] if districts else None
    elif not DISTRICT_CODE.match(code):
        return _json_error(_("A district code has 6 digits."))
    else:
        district = next((d for d in districts if d.code == code), None)
        if district is None:
            return _json_error(_("No district with this code has lanes."), 404)
    response = JsonResponse(
        lanes_geojson(district),
        content_type="application/geo+json",
        json_dumps_params={"ensure_ascii": False},
    )
    # Lanes change with an import, not by the minute.
    response["Cache-Control"] = "public, max-age=600"
    return response


@require_GET
def place(request: HttpRequest) -> HttpResponse:
    """Where a report from a point would go (its lane or township), before sending it."""
    try:
        lon, lat = float(request.GET["lon"]), float(request.GET["lat"])
    except (KeyError, ValueError):
        return _json_error(_("Give the place as a longitude and a latitude in degrees."))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        # NaN fails both comparisons too.
        return _json_error(_("Give the place as a longitude and a latitude in degrees."))
    words = describe_place(lon, lat)
    return JsonResponse({"inside": words.inside, "text": words.text})


@never_cache
@require_GET
def thanks(request: HttpRequest) -> HttpResponse:
    references = request.session.get(REFERENCES_KEY) or []
    # A report sent again: the reference its first sending filed, which this browser's
    # session may not hold yet (the first answer may still be on its way).
    already = once.filed_under(request.GET.get(SENT, ""))
    if already is not None:
        references = [already, *(r for r in references if r != already)]
    if not references:
        return redirect("reports:new")
    reference = references[0]
    # Shown once: the session does not keep the key after this page.
    new = request.session.pop(NEW_KEY, None) or {}
    key = new.get("key", "") if new.get("reference") == reference else ""
    follow_url = reverse("reports:case", args=[reference])
    if key:
        follow_url += "?" + urlencode({"key": key})
    response = render(
        request,
        "street/resident/thanks.html",
        {
            "reference": reference,
            "already": already is not None,
            "earlier": references[1:],
            "key": key,
            "follow_url": follow_url,
            "follow_link": request.build_absolute_uri(follow_url),
        },
    )
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_GET
def captcha_image(request: HttpRequest) -> HttpResponse:
    challenge = captcha.current(request)
    response = HttpResponse(captcha.image(challenge), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return captcha.remember(request, response)


@require_GET
def follow(request: HttpRequest) -> HttpResponse:
    if "reference" in request.GET:
        form = FollowForm(request.GET)
        if form.is_valid():
            return redirect("reports:case", reference=form.cleaned_data["reference"])
    else:
        form = FollowForm()
    return render(request, "street/resident/follow.html", {"form": form})


def _public_case(request: HttpRequest, reference: str) -> Case | HttpResponse:
    """The case by its reference, or the answer to give instead (not found, too many)."""
    ip = ratelimit.client_ip(request)
    misses = ratelimit.follow_misses()
    if misses.exceeded(ip):
        return _too_many(
            request, misses, _("Too many reference numbers that do not exist. Try again later.")
        )
    case = None
    if REFERENCE.match(reference):
        case = (
            Case.objects.select_related("category", "lane", "township", "merged_into")
            .filter(reference=reference)
            .first()
        )
    if case is None:
        misses.hit(ip)
        form = FollowForm(data={"reference": reference})
        form.is_valid()
        if not form.errors:
            form.add_error("reference", _("No case has this reference number. Check it and retry."))
        return render(request, "street/resident/follow.html", {"form": form}, status=404)
    return case


@never_cache
@require_GET
def case_page(request: HttpRequest, reference: str) -> HttpResponse:
    found = _public_case(request, reference)
    if isinstance(found, HttpResponse):
        return found
    key = request.GET.get("key", "")
    return _render_case(request, found, RatingForm(initial={"key": key}), key=key)


def _render_case(
    request: HttpRequest, case: Case, rating_form: RatingForm, *, key: str, status: int = 200
) -> HttpResponse:
    rating_open = case.source == Case.Source.RESIDENT and case.status in RATABLE
    rated = case.resident_rated_at is not None
    called_back = case.resident_called_back_at is not None
    # What the resident sent, for the signed-in reporter alone.
    own = own_report(case, request.user)
    reporter = own is not None or resident_may_rate(case, key=key, person=request.user)
    if key and not reporter:
        # A wrong key counts as a miss: guessing keys is guessing references.
        ratelimit.follow_misses().hit(ratelimit.client_ip(request))
    response = render(
        request,
        "street/resident/case.html",
        {
            "case": case,
            "timeline": timeline(case),
            "photos": result_photos(case),
            "own_report": own,
            "rating_form": rating_form,
            "can_rate": reporter and rating_open and not rated and not called_back,
            "is_reporter": reporter,
            "wrong_key": bool(key) and not reporter,
            "rating_open": rating_open,
            "rating_refused": rating_form.is_bound and bool(rating_form.errors),
            "rated": rated,
            "called_back": called_back,
            # The rating's answer stands at an address that takes forms only.
            "form_page": reverse("reports:case", args=[case.reference])
            + (f"?{urlencode({'key': key})}" if key else ""),
        },
        status=status,
    )
    # The key must not reach another site in a Referer header. "same-origin", not
    # "no-referrer": the latter makes browsers send "Origin: null" with the rating form,
    # which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
def rate(request: HttpRequest, reference: str) -> HttpResponse:
    found = _public_case(request, reference)
    if isinstance(found, HttpResponse):
        return found
    form = RatingForm(request.POST)
    key = request.POST.get("key", "")
    if found.status not in RATABLE:
        form.is_valid()
        form.add_error(None, _("This case cannot be rated yet: it is not closed."))
        return _render_case(request, found, form, key=key, status=409)
    if not form.is_valid():
        return _render_case(request, found, form, key=key)
    user: Any = request.user
    try:
        found = record_resident_rating(
            found,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
            key=form.cleaned_data["key"],
            person=user if user.is_authenticated else None,
        )
    except ActionRefused as refused:
        show_refusal(form, refused)
        # A bad value is the form's to fix; someone other than the reporter is refused;
        # anything else is the case's state.
        if isinstance(refused, InvalidInput):
            status = 200
        elif isinstance(refused, PermissionRefused):
            status = 403
        else:
            status = 409
        return _render_case(request, found, form, key=key, status=status)
    messages.success(request, _("Thank you: your rating was recorded."))
    return redirect("reports:case", reference=found.reference)


@require_GET
def photo(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    """A photo of the result, re-encoded without its EXIF block; a photo sent with the
    report only for the resident signed in with the account that reported it
    (`sees_own_report`), not found for anyone else."""
    shown = followed_photo(reference, request.user, pk=pk)
    if shown is None:
        raise Http404
    content, content_type = shown
    return HttpResponse(content, content_type=content_type, headers=PHOTO_HEADERS)
