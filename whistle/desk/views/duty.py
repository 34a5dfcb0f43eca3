"""Duty rosters: who is on duty now and next, the coming days on the working calendar, swaps
and covers (each through `whistle.duty.actions`, which records who approved it), the
rotations kept on a form or as a CSV or XLSX file, out and in.

A department's rosters are seen by its officers and head and kept by the head; a township's
(its command centre, and its enforcement centre's departments) are seen and kept by its
dispatchers and chief of lanes. Anyone on a roster sees it and may ask for a swap. A roster
outside these is not found (404).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whistle.desk.views.common import refuse_post
from whistle.duty import actions, transfer
from whistle.duty.errors import DutyRefused, InvalidDutyInput
from whistle.duty.models import DutyChange, Roster, RosterLogEntry, Rotation
from whistle.duty.permissions import (
    DEPARTMENT_MANAGERS,
    DEPARTMENT_STAFF,
    TOWNSHIP_MANAGERS,
    eligible_people,
    grants,
    manager_role,
    viewer_role,
)
from whistle.duty.schedule import Shift, board, days_ahead
from whistle.organisation.models import CentreMembership, Department, Jurisdiction, Person
from whistle.web.forms import DateInput, DateTimeInput, Textarea, place_action_error

DAYS_SHOWN = 14
LOG_SHOWN = 30
LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
# Roles that open the roster pages: a department's staff, a township's keepers.
ROSTER_ROLES = (*DEPARTMENT_STAFF, *TOWNSHIP_MANAGERS)


# --- Which rosters a person sees -----------------------------------------------------------


def _scopes(person: Any) -> tuple[set[int], set[int]]:
    """The departments whose staff the person is, and the townships they keep rosters of."""
    held = grants(person)
    departments = {d for role, _j, d in held if role in DEPARTMENT_STAFF and d}
    townships = {j for role, j, _d in held if role in TOWNSHIP_MANAGERS and j}
    return departments, townships


def visible_rosters(person: Any) -> list[Roster]:
    departments, townships = _scopes(person)
    rosters = Roster.objects.filter(
        Q(department_id__in=sorted(departments))
        | Q(township_id__in=sorted(townships))
        | Q(rotations__members__person=person)
    ).distinct()
    return list(
        rosters.select_related("department", "township").order_by(
            "township__code", "department__name", "pk"
        )
    )


def _startable(person: Any, existing: list[Roster]) -> list[dict[str, Any]]:
    """The rosters the person keeps that have not been started: a head's department's, a
    township's command centre's and its enforcement centre members'."""
    held = grants(person)
    have = {(r.department_id, r.township_id) for r in existing}
    found: list[dict[str, Any]] = []
    heads = sorted({d for role, _j, d in held if role in DEPARTMENT_MANAGERS and d})
    for department in Department.objects.filter(pk__in=heads).order_by("name"):
        if (department.pk, None) not in have:
            found.append(
                {"department": department, "township": None, "label": department.display_name}
            )
    townships = sorted({j for role, j, _d in held if role in TOWNSHIP_MANAGERS and j})
    for township in Jurisdiction.objects.filter(
        pk__in=townships, level=Jurisdiction.Level.TOWNSHIP
    ).order_by("code"):
        if (None, township.pk) not in have:
            label = _("%(township)s command centre") % {"township": township.display_name}
            found.append({"department": None, "township": township, "label": label})
    memberships = (
        CentreMembership.objects.filter(township_id__in=townships)
        .select_related("department", "township")
        .order_by("township__code", "role", "department__name")
    )
    for membership in memberships:
        if (membership.department_id, membership.township_id) not in have:
            found.append(
                {
                    "department": membership.department,
                    "township": membership.township,
                    "label": (
                        f"{membership.township.display_name} · {membership.department.display_name}"
                    ),
                }
            )
    return found


def _person(request: HttpRequest) -> Person:
    """The signed-in person (the views are behind `login_required`)."""
    return cast(Person, request.user)


def _roster_or_404(request: HttpRequest, pk: int) -> tuple[Roster, str, str | None]:
    """The roster with the person's roles on it: seeing (404 without) and keeping."""
    roster = Roster.objects.select_related("department", "township").filter(pk=pk).first()
    if roster is None:
        raise Http404
    seen = viewer_role(request.user, roster)
    if seen is None:
        raise Http404
    return roster, seen, manager_role(request.user, roster)


# --- Forms ---------------------------------------------------------------------------------


