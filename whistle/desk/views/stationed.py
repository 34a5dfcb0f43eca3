"""The stationed staff's management (派驻人员日常管理考核权), seen from the township (its
roster, the centre's attendance, leave to decide, the monthly assessment), from the stationed
person's phone (sign in, ask for leave, read one's assessments) and from the department's
head (its people's assessments).

Every change goes through `whistle.township.stationed_actions`; a stationing the person may
not see is not found (404).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from whistle.organisation.models import CentreMembership, Jurisdiction, Person, RoleAssignment
from whistle.organisation.scoping import has_role
from whistle.township import stationed_actions as act
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import TownshipLogEntry
from whistle.township.stationed import StationedAssessment, StationedLeave, Stationing
from whistle.township.stationed_rules import (
    CENTRE_KEEPERS,
    DEPARTMENT_STAFF,
    LEAVE_DECIDERS,
    ROSTER_KEEPERS,
    STATIONED_ASSESSORS,
    departments_read,
    holds,
    month_attendance,
    own_stationings,
    townships_kept,
)
from whistle.web.forms import DateInput, GroupedSelect, Textarea, place_action_error


def _person(request: HttpRequest) -> Person:
    return cast(Person, request.user)


def _refused(form: forms.Form, exc: TownshipRefused) -> None:
    place_action_error(form, exc, exc.field, invalid=isinstance(exc, InvalidTownshipInput))


def _township(request: HttpRequest, person: Person) -> tuple[Jurisdiction, list[Jurisdiction]]:
    """The township the page is about: `?township=<code>` among those the person reads,
    else the first."""
    townships = townships_kept(person)
    if not townships:
        raise PermissionDenied
    code = request.GET.get("township", "")
    if not code:
        return townships[0], townships
    chosen = next((t for t in townships if t.code == code), None)
    if chosen is None:
        raise Http404
    return chosen, townships


def _month(request: HttpRequest, default: date) -> date:
    text = request.GET.get("month", "")
    if not text:
        return default
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise Http404 from None


def _previous_month(day: date) -> date:
    first = day.replace(day=1)
    return (first.replace(day=1) - timedelta(days=1)).replace(day=1)


def _nav(
    township: Jurisdiction, townships: list[Jurisdiction], person: Person, page: str
) -> dict[str, Any]:
    """What the township's pages share in their head (desk/stationed/_page.html): the
    township, the others the person reads, which of the pages this is, and what the person
    may do there."""
    return {
        "page": page,
        "township": township,
        "townships": townships,
        "keeps_roster": holds(person, ROSTER_KEEPERS, township.pk),
        "keeps_centre": holds(person, CENTRE_KEEPERS, township.pk),
        "decides_leave": holds(person, LEAVE_DECIDERS, township.pk),
        "assesses": holds(person, STATIONED_ASSESSORS, township.pk),
    }


def _township_page(request: HttpRequest, page: str) -> tuple[Person, Jurisdiction, dict[str, Any]]:
    """The person, the township a township's page is about and its shared head."""
    person = _person(request)
    township, townships = _township(request, person)
    return person, township, _nav(township, townships, person, page)


# --- Forms ---------------------------------------------------------------------------------


