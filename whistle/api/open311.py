"""Open311 GeoReport v2 at `/open311/v2/`: the district's categories as services, a resident's
request filed as a resident case through the same action as the resident page, and the
requests read back with their status following the case.

Every endpoint answers in `.json` or `.xml`. Errors are the standard's list of
`{code, description}` with 400, 403, 404, or 429 for a phone number over the residents' daily
report limit (`whistle.cases.report_limits`, the same count as the report form's).
`jurisdiction_id` is a district's code; it may be left out where one district has categories.
Names, descriptions and errors are in the language `locale` names (`en`, `zh-CN` …), else in
the caller's `Accept-Language`.
Reading is public and shows no personal data; filing needs `api_key`, an API token
(docs/api.md).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, re_path
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from whistle.api import tokens
from whistle.cases import actions, report_limits
from whistle.cases.errors import ActionRefused, PermissionRefused
from whistle.cases.locate import locate
from whistle.cases.models import Case, Event
from whistle.cases.trail import EventKind
from whistle.organisation.addresses import AddressNotPlaced, place_address
from whistle.organisation.models import Jurisdiction
from whistle.policies.attributes import questions_of
from whistle.policies.models import Category, CategoryAttribute

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The day this interface last changed, as the discovery document's `changeset`.
CHANGESET = datetime(2026, 12, 3, tzinfo=timezone.get_fixed_timezone(8 * 60))
# The standard's default window and largest answer.
DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
FORMATS = {"json": "application/json", "xml": "text/xml"}
ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](?:\[\])?$")
CLOSED = (
    Case.Status.CLOSED,
    Case.Status.EVALUATED,
    Case.Status.REJECTED,
    Case.Status.MERGED,
)


class Open311Error(Exception):
    def __init__(
        self, status: int, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}


# Answers in both formats ---------------------------------------------------------------------


def _xml_value(parent: ElementTree.Element, tag: str, value: Any) -> None:
    element = ElementTree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_value(element, key, item)
    elif isinstance(value, list):
        # A list's items are named by the singular of the list's tag (notes → note).
        for item in value:
            _xml_value(element, tag[:-1] if tag.endswith("s") else "item", item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def answer(fmt: str, data: Any, root: str, item: str, status: int = 200) -> HttpResponse:
    """`data` as JSON, or as XML under `root`, each list item an `item` element."""
    if fmt == "json":
        return JsonResponse(
            data, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
        )
    document = ElementTree.Element(root)
    for entry in data if isinstance(data, list) else [data]:
        holder = ElementTree.SubElement(document, item) if isinstance(data, list) else document
        for key, value in entry.items():
            _xml_value(holder, key, value)
    body = ElementTree.tostring(document, encoding="unicode", xml_declaration=True)
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return answer(fmt, [{"code": status, "description": description}], "errors", "error", status)


def requested_language(request: HttpRequest) -> str | None:
    """The language the request's `locale` names (`en`, `en-US`, `en_US`, `zh`, `zh-CN` …),
    as one of the product's; None when it names none of them or is left out."""
    value = request.POST.get("locale", "") if request.method == "POST" else ""
    value = (value or request.GET.get("locale", "")).strip().replace("_", "-").lower()
    if not value:
        return None
    try:
        return translation.get_supported_language_variant(value)
    except LookupError:
        return None


def endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The standard's error answer for every refusal, in the request's format; names,
    descriptions and errors in the language of the request's `locale`, else of the caller's
    `Accept-Language` (else Chinese), which the answer's `Content-Language` states."""

    @csrf_exempt
    def wrapped(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        language = (
            requested_language(request) or translation.get_language() or settings.LANGUAGE_CODE
        )
        with translation.override(language):
            response = _answered(request, fmt, **kwargs)
        response["Content-Language"] = language
        return response

    def _answered(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, fmt, **kwargs)
        except Open311Error as exc:
            refused = error(fmt, exc.status, exc.description)
            for name, value in exc.headers.items():
                refused[name] = value
            return refused
        except PermissionRefused as exc:
            return error(fmt, 403, str(exc))
        except ActionRefused as exc:
            return error(fmt, 400, str(exc))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def shanghai(at: datetime | None) -> str | None:
    return None if at is None else timezone.localtime(at).isoformat(timespec="seconds")


# The district and its services ---------------------------------------------------------------


# The districts a request without jurisdiction_id is told of, at most.
MAX_DISTRICTS_NAMED = 20


def district_of(request: HttpRequest) -> Jurisdiction:
    params = request.POST if request.method == "POST" else request.GET
    code = params.get("jurisdiction_id", "").strip()
    served = Jurisdiction.objects.filter(level="district", major_classes__isnull=False).distinct()
    if code:
        district = served.filter(code=code).first()
        if district is None:
            raise Open311Error(404, _("No district has the code %(code)s.") % {"code": code})
        return district
    only = list(served.order_by("code")[: MAX_DISTRICTS_NAMED + 1])
    if not only:
        raise Open311Error(400, _("Give jurisdiction_id: the code of the district."))
    if len(only) > 1:
        named = ", ".join(f"{d.code} ({d.name})" for d in only[:MAX_DISTRICTS_NAMED])
        if len(only) > MAX_DISTRICTS_NAMED:
            named += ", …"
        raise Open311Error(
            400,
            _("Give jurisdiction_id: the code of the district, one of %(codes)s.")
            % {"codes": named},
        )
    return only[0]


def service_code(category: Category) -> str:
    # A component and an event may share a 4-digit code; the kind keeps the codes unique.
    return f"{category.major.kind}-{category.full_code}"


def services_of(district: Jurisdiction) -> QuerySet[Category]:
    return (
        Category.objects.filter(major__district=district, is_active=True)
        .select_related("major")
        .annotate(
            asks=Exists(CategoryAttribute.objects.filter(category=OuterRef("pk"), is_active=True))
        )
        .order_by("major__kind", "major__code", "code")
    )


def service_by_code(district: Jurisdiction, code: str, status: int) -> Category:
    kind, _dash, full_code = code.strip().partition("-")
    found = services_of(district).filter(
        major__kind=kind, major__code=full_code[:2], code=full_code[2:]
    )
    category = found.first() if len(full_code) == 4 else None
    if category is None:
        raise Open311Error(status, _("No service has the code %(code)s.") % {"code": code})
    return category


def service_out(category: Category) -> dict[str, Any]:
    return {
        "service_code": service_code(category),
        "service_name": category.display_name,
        "description": f"{category.major.display_name} · {category.display_name}",
        # True: the service definition lists questions a request answers.
        "metadata": bool(getattr(category, "asks", False)),
        "type": "realtime",
        "keywords": category.display_keywords,
        "group": category.major.display_name,
    }


@endpoint
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint is, what it speaks, and whom to ask for a key."""
    base = request.build_absolute_uri("/open311/v2/")
    return answer(
        fmt,
        {
            "changeset": shanghai(CHANGESET),
            "contact": _("The district's urban management command centre."),
            "key_service": _(
                "Ask the district's administrators for an API token to file requests."
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": shanghai(CHANGESET),
                    "type": "production",
                    "formats": list(FORMATS.values()),
                }
            ],
        },
        "discovery",
        "",
    )


@endpoint
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """The district's categories as services."""
    rows = [service_out(c) for c in services_of(district_of(request))]
    return answer(fmt, rows, "services", "service")


def attribute_out(question: CategoryAttribute) -> dict[str, Any]:
    return {
        # Every question takes an answer (the standard's false is for text shown only).
        "variable": True,
        "code": question.code,
        "datatype": question.datatype,
        "required": question.required,
        "datatype_description": question.datatype_description,
        "order": question.order,
        "description": question.description,
        "values": [{"key": key, "name": name} for key, name in question.choices],
    }


@endpoint
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    """A service's attributes: the questions the district asks with a request of it."""
    category = service_by_code(district_of(request), code, 404)
    return answer(
        fmt,
        {
            "service_code": service_code(category),
            "attributes": [attribute_out(q) for q in questions_of(category)],
        },
        "service_definition",
        "",
    )


# Requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None


def _moment(value: str, name: str, *, end: bool = False) -> datetime:
    text = value.strip()
    try:
        at = parse_datetime(text)
        day = None if at is not None else parse_date(text)
    except ValueError:
        # Well formed, yet no such day (month 13).
        at = day = None
    if at is None:
        if day is None:
            raise Open311Error(
                400,
                _("%(name)s is not a date and time in ISO 8601 (2026-03-10T08:00:00+08:00).")
                % {"name": name},
            )
        at = datetime.combine(day, time.max if end else time.min)
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return at


def _number(value: str, name: str, default: int, most: int) -> int:
    if not value.strip():
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= most:
        raise Open311Error(
            400, _("%(name)s is a whole number from 1 to %(most)s.") % {"name": name, "most": most}
        )
    return int(value)


def requests_of(district: Jurisdiction) -> QuerySet[Case]:
    """The district's resident cases, the requests residents file: the findings of stewards
    and patrols are the township's working material, not published here."""
    return (
        Case.objects.filter(district=district, source=Case.Source.RESIDENT)
        .select_related("category__major", "township", "merged_into")
        .annotate(last_event_at=Max("events__at"))
    )


def status_of(case: Case) -> str:
    return "closed" if case.status in CLOSED else "open"


def status_notes(case: Case) -> str:
    if case.status == Case.Status.REJECTED:
        return case.rejection_reason
    if case.status == Case.Status.MERGED and case.merged_into is not None:
        return _("Merged into %(reference)s.") % {"reference": case.merged_into.reference}
    if case.status == Case.Status.BACKLOG:
        return case.backlog_reason
    return str(case.get_status_display())


def notes_of(events: Iterable[Event]) -> list[dict[str, Any]]:
    # What happened and when, never who or their words: the trail's details stay inside.
    labels = dict(EventKind.choices)
    return [
        {
            "datetime": shanghai(e.at),
            "summary": str(labels.get(e.kind, e.kind)),
            "type": "closed" if e.kind == EventKind.CLOSED else "update",
        }
        for e in events
    ]


def request_out(case: Case, *, extensions: bool = False) -> dict[str, Any]:
    category = case.category
    row: dict[str, Any] = {
        "service_request_id": case.reference,
        "status": status_of(case),
        "status_notes": status_notes(case),
        "service_name": category.display_name if category else "",
        "service_code": service_code(category) if category else "",
        "description": case.description,
        "agency_responsible": case.township.name if case.township else "",
        "service_notice": "",
        "requested_datetime": shanghai(case.reported_at),
        "updated_datetime": shanghai(getattr(case, "last_event_at", None) or case.reported_at),
        "expected_datetime": shanghai(case.resolve_due_at),
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lon,
        # Photos are handed out only to those who may see the case, never by a public link.
        "media_url": "",
    }
    if extensions:
        row["extended_attributes"] = {
            "township": case.township.code if case.township else None,
            "closed_datetime": shanghai(case.closed_at),
        }
        row["notes"] = notes_of(case.events.order_by("seq"))
    return row


def _wants_extensions(request: HttpRequest) -> bool:
    return request.GET.get("extensions", "").strip().lower() == "true"


@endpoint
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: the district's requests with the standard's filters and its common extensions.
    POST: file a request (form-encoded, with `api_key`)."""
    if request.method == "POST":
        return _file(request, fmt)
    if request.method != "GET":
        raise Open311Error(400, _("Use GET to read requests and POST to file one."))
    district = district_of(request)
    found = requests_of(district)
    params = request.GET
    ids = [r.strip().upper() for r in params.get("service_request_id", "").split(",") if r.strip()]
    page = _number(params.get("page", ""), "page", 1, 10**6)
    page_size = _number(params.get("page_size", ""), "page_size", MAX_REQUESTS, MAX_REQUESTS)
    # The standard: with service_request_id, every other filter is ignored.
    found = found.filter(reference__in=ids) if ids else _filtered(found, district, params)
    found = found.order_by("-reported_at", "-pk")[(page - 1) * page_size : page * page_size]
    extensions = _wants_extensions(request)
    if extensions:
        found = found.prefetch_related("events")
    rows = [request_out(case, extensions=extensions) for case in found]
    return answer(fmt, rows, "service_requests", "request")


def _filtered(found: QuerySet[Case], district: Jurisdiction, params: Any) -> QuerySet[Case]:
    code = params.get("service_code", "").strip()
    if code:
        categories = [service_by_code(district, c, 400) for c in code.split(",") if c.strip()]
        found = found.filter(category__in=categories)
    start = params.get("start_date", "")
    end = params.get("end_date", "")
    window = Window(
        _moment(start, "start_date") if start.strip() else None,
        _moment(end, "end_date", end=True) if end.strip() else None,
    )
    if window.start is None and window.end is None:
        window = Window(timezone.now() - timedelta(days=DEFAULT_DAYS), None)
    if window.start is not None:
        found = found.filter(reported_at__gte=window.start)
    if window.end is not None:
        found = found.filter(reported_at__lte=window.end)
    statuses = {s.strip().lower() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status is open, closed or both."))
    if statuses == {"open"}:
        found = found.exclude(status__in=CLOSED)
    elif statuses == {"closed"}:
        found = found.filter(status__in=CLOSED)
    after = params.get("updated_after", "")
    before = params.get("updated_before", "")
    if after.strip():
        found = found.filter(Q(last_event_at__gte=_moment(after, "updated_after")))
    if before.strip():
        found = found.filter(Q(last_event_at__lte=_moment(before, "updated_before", end=True)))
    return found


def _name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    # 姓 before 名 in Chinese; a space between Latin names.
    if first.isascii() and last.isascii():
        return " ".join(p for p in (first, last) if p)
    return last + first


def _position(params: Any, district: Jurisdiction) -> tuple[float, float]:
    """lat and long, else the lane the address_string names (halfway along it)."""
    lat, lon = params.get("lat", "").strip(), params.get("long", "").strip()
    address = params.get("address_string", "").strip()
    if not lat and not lon and address:
        try:
            placed = place_address(district, address)
        except AddressNotPlaced as exc:
            raise Open311Error(400, str(exc)) from None
        return placed.lon, placed.lat
    if not lat or not lon:
        raise Open311Error(400, _("Give the position: lat and long, or address_string."))
    try:
        position = float(lon), float(lat)
    except ValueError:
        raise Open311Error(400, _("lat and long are numbers in degrees.")) from None
    if not all(math.isfinite(value) for value in position):
        raise Open311Error(400, _("lat and long are numbers in degrees."))
    if locate(*position).district != district:
        raise Open311Error(
            400,
            _(
                "The position (lat %(lat)s, long %(lon)s) lies outside %(district)s "
                "(jurisdiction_id %(code)s): give a position within it, or the "
                "jurisdiction_id of the district where the problem lies."
            )
            % {"lat": lat, "lon": lon, "district": district.name, "code": district.code},
        )
    return position


def _attributes(params: Any) -> dict[str, list[str]]:
    """`attribute[CODE]=value`, and `attribute[CODE][]=key` repeated for a multi-value list."""
    given: dict[str, list[str]] = {}
    for name in params:
        match = ATTRIBUTE.match(name)
        if match:
            given.setdefault(match.group(1), []).extend(params.getlist(name))
    return given


def _file(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.POST
    secret = params.get("api_key", "").strip()
    if not secret:
        raise Open311Error(403, _("Give api_key: an API token."))
    try:
        tokens.authenticate(secret)
    except tokens.TokenRefused:
        raise Open311Error(403, _("This api_key is not valid.")) from None
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("Give service_code: one of the services."))
    district = district_of(request)
    category = service_by_code(district, code, 400)
    lon, lat = _position(params, district)
    description = params.get("description", "").strip() or category.name
    # The resident's number counts as on the report form and the phone's queue, whichever
    # system carries the request: a request without a number has no account behind it
    # (the api_key is the carrying system's), so only a number is counted.
    limit = report_limits.reports_by_phone()
    counted = report_limits.resident_key(params.get("phone", ""))
    if counted and limit.exceeded(counted):
        raise Open311Error(
            429,
            str(report_limits.refusal(counted)),
            headers={"Retry-After": str(limit.retry_after())},
        )
    report = actions.report_resident_case(
        name=_name(params.get("first_name", ""), params.get("last_name", "")),
        phone=params.get("phone", ""),
        description=description,
        lon=lon,
        lat=lat,
        address=params.get("address_string", ""),
        photos=request.FILES.getlist("media"),
        category=category,
        attributes=_attributes(params),
    )
    if counted:
        limit.hit(counted)
    row = {
        "service_request_id": report.case.reference,
        "token": str(report.case.uuid),
        "service_notice": _("The township reviews the request and files it as a case."),
        "account_id": params.get("account_id", ""),
    }
    return answer(fmt, [row], "service_requests", "request", status=201)


@endpoint
def one_request(request: HttpRequest, fmt: str, reference: str) -> HttpResponse:
    """One request by its reference, with the same fields as the list."""
    found = requests_of(district_of(request)).filter(reference=reference.strip().upper())
    if _wants_extensions(request):
        found = found.prefetch_related("events")
    case = found.first()
    if case is None:
        raise Open311Error(404, _("No request has the id %(id)s.") % {"id": reference})
    return answer(
        fmt,
        [request_out(case, extensions=_wants_extensions(request))],
        "service_requests",
        "request",
    )


@endpoint
def request_by_token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """The request a token of POST requests stands for."""
    try:
        public_id = uuid.UUID(token.strip())
    except ValueError:
        public_id = None
    case = requests_of(district_of(request)).filter(uuid=public_id).first() if public_id else None
    if case is None:
        raise Open311Error(404, _("No request has the token %(token)s.") % {"token": token})
    return answer(
        fmt,
        [{"service_request_id": case.reference, "token": str(case.uuid)}],
        "service_requests",
        "request",
    )


app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"
urlpatterns: list[URLPattern] = [
    re_path(r"^discovery" + FMT, discovery, name="discovery"),
    re_path(r"^services" + FMT, services, name="services"),
    re_path(r"^services/(?P<code>[^/]+?)" + FMT, service_definition, name="service"),
    re_path(r"^requests" + FMT, request_list, name="requests"),
    re_path(r"^requests/(?P<reference>[^/]+?)" + FMT, one_request, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, request_by_token, name="token"),
]
