"""The street office's units (`/township/offices/`) and the township's coordination and
command (`/township/coordination/`).

- The units: each unit with its responsibility list, the categories routed to it and its
  people; a unit's page shows its queue of open cases to the unit's people and to the
  township's command centre and chiefs; the township's chief of lanes and the district's
  administrators edit them through `whistle.policies.offices`, which logs every change.
- Coordination and command (统筹协调和督办权): the township's cases whose whistles summon
  two departments or more, with each department's state and deadlines, and the supervision
  notices (督办) it issued, open first.

A township outside the person's is not found (404); a person with no township gets 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from whistle.cases.models import Case, Summons, SupervisionNotice, Whistle
from whistle.cases.scoping import visible_cases
from whistle.desk.forms import category_label, major_class_label
from whistle.desk.viewer import Viewer
from whistle.organisation.models import Jurisdiction, Person, RoleAssignment, TownshipUnit
from whistle.organisation.units import RESPONSIBILITIES_MAX
from whistle.policies.models import Category
from whistle.policies.offices import (
    NAME_EN_MAX,
    NAME_MAX,
    UnitInput,
    UnitRefused,
    editor_role,
    readable_townships,
    reads_whole_township,
    save_unit,
    units_of,
)
from whistle.web.forms import Textarea

QUEUE_LIMIT = 200
RECENT_DAYS = 30
OPEN_CASE_STATUSES = (
    Case.Status.REPORTED,
    Case.Status.FILED,
    Case.Status.DISPATCHED,
    Case.Status.WHISTLED,
    Case.Status.HANDLED,
    Case.Status.CHECKED,
    Case.Status.BACKLOG,
)


# The fields of a unit as its log names them.
FIELD_LABELS = {
    "kind": gettext_lazy("Kind of unit"),
    "name": gettext_lazy("Name"),
    "name_en": gettext_lazy("English name"),
    "responsibilities": gettext_lazy("Responsibility list"),
    "categories": gettext_lazy("Categories it handles"),
    "members": gettext_lazy("People of the unit"),
    "position": gettext_lazy("Position in the list"),
    "is_active": gettext_lazy("In use"),
}


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


def _chosen(request: HttpRequest, townships: list[Jurisdiction]) -> Jurisdiction:
    """The township shown (``?township=CODE``, else the first); 403 without any, 404 for one
    outside them."""
    if not townships:
        raise PermissionDenied
    code = request.GET.get("township", "")
    if not code:
        return townships[0]
    township = next((t for t in townships if t.code == code), None)
    if township is None:
        raise Http404
    return township


def _office_townships(person: Person) -> list[Jurisdiction]:
    return list(readable_townships(person).select_related("parent").order_by("code"))


def open_cases(person: Any, township: Jurisdiction) -> QuerySet[Case]:
    return Case.objects.filter(township=township, status__in=OPEN_CASE_STATUSES)


# --- The units -----------------------------------------------------------------------------


@login_required
@require_GET
def offices(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    townships = _office_townships(person)
    township = _chosen(request, townships)
    open_counts = Count("cases", filter=Q(cases__status__in=OPEN_CASE_STATUSES))
    units = list(
        units_of(township)
        .annotate(open_count=open_counts)
        .prefetch_related(
            Prefetch(
                "routes__category",
                queryset=Category.objects.select_related("major"),
            ),
            "members",
        )
    )
    unrouted = (
        Category.objects.filter(major__district_id=township.parent_id, is_active=True)
        .exclude(routes__township=township)
        .count()
    )
    return render(
        request,
        "desk/offices/list.html",
        {
            "township": township,
            "townships": townships,
            "units": units,
            "unrouted": unrouted,
            "may_edit": editor_role(person, township) is not None,
            "may_coordinate": Viewer.of(person).desk_townships().filter(pk=township.pk).exists(),
            "mine": set(person.township_units.values_list("pk", flat=True)),
        },
    )


def _unit(request: HttpRequest, pk: int) -> TownshipUnit:
    unit = (
        TownshipUnit.objects.filter(pk=pk, township__in=readable_townships(_person(request)))
        .select_related("township", "township__parent")
        .first()
    )
    if unit is None:
        raise Http404
    return unit


@login_required
@require_GET
def unit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    found = _unit(request, pk)
    whole = reads_whole_township(person, found.township)
    member = found.members.filter(pk=person.pk).exists()
    queue: list[Case] | None = None
    if whole or member:
        queue = list(
            open_cases(person, found.township)
            .filter(office=found)
            .select_related("category", "category__major", "lane")
            .order_by("resolve_due_at", "reported_at", "pk")[:QUEUE_LIMIT]
        )
    visible = set(visible_cases(person).filter(office=found).values_list("pk", flat=True))
    log = list(found.log.select_related("actor").order_by("-at", "-pk")[:50]) if whole else None
    for entry in log or []:
        entry.fields = [str(FIELD_LABELS.get(k, k)) for k in entry.changes]  # type: ignore[attr-defined]
    return render(
        request,
        "desk/offices/unit.html",
        {
            "unit": found,
            "township": found.township,
            "routes": list(
                found.routes.select_related("category", "category__major").order_by(
                    "category__major__kind", "category__major__code", "category__code"
                )
            ),
            "members": list(found.members.order_by("username")),
            "queue": queue,
            "visible": visible,
            "log": log,
            "may_edit": editor_role(person, found.township) is not None,
            "now": timezone.now(),
        },
    )


class UnitForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of unit"), choices=TownshipUnit.Kind.choices)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX)
    name_en = forms.CharField(
        label=gettext_lazy("English name"),
        max_length=NAME_EN_MAX,
        required=False,
        help_text=gettext_lazy(
            "Shown on English pages and downloads; left empty, they show the name"
        ),
    )
    responsibilities = forms.CharField(
        label=gettext_lazy("Responsibility list"),
        required=False,
        widget=Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("One item per line, at most %(n)s items.")
        % {"n": RESPONSIBILITIES_MAX},
    )
    categories = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Categories it handles"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "A case of one of these categories in the township is routed to this unit."
        ),
    )
    members = forms.TypedMultipleChoiceField(
        label=gettext_lazy("People of the unit"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("They see the unit's queue and are told of cases routed to it."),
    )
    position = forms.IntegerField(
        label=gettext_lazy("Position in the list"), min_value=0, max_value=999, initial=0
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)

    def __init__(self, *args: Any, township: Jurisdiction, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category_objects = {
            c.pk: c
            for c in Category.objects.filter(major__district_id=township.parent_id, is_active=True)
            .select_related("major")
            .order_by("major__kind", "major__code", "code")
        }
        groups: dict[str, list[tuple[int, str]]] = {}
        for c in self.category_objects.values():
            groups.setdefault(major_class_label(c), []).append((c.pk, category_label(c)))
        cast(forms.ChoiceField, self.fields["categories"]).choices = list(groups.items())
        holders = RoleAssignment.objects.filter(
            Q(jurisdiction=township) | Q(lane__township=township)
        ).values("person_id")
        self.people = {
            p.pk: p
            for p in Person.objects.filter(pk__in=holders, is_active=True).order_by("username")
        }
        cast(forms.ChoiceField, self.fields["members"]).choices = [
            (p.pk, f"{p.display_name}（{p.username}）") for p in self.people.values()
        ]

    def unit_input(self) -> UnitInput:
        data = self.cleaned_data
        return UnitInput(
            kind=data["kind"],
            name=data["name"],
            name_en=data["name_en"],
            responsibilities=data["responsibilities"].splitlines(),
            categories=[self.category_objects[pk] for pk in data["categories"]],
            members=[self.people[pk] for pk in data["members"]],
            position=data["position"],
            is_active=data["is_active"],
        )


def _edit(request: HttpRequest, township: Jurisdiction, found: TownshipUnit | None) -> HttpResponse:
    person = _person(request)
    if editor_role(person, township) is None:
        raise PermissionDenied
    initial: dict[str, Any] = {}
    if found is not None:
        initial = {
            "kind": found.kind,
            "name": found.name,
            "name_en": found.name_en,
            "responsibilities": "\n".join(found.responsibilities),
            "categories": list(found.routes.values_list("category_id", flat=True)),
            "members": list(found.members.values_list("pk", flat=True)),
            "position": found.position,
            "is_active": found.is_active,
        }
    form = UnitForm(
        request.POST if request.method == "POST" else None, township=township, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_unit(person, township, form.unit_input(), unit=found)
        except UnitRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("%(unit)s is saved.") % {"unit": saved.display_name})
            return HttpResponseRedirect(saved.get_absolute_url())
    return render(
        request,
        "desk/offices/form.html",
        {"form": form, "township": township, "unit": found},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    townships = [t for t in _office_townships(person) if editor_role(person, t) is not None]
    return _edit(request, _chosen(request, townships), None)


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    found = _unit(request, pk)
    return _edit(request, found.township, found)


# --- Coordination and command --------------------------------------------------------------


@login_required
@require_GET
def coordination(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    viewer = Viewer.of(person)
    townships = list(viewer.desk_townships().select_related("parent").order_by("code"))
    township = _chosen(request, townships)
    now = timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    cases = visible_cases(person).filter(township=township)
    whistles = list(
        Whistle.objects.filter(township=township, case__in=cases.values("pk"))
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))
        .annotate(departments=Count("summonses__department", distinct=True))
        .filter(departments__gte=2)
        .select_related("case", "case__category", "case__category__major", "case__office")
        .prefetch_related(
            Prefetch(
                "summonses",
                queryset=Summons.objects.select_related("department").order_by(
                    "department__name", "pk"
                ),
            )
        )
        # Sounding first, then the most recent.
        .annotate(sounding=ExpressionWrapper(Q(closed_at__isnull=True), BooleanField()))
        .order_by("-sounding", "-blown_at", "pk")[:QUEUE_LIMIT]
    )
    rows: list[dict[str, Any]] = []
    for whistle in whistles:
        summonses = list(whistle.summonses.all())
        owing = [s for s in summonses if s.status in Summons.OPEN_STATUSES]
        overdue = [
            s
            for s in owing
            if (s.arrived_at is None and s.arrive_due_at and s.arrive_due_at < now)
            or s.resolve_due_at < now
        ]
        rows.append(
            {
                "whistle": whistle,
                "case": whistle.case,
                "summonses": summonses,
                "owing": {s.pk for s in owing},
                "overdue": {s.pk for s in overdue},
                "next_due": min((s.resolve_due_at for s in owing), default=None),
            }
        )
    notices = list(
        SupervisionNotice.objects.filter(case__in=cases.values("pk"))
        .filter(Q(answered_at__isnull=True) | Q(answered_at__gte=since))
        .select_related("case", "department", "issued_by")
        .annotate(open=ExpressionWrapper(Q(answered_at__isnull=True), BooleanField()))
        .order_by("-open", "due_at", "pk")[:QUEUE_LIMIT]
    )
    open_notices = [n for n in notices if n.answered_at is None]
    return render(
        request,
        "desk/offices/coordination.html",
        {
            "township": township,
            "townships": townships,
            "rows": rows,
            "notices": notices,
            "counts": {
                "sounding": sum(1 for w in whistles if w.closed_at is None),
                "overdue": sum(1 for r in rows if r["overdue"]),
                "notices_open": len(open_notices),
                "notices_overdue": sum(1 for n in open_notices if n.due_at < now),
            },
            "now": now,
            "recent_days": RECENT_DAYS,
        },
    )