class StationForm(forms.Form):
    """The people come under the name of their department; only the chosen department's
    may be stationed, which the action checks. The department's list narrows the people to
    its own as it changes (static/desk/narrow.js)."""

    membership = forms.TypedChoiceField(
        label=gettext_lazy("Department"),
        coerce=int,
        widget=GroupedSelect(attrs={"data-narrows": "#id_person"}),
    )
    person = forms.TypedChoiceField(label=gettext_lazy("Person"), coerce=int, widget=GroupedSelect)
    post = forms.CharField(
        label=gettext_lazy("Post in the centre"),
        max_length=act.POST_MAX,
        required=False,
        help_text=gettext_lazy("e.g. community police officer, fire inspector"),
    )
    started_on = forms.DateField(label=gettext_lazy("Stationed from"), widget=DateInput)

    def __init__(self, *args: Any, township: Jurisdiction, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {
            m.pk: m
            for m in CentreMembership.objects.filter(
                township=township, role__in=act.STATIONED_ROLES
            )
            .select_related("department")
            .order_by("department__name", "department__code")
        }
        departments = [m.department for m in self.memberships.values()]
        rows = (
            RoleAssignment.objects.filter(
                role__in=DEPARTMENT_STAFF,
                department_id__in=sorted(d.pk for d in departments),
                person__is_active=True,
            )
            .select_related("person")
            .order_by("person__name", "person__username")
        )
        self.people: dict[int, Person] = {}
        staff: dict[int, dict[int, str]] = defaultdict(dict)
        for row in rows:
            self.people[row.person_id] = row.person
            staff[cast(int, row.department_id)][row.person_id] = (
                row.person.name or row.person.username
            )
        membership = self.fields["membership"]
        assert isinstance(membership, forms.ChoiceField)
        membership.choices = [
            ("", "—"),
            *(
                (pk, f"{m.department.display_name} · {m.get_role_display()}")
                for pk, m in self.memberships.items()
            ),
        ]
        assert isinstance(membership.widget, GroupedSelect)
        membership.widget.group_keys = {
            index: str(m.department_id) for index, m in enumerate(self.memberships.values(), 1)
        }
        # Under each department its people; one who serves two departments is under both.
        person = self.fields["person"]
        assert isinstance(person, forms.ChoiceField)
        person_choices: list[Any] = [("", "—")]
        keys: dict[int, str] = {}
        for department in departments:
            if staff[department.pk]:
                keys[len(person_choices)] = str(department.pk)
                person_choices.append((department.display_name, list(staff[department.pk].items())))
        person.choices = person_choices
        assert isinstance(person.widget, GroupedSelect)
        person.widget.group_keys = keys


class ChangeForm(forms.Form):
    post = forms.CharField(
        label=gettext_lazy("Post in the centre"), max_length=act.POST_MAX, required=False
    )
    started_on = forms.DateField(label=gettext_lazy("Stationed from"), widget=DateInput)


class EndForm(forms.Form):
    ended_on = forms.DateField(label=gettext_lazy("Last day"), widget=DateInput)
    reason = forms.CharField(label=gettext_lazy("Why it ends"), max_length=act.NOTE_MAX)


class RecordForm(forms.Form):
    stationing = forms.IntegerField(widget=forms.HiddenInput)
    day = forms.DateField(label=gettext_lazy("Day"), widget=DateInput)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=act.NOTE_MAX, required=False)


class LeaveForm(forms.Form):
    first_day = forms.DateField(label=gettext_lazy("First day"), widget=DateInput)
    last_day = forms.DateField(label=gettext_lazy("Last day"), widget=DateInput)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=act.REASON_MAX, widget=Textarea(attrs={"rows": 3})
    )


class DecideForm(forms.Form):
    leave = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("approve", gettext_lazy("Approve")), ("refuse", gettext_lazy("Refuse"))],
    )
    note = forms.CharField(
        label=gettext_lazy("Note (required to refuse)"),
        max_length=act.REASON_MAX,
        required=False,
    )


class AssessForm(forms.Form):
    stationing = forms.IntegerField(widget=forms.HiddenInput)
    score = forms.DecimalField(
        label=gettext_lazy("Score (0–100)"), min_value=0, max_value=100, decimal_places=2
    )
    reasons = forms.CharField(
        label=gettext_lazy("Reasons"), max_length=act.REASON_MAX, widget=Textarea(attrs={"rows": 3})
    )


# --- The township's pages ------------------------------------------------------------------


def _roster(township: Jurisdiction) -> list[Stationing]:
    return list(
        Stationing.objects.filter(membership__township=township)
        .select_related("membership__department", "membership__township", "person")
        .order_by("membership__department__name", "ended_on", "person__name")
    )