class CoverForm(forms.Form):
    person = forms.TypedChoiceField(label=gettext_lazy("Takes the duty"), coerce=int)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("From"),
        widget=DateTimeInput(),
        input_formats=LOCAL_INPUT,
        help_text=gettext_lazy("Beijing time."),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until"),
        widget=DateTimeInput(),
        input_formats=LOCAL_INPUT,
        help_text=gettext_lazy("Beijing time."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=actions.REASON_MAX,
        widget=Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, roster: Roster, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "cover")
        super().__init__(*args, **kwargs)
        self.people = {p.pk: p for p in eligible_people(roster)}
        field = self.fields["person"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *((p.pk, p.display_name) for p in self.people.values())]
        if not self.is_bound:
            start = timezone.localtime().replace(second=0, microsecond=0) + timedelta(hours=1)
            self.initial.update(starts_at=start, ends_at=start + timedelta(hours=12))


def _shift_key(shift: Shift) -> str:
    return shift.starts_at.isoformat()


def _shift_label(shift: Shift) -> str:
    start = timezone.localtime(shift.starts_at)
    name = shift.person.display_name if shift.person is not None else "—"
    return f"{start:%m-%d} {shift.span} {name}"


class SwapForm(forms.Form):
    mine = forms.ChoiceField(label=gettext_lazy("My shift"))
    theirs = forms.ChoiceField(label=gettext_lazy("In exchange for"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=actions.REASON_MAX,
        widget=Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, mine: list[Shift], theirs: list[Shift], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "swap")
        super().__init__(*args, **kwargs)
        mine_field = self.fields["mine"]
        theirs_field = self.fields["theirs"]
        assert isinstance(mine_field, forms.ChoiceField)
        assert isinstance(theirs_field, forms.ChoiceField)
        mine_field.choices = [(_shift_key(s), _shift_label(s)) for s in mine]
        theirs_field.choices = [(_shift_key(s), _shift_label(s)) for s in theirs]

    def moment(self, name: str) -> datetime:
        return datetime.fromisoformat(self.cleaned_data[name])


class KeeperSwapForm(forms.Form):
    """A keeper trades two other people's coming shifts."""

    first = forms.ChoiceField(label=gettext_lazy("This shift"))
    second = forms.ChoiceField(label=gettext_lazy("Trades places with"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=actions.REASON_MAX,
        widget=Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, shifts: list[Shift], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "trade")
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((_shift_key(s), _shift_label(s)) for s in shifts)]
        for name in ("first", "second"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

    def moment(self, name: str) -> datetime:
        return datetime.fromisoformat(self.cleaned_data[name])


class RotationForm(forms.Form):
    """A rotation's days, handovers, turn and first day; its members are `MemberForm`s."""

    days = forms.ChoiceField(label=gettext_lazy("Days"), choices=Rotation.Days.choices)
    handovers = forms.CharField(
        label=gettext_lazy("Handover times"),
        max_length=60,
        help_text=gettext_lazy("Beijing time, e.g. 08:00,20:00 for a day and a night shift"),
    )
    turn = forms.ChoiceField(
        label=gettext_lazy("The turn passes on"), choices=Rotation.Turn.choices
    )
    starts_on = forms.DateField(
        label=gettext_lazy("Starts on"),
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("The first member is on duty on this day"),
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Ends on"),
        required=False,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("The last duty day of the rotation; blank: until it is changed"),
    )
    post_lon = forms.FloatField(
        label=gettext_lazy("On-duty position longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        help_text=gettext_lazy(
            "Where the person on duty waits (WGS-84), for the 30-minute reach; blank: the "
            "station of the department"
        ),
    )
    post_lat = forms.FloatField(
        label=gettext_lazy("On-duty position latitude"),
        required=False,
        min_value=-90,
        max_value=90,
    )

    def __init__(self, *args: Any, rotation: Rotation | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if rotation is not None:
            # The days are what a rotation is for: another kind of day is another rotation.
            self.fields["days"].disabled = True
            self.initial.update(
                days=rotation.days,
                handovers=rotation.handovers,
                turn=rotation.turn,
                starts_on=rotation.starts_on,
                ends_on=rotation.ends_on,
                post_lon=rotation.post_lon,
                post_lat=rotation.post_lat,
            )
        elif not self.is_bound:
            self.initial.update(
                days=Rotation.Days.EVERY_DAY,
                handovers="08:00",
                turn=Rotation.Turn.DAY,
                starts_on=timezone.localdate(),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("post_lon") is None) != (data.get("post_lat") is None):
            raise forms.ValidationError(
                _("Enter both the longitude and the latitude of the on-duty position.")
            )
        return data

    @property
    def post(self) -> tuple[float, float] | None:
        lon, lat = self.cleaned_data.get("post_lon"), self.cleaned_data.get("post_lat")
        return (lon, lat) if lon is not None and lat is not None else None


class MemberForm(forms.Form):
    """One turn of the rotation; a row without a person is left out."""

    position = forms.IntegerField(
        label=gettext_lazy("Order"),
        required=False,
        min_value=1,
        max_value=actions.MAX_MEMBERS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    person = forms.TypedChoiceField(
        label=gettext_lazy("On duty"), coerce=int, required=False, empty_value=None
    )
    backup = forms.TypedChoiceField(
        label=gettext_lazy("Backup"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("Blank: the next member."),
    )

    def __init__(self, *args: Any, people: dict[int, Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((p.pk, p.display_name) for p in people.values())]
        for name in ("person", "backup"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices


MemberForms = forms.formset_factory(
    MemberForm, extra=3, max_num=actions.MAX_MEMBERS, validate_max=True
)


def _members(formset: Any, people: dict[int, Person]) -> list[tuple[Person, Person | None]]:
    """The filled rows in their order: by the order given, else as the rows stand."""
    rows = [
        (form.cleaned_data.get("position") or number, number, form.cleaned_data)
        for number, form in enumerate(formset.forms, start=1)
        if form.cleaned_data.get("person") is not None
    ]
    return [
        (people[data["person"]], people[data["backup"]] if data.get("backup") else None)
        for _position, _number, data in sorted(rows, key=lambda row: row[:2])
    ]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File to import"),
        help_text=gettext_lazy("A CSV or XLSX file laid out as the export."),
    )


# --- Pages ---------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Every roster the person sees with who is on duty now and next; the ones they keep
    and have not started yet."""
    departments, townships = _scopes(request.user)
    rosters = visible_rosters(request.user)
    if not departments and not townships and not rosters:
        raise PermissionDenied
    now = timezone.now()
    return render(
        request,
        "desk/duty/home.html",
        {
            "duty": board(rosters, now),
            "startable": _startable(request.user, rosters),
            "now": now,
        },
    )


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Start a roster the person keeps (a department's, a township's, a centre member's)."""
    wanted = (request.POST.get("department", ""), request.POST.get("township", ""))
    rosters = visible_rosters(request.user)
    chosen = next(
        (
            s
            for s in _startable(request.user, rosters)
            if (
                str(s["department"].pk) if s["department"] else "",
                str(s["township"].pk) if s["township"] else "",
            )
            == wanted
        ),
        None,
    )
    if chosen is None:
        refuse_post(request)
        return HttpResponseRedirect(reverse("duty:home"))
    try:
        roster = actions.start_roster(
            _person(request), department=chosen["department"], township=chosen["township"]
        )
    except DutyRefused as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("duty:home"))
    return HttpResponseRedirect(reverse("duty:roster", args=[roster.pk]))


def _coming(days: list[Any], person: Any, now: datetime) -> tuple[list[Shift], list[Shift]]:
    """The shifts not begun yet: the person's, and everyone else's."""
    shifts = [s for d in days for s in d.shifts if s.starts_at > now and s.person is not None]
    mine = [s for s in shifts if s.person_id == person.pk]
    theirs = [s for s in shifts if s.person_id != person.pk]
    return mine, theirs


def _change(roster: Roster, key: str) -> DutyChange:
    try:
        wanted = uuid.UUID(hex=key)
    except ValueError:
        raise Http404 from None
    change = DutyChange.objects.filter(roster=roster, uuid=wanted).first()
    if change is None:
        raise Http404
    return change


def _perform(
    request: HttpRequest,
    roster: Roster,
    keeper: str | None,
    mine: list[Shift],
    theirs: list[Shift],
) -> tuple[HttpResponse | None, dict[str, Any]]:
    """Carry out the posted operation: a redirect when it was done, else the bound forms
    with their errors."""
    op = request.POST.get("op", "")
    forms_: dict[str, Any] = {}
    done = ""
    try:
        if op == "cover":
            form = CoverForm(request.POST, roster=roster)
            forms_["cover"] = form
            if keeper is None:
                raise PermissionDenied
            if form.is_valid():
                cover = actions.cover_shift(
                    _person(request),
                    roster,
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    person=form.people[form.cleaned_data["person"]],
                    reason=form.cleaned_data["reason"],
                )
                done = (
                    _("The cover is set.")
                    if cover.status == DutyChange.Status.APPROVED
                    else _(
                        "The cover puts you on duty or takes you off it: it is asked for, and "
                        "another keeper of the roster decides."
                    )
                )
        elif op == "swap":
            swap = SwapForm(request.POST, mine=mine, theirs=theirs)
            forms_["swap"] = swap
            if swap.is_valid():
                actions.request_swap(
                    _person(request),
                    roster,
                    mine_at=swap.moment("mine"),
                    theirs_at=swap.moment("theirs"),
                    reason=swap.cleaned_data["reason"],
                )
                done = _("The swap is asked for; a keeper of the roster decides.")
        elif op == "trade":
            trade = KeeperSwapForm(request.POST, shifts=theirs)
            forms_["trade"] = trade
            if keeper is None:
                raise PermissionDenied
            if trade.is_valid():
                actions.swap_shifts(
                    _person(request),
                    roster,
                    first_at=trade.moment("first"),
                    second_at=trade.moment("second"),
                    reason=trade.cleaned_data["reason"],
                )
                done = _("The two shifts are swapped.")
        elif op in ("approve", "refuse"):
            change = _change(roster, request.POST.get("change", ""))
            actions.decide_change(_person(request), change, approve=op == "approve")
            decided: dict[tuple[str, str], str] = {
                (DutyChange.Kind.SWAP, "approve"): _("The swap is approved."),
                (DutyChange.Kind.SWAP, "refuse"): _("The swap is refused."),
                (DutyChange.Kind.COVER, "approve"): _("The cover is approved."),
                (DutyChange.Kind.COVER, "refuse"): _("The cover is refused."),
            }
            done = decided[(change.kind, op)]
        elif op == "withdraw":
            actions.withdraw_change(
                _person(request), _change(roster, request.POST.get("change", ""))
            )
            done = _("The request is withdrawn.")
        elif op == "cancel":
            actions.cancel_change(_person(request), _change(roster, request.POST.get("change", "")))
            done = _("The swap or cover is cancelled.")
        elif op == "import":
            if keeper is None:
                raise PermissionDenied
            upload = ImportForm(request.POST, request.FILES)
            forms_["import"] = upload
            if upload.is_valid():
                report = _import(request, roster, upload.cleaned_data["file"])
                if report.ok:
                    done = _(
                        "The roster now has %(rotations)s rotation(s) with %(members)s turn(s)."
                    ) % {"rotations": report.rotations, "members": report.members}
                else:
                    forms_["import_errors"] = report.errors
        else:
            refuse_post(request)
            forms_["bad"] = True
    except DutyRefused as exc:
        bound_form: forms.Form | None = (
            forms_.get("cover") or forms_.get("swap") or forms_.get("trade")
        )
        moments = {
            "mine_at": "mine",
            "theirs_at": "theirs",
            "first_at": "first",
            "second_at": "second",
        }
        if bound_form is not None and exc.field in bound_form.fields:
            bound_form.add_error(exc.field, str(exc))
        elif bound_form is not None and moments.get(exc.field or "") in bound_form.fields:
            bound_form.add_error(moments[exc.field or ""], str(exc))
        elif bound_form is not None:
            place_action_error(bound_form, exc, None, invalid=isinstance(exc, InvalidDutyInput))
        else:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("duty:roster", args=[roster.pk])), forms_
    if done:
        messages.success(request, done)
        return HttpResponseRedirect(reverse("duty:roster", args=[roster.pk])), forms_
    return None, forms_


def _import(request: HttpRequest, roster: Roster, upload: Any) -> transfer.ImportReport:
    try:
        rows = transfer.read_rows(upload.name or "", upload.read(transfer.MAX_BYTES + 1))
    except transfer.UnreadableFile as exc:
        report = transfer.ImportReport()
        report.errors.append((0, str(exc)))
        return report
    return transfer.import_roster(_person(request), roster, rows)


@login_required
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    roster, _seen, keeper = _roster_or_404(request, pk)
    now = timezone.now()
    days = days_ahead(roster, timezone.localdate(now), DAYS_SHOWN)
    mine, theirs = _coming(days, request.user, now)
    bound: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        done, bound = _perform(request, roster, keeper, mine, theirs)
        if done is not None:
            return done
        status = 400
    changes = list(
        DutyChange.objects.filter(roster=roster)
        .filter(Q(status=DutyChange.Status.REQUESTED) | Q(status=DutyChange.Status.APPROVED))
        .filter(Q(ends_at__gt=now) | Q(swap_ends_at__gt=now))
        .select_related("person", "replaces", "requested_by", "decided_by")
        .order_by("starts_at", "pk")
    )
    rotations = list(
        Rotation.objects.filter(roster=roster)
        .prefetch_related("members__person", "members__backup")
        .order_by("days")
    )
    log = list(
        RosterLogEntry.objects.filter(roster=roster)
        .select_related("actor", "change")
        .order_by("-at", "-pk")[:LOG_SHOWN]
    )
    (duty,) = board([roster], now)
    context = {
        "roster": roster,
        "keeper": keeper,
        "duty": [duty],
        "now": now,
        "days": days,
        "rotations": rotations,
        "changes": changes,
        "log": log,
        "cover_form": bound.get("cover") or (CoverForm(roster=roster) if keeper else None),
        "swap_form": bound.get("swap") or (SwapForm(mine=mine, theirs=theirs) if mine else None),
        "trade_form": bound.get("trade")
        or (
            KeeperSwapForm(shifts=theirs)
            if keeper and len({s.person_id for s in theirs}) > 1
            else None
        ),
        "import_form": bound.get("import") or (ImportForm() if keeper else None),
        "import_errors": bound.get("import_errors") or [],
    }
    return render(request, "desk/duty/roster.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rotation(request: HttpRequest, pk: int, rotation_pk: int | None = None) -> HttpResponse:
    """Add a rotation to the roster, or change or remove one; for its keepers only."""
    roster, _seen, keeper = _roster_or_404(request, pk)
    if keeper is None:
        raise PermissionDenied
    current = None
    if rotation_pk is not None:
        current = (
            Rotation.objects.filter(roster=roster, pk=rotation_pk)
            .prefetch_related("members__person", "members__backup")
            .first()
        )
        if current is None:
            raise Http404
    people = {p.pk: p for p in eligible_people(roster)}
    turns = sorted(current.members.all(), key=lambda m: m.position) if current else []
    # Someone no longer allowed on the roster stays visible on it until the keeper acts.
    for turn in turns:
        for someone in (turn.person, turn.backup):
            if someone is not None:
                people.setdefault(someone.pk, someone)
    back = reverse("duty:roster", args=[roster.pk]) + "#rotations"
    data = request.POST if request.method == "POST" else None
    if data is not None and data.get("op") == "remove" and current is not None:
        try:
            actions.remove_rotation(_person(request), current)
        except DutyRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The rotation is removed."))
        return HttpResponseRedirect(back)
    form = RotationForm(data, rotation=current)
    formset = MemberForms(
        data,
        prefix="members",
        initial=[
            {
                "position": t.position,
                "person": t.person_id,
                "backup": t.backup_id,
            }
            for t in turns
        ],
        form_kwargs={"people": people},
    )
    status = 200
    if data is not None:
        if data.get("op") != "save":
            refuse_post(request)
            status = 400
        elif form.is_valid() and formset.is_valid():
            try:
                actions.save_rotation(
                    _person(request),
                    roster,
                    days=form.cleaned_data["days"],
                    handovers=form.cleaned_data["handovers"],
                    turn=form.cleaned_data["turn"],
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    members=_members(formset, people),
                    post=form.post,
                )
            except DutyRefused as exc:
                place_action_error(form, exc, exc.field, invalid=isinstance(exc, InvalidDutyInput))
            else:
                messages.success(request, _("The rotation is saved."))
                return HttpResponseRedirect(back)
        status = 400
    return render(
        request,
        "desk/duty/rotation.html",
        {"roster": roster, "rotation": current, "form": form, "formset": formset},
        status=status,
    )


def _download(rows: list[list[Any]], title: str, name: str, file_format: str) -> HttpResponse:
    if file_format not in ("csv", "xlsx"):
        raise Http404
    if file_format == "xlsx":
        response = HttpResponse(transfer.to_xlsx(rows, title), content_type=transfer.XLSX_TYPE)
    else:
        response = HttpResponse(transfer.to_csv(rows), content_type=transfer.CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def export(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    """The rotations in the reader's language, as the import reads them back."""
    roster, _seen, _keeper = _roster_or_404(request, pk)
    return _download(transfer.rows_of(roster), str(roster), f"duty-roster-{roster.pk}", file_format)


@login_required
@require_GET
def export_shifts(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    """Who is on duty in each shift of the coming days the page shows, swaps and covers
    laid over."""
    roster, _seen, _keeper = _roster_or_404(request, pk)
    first = timezone.localdate()
    return _download(
        transfer.shift_rows(roster, first, DAYS_SHOWN),
        str(roster),
        f"duty-shifts-{roster.pk}-{first:%Y-%m-%d}",
        file_format,
    )