@login_required
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest) -> HttpResponse:
    person, township, nav = _township_page(request, "roster")
    form = None
    if nav["keeps_roster"]:
        form = StationForm(request.POST if request.method == "POST" else None, township=township)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                membership = form.memberships[data["membership"]]
                chosen = form.people[data["person"]]
            except KeyError:
                form.add_error(None, _("Choose a department and a person from the lists."))
            else:
                try:
                    act.station_person(
                        person,
                        membership,
                        chosen,
                        post=data["post"],
                        started_on=data["started_on"],
                    )
                except TownshipRefused as exc:
                    _refused(form, exc)
                else:
                    messages.success(request, _("The person is on the roster."))
                    return HttpResponseRedirect(
                        reverse("stationed:roster") + f"?township={township.code}"
                    )
    today = timezone.localdate()
    by_department: dict[str, list[Stationing]] = defaultdict(list)
    for stationing in _roster(township):
        stationing.current = stationing.covers(today)  # type: ignore[attr-defined]
        by_department[stationing.membership.department.display_name].append(stationing)
    return render(
        request,
        "desk/stationed/roster.html",
        {**nav, "by_department": dict(by_department), "form": form, "today": today},
        status=400 if form is not None and form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def stationing(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request)
    readable = [t.pk for t in townships_kept(person)]
    found = (
        Stationing.objects.filter(pk=pk, membership__township_id__in=readable)
        .select_related("membership__township", "membership__department", "person")
        .first()
    )
    if found is None:
        raise Http404
    township = found.membership.township
    nav = _nav(township, townships_kept(person), person, "roster")
    bound = request.method == "POST"
    which = request.POST.get("form", "")
    change_form = ChangeForm(
        request.POST if bound and which == "change" else None,
        initial={"post": found.post, "started_on": found.started_on},
    )
    end_form = EndForm(request.POST if bound and which == "end" else None)
    if bound:
        if not nav["keeps_roster"] or found.ended_on is not None:
            raise PermissionDenied
        form: forms.Form = change_form if which == "change" else end_form
        if form.is_valid():
            try:
                if which == "change":
                    act.change_stationing(person, found, **form.cleaned_data)
                else:
                    act.end_stationing(person, found, **form.cleaned_data)
            except TownshipRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("The roster is updated."))
                return HttpResponseRedirect(reverse("stationed:stationing", args=[found.pk]))
    today = timezone.localdate()
    month = _month(request, today.replace(day=1))
    attendance = month_attendance([found], month, today)[found.pk]
    return render(
        request,
        "desk/stationed/stationing.html",
        {
            **nav,
            "stationing": found,
            "change_form": change_form,
            "end_form": end_form,
            "month": month,
            "attendance": attendance,
            "leaves": found.leaves.select_related("decided_by").order_by("-first_day"),
            "assessments": found.assessments.order_by("-month"),
            "log": TownshipLogEntry.objects.filter(stationing=found)
            .select_related("actor")
            .order_by("-at", "-pk")[:50],
        },
        status=400 if bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest) -> HttpResponse:
    person, township, nav = _township_page(request, "attendance")
    today = timezone.localdate()
    form = RecordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not nav["keeps_centre"]:
            raise PermissionDenied
        if form.is_valid():
            target = Stationing.objects.filter(
                pk=form.cleaned_data["stationing"], membership__township=township
            ).first()
            if target is None:
                raise Http404
            try:
                act.record_attendance(
                    person, target, day=form.cleaned_data["day"], note=form.cleaned_data["note"]
                )
            except TownshipRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("The attendance is recorded."))
                return HttpResponseRedirect(
                    reverse("stationed:attendance") + f"?township={township.code}"
                )
    month = _month(request, today.replace(day=1))
    current = [s for s in _roster(township) if s.ended_on is None or s.ended_on >= month]
    months = month_attendance(current, month, today)
    signed_today = set(
        Stationing.objects.filter(
            pk__in=[s.pk for s in current], attendance__day=today
        ).values_list("pk", flat=True)
    )
    rows = [
        {
            "stationing": s,
            "month": months[s.pk],
            "today": s.pk in signed_today,
            "on_duty": s.covers(today),
        }
        for s in current
    ]
    return render(
        request,
        "desk/stationed/attendance.html",
        {**nav, "rows": rows, "month": month, "today": today, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest) -> HttpResponse:
    person, township, nav = _township_page(request, "leave")
    form = DecideForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not nav["decides_leave"]:
            raise PermissionDenied
        if form.is_valid():
            target = StationedLeave.objects.filter(
                pk=form.cleaned_data["leave"], stationing__membership__township=township
            ).first()
            if target is None:
                raise Http404
            try:
                act.decide_leave(
                    person,
                    target,
                    approve=form.cleaned_data["decision"] == "approve",
                    note=form.cleaned_data["note"],
                )
            except TownshipRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("The leave is decided; the person is told."))
                return HttpResponseRedirect(
                    reverse("stationed:leave") + f"?township={township.code}"
                )
    leaves = (
        StationedLeave.objects.filter(stationing__membership__township=township)
        .select_related("stationing__person", "stationing__membership__department", "decided_by")
        .order_by("-asked_at")
    )
    asked = [x for x in leaves if x.state == StationedLeave.State.ASKED]
    decided = [x for x in leaves if x.state != StationedLeave.State.ASKED][:50]
    return render(
        request,
        "desk/stationed/leave.html",
        {**nav, "asked": asked, "decided": decided, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment(request: HttpRequest) -> HttpResponse:
    person, township, nav = _township_page(request, "assessment")
    today = timezone.localdate()
    month = _month(request, _previous_month(today))
    form = AssessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not nav["assesses"]:
            raise PermissionDenied
        if form.is_valid():
            target = Stationing.objects.filter(
                pk=form.cleaned_data["stationing"], membership__township=township
            ).first()
            if target is None:
                raise Http404
            try:
                act.publish_assessment(
                    person,
                    target,
                    month=month,
                    score=form.cleaned_data["score"],
                    reasons=form.cleaned_data["reasons"],
                )
            except TownshipRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("The assessment is published; the department is told."))
                return HttpResponseRedirect(
                    reverse("stationed:assessment")
                    + f"?township={township.code}&month={month:%Y-%m}"
                )
    last = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    people = [
        s
        for s in _roster(township)
        if s.started_on < last and (s.ended_on is None or s.ended_on >= month)
    ]
    months = month_attendance(people, month, min(today, last))
    published = {
        a.stationing_id: a
        for a in StationedAssessment.objects.filter(
            stationing__in=people, month=month
        ).select_related("published_by")
    }
    rows = [
        {"stationing": s, "month": months[s.pk], "assessment": published.get(s.pk)} for s in people
    ]
    return render(
        request,
        "desk/stationed/assessment.html",
        {
            **nav,
            "rows": rows,
            "month": month,
            "month_over": month < today.replace(day=1),
            "previous": _previous_month(month),
            "next": last,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


# --- The stationed person's phone page -----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    today = timezone.localdate()
    current = list(
        own_stationings(person, today).select_related(
            "membership__township", "membership__department"
        )
    )
    everything = list(
        Stationing.objects.filter(person=person).select_related(
            "membership__township", "membership__department"
        )
    )
    if not everything and not has_role(person, *DEPARTMENT_STAFF):
        raise PermissionDenied
    which = request.POST.get("form", "")
    leave_form = LeaveForm(request.POST if which == "leave" else None)
    if request.method == "POST":
        if not current:
            raise PermissionDenied
        stationing = current[0]
        try:
            if which == "sign_in":
                act.sign_in(person, stationing)
                messages.success(request, _("Signed in at the centre."))
                return HttpResponseRedirect(reverse("stationed:mine"))
            if which == "leave" and leave_form.is_valid():
                act.ask_leave(person, stationing, **leave_form.cleaned_data)
                messages.success(request, _("Your leave is asked; the township decides."))
                return HttpResponseRedirect(reverse("stationed:mine"))
        except TownshipRefused as exc:
            if which == "leave":
                _refused(leave_form, exc)
            else:
                messages.error(request, str(exc))
                return HttpResponseRedirect(reverse("stationed:mine"))
    signed = set(
        Stationing.objects.filter(
            pk__in=[s.pk for s in current], attendance__day=today
        ).values_list("pk", flat=True)
    )
    ids = [s.pk for s in everything]
    return render(
        request,
        "desk/stationed/mine.html",
        {
            "current": current,
            "signed_today": bool(current) and current[0].pk in signed,
            "today": today,
            "leave_form": leave_form,
            "leaves": StationedLeave.objects.filter(stationing_id__in=ids)
            .select_related("stationing__membership__township")
            .order_by("-first_day")[:20],
            "assessments": StationedAssessment.objects.filter(stationing_id__in=ids)
            .select_related("stationing__membership__township")
            .order_by("-month")[:24],
        },
        status=400 if request.method == "POST" else 200,
    )


# --- The department's page -----------------------------------------------------------------


@login_required
@require_GET
def department(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    departments = sorted(departments_read(person))
    if not departments:
        raise PermissionDenied
    today = timezone.localdate()
    month = _month(request, _previous_month(today))
    assessments = list(
        StationedAssessment.objects.filter(
            stationing__membership__department_id__in=departments, month=month
        )
        .select_related(
            "stationing__person",
            "stationing__membership__township",
            "stationing__membership__department",
        )
        .order_by(
            "stationing__membership__department__name", "stationing__membership__township__code"
        )
    )
    return render(
        request,
        "desk/stationed/department.html",
        {
            "assessments": assessments,
            "month": month,
            "previous": _previous_month(month),
            "next": (month.replace(day=28) + timedelta(days=4)).replace(day=1),
        },
    )
