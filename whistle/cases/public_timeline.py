"""What anyone may follow of a case by its reference number: a timeline in plain words,
without names, notes, positions or phone numbers. The residents' follow page shows it, and the
API gives it to a resident who reported the case (`GET /api/v1/cases/{reference}/timeline`),
who sees nothing more of the case's trail there than on the page.

The follow page shows the resident signed in with the account they reported with what they
sent, the description and the photos (`own_report`); nobody else, whatever they hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions import resident_may_rate
from whistle.cases.models import Attachment, Case
from whistle.cases.trail import EventKind

# The photos of a case that its follow page publishes (re-encoded, without EXIF).
RESULT_PURPOSES = (Attachment.Purpose.RESULT, Attachment.Purpose.CHECK)
# The photos a resident sent with their report: shown back to them alone (`own_report`).
REPORT_PURPOSES = (Attachment.Purpose.REPORT,)
# The statuses in which the resident who reported a case may rate its result.
RATABLE = (Case.Status.CLOSED, Case.Status.EVALUATED)

ARRIVED = _("%(department)s arrived on site")
# A department the township let go reads the same whether its part was done, it was not
# needed after all, or the township agreed that the matter is not its own: the
# reason and the township's note stay on the township's pages.
RELEASED = _("The township released %(department)s from this case")

# The trail events shown to the public and how they read: what became of each department
# called (summoned, arrived, done, or released). Refused check-ins, declines, reminders and
# deadlines missed stay on the township's pages: they are about people's work, not the
# problem's progress. A flagged check-in reads as the arrival only once the township
# confirmed it (`timeline`).
PUBLIC_EVENTS: dict[str, Promise] = {
    EventKind.CASE_REPORTED: _("Problem reported"),
    EventKind.CASE_FILED: _("Taken up by the township"),
    EventKind.CASE_REJECTED: _("Not taken up by the township"),
    EventKind.CASE_MERGED: _("Joined to an earlier report of the same problem"),
    EventKind.SOLVED_ON_SPOT: _("Solved on the spot"),
    EventKind.DISPATCHED: _("Sent to the department responsible"),
    EventKind.WHISTLE_BLOWN: _("The township blew the whistle"),
    EventKind.SUMMONED: _("%(department)s summoned"),
    EventKind.CHECK_IN_ACCEPTED: ARRIVED,
    EventKind.CHECK_IN_FLAGGED: ARRIVED,
    EventKind.RESULT: _("%(department)s reported its work done"),
    EventKind.RELEASED: RELEASED,
    EventKind.DECLINE_UPHELD: RELEASED,
    EventKind.HANDLED: _("Resolved, waiting for the check on site"),
    EventKind.CHECK_PASSED: _("Checked on site"),
    EventKind.REWORK: _("Sent back: not solved yet"),
    EventKind.CLOSED: _("Case closed"),
    EventKind.BACKLOG: _("Needs longer: kept on the open backlog"),
    EventKind.BACKLOG_RESUMED: _("Work resumed"),
    EventKind.ESCALATED: _("Escalated to the chiefs' office"),  # of no level named
    EventKind.EVALUATED: _("Handling assessed by the township"),
    EventKind.RESIDENT_CALLBACK: _("The township called the resident back"),
    EventKind.HOTLINE_REPLIED: _("The township replied to the caller"),
    EventKind.HOTLINE_FINAL_REPLIED: _("The township gave the caller the result"),
    EventKind.RESIDENT_RATED: _("The resident rated the result"),
}

# An escalation names where it went: the township's chiefs' office first, the district's next.
ESCALATED_TO: dict[str, Promise] = {
    "township": _("Escalated to the township chiefs' office"),
    "district": _("Escalated to the district chiefs' office"),
}


@dataclass(frozen=True)
class PublicEntry:
    at: datetime
    text: str


def _escalated_to(data: dict) -> str:
    """The level an escalation reached: the sweep's event names it, one by hand records the
    case's escalation before and after."""
    if "level" in data:
        return str(data["level"])
    before_after = data.get("changes", {}).get("escalation") or ["", ""]
    return str(before_after[-1])


def timeline(case: Case) -> list[PublicEntry]:
    events = list(
        case.events.filter(kind__in=[*PUBLIC_EVENTS, EventKind.CHECK_IN_CONFIRMED])
        .select_related("summons__department")
        .order_by("seq")
    )
    # A flagged check-in that the township rejected, or has not ruled on yet, is no arrival.
    confirmed = {
        event.data.get("check_in_seq")
        for event in events
        if event.kind == EventKind.CHECK_IN_CONFIRMED
    }
    entries = []
    for event in events:
        if event.kind == EventKind.CHECK_IN_CONFIRMED or (
            event.kind == EventKind.CHECK_IN_FLAGGED and event.seq not in confirmed
        ):
            continue
        department = event.summons.department.display_name if event.summons else ""
        said = PUBLIC_EVENTS[event.kind]
        if event.kind == EventKind.ESCALATED:
            said = ESCALATED_TO.get(_escalated_to(event.data), said)
        text = str(said) % {"department": department or _("A department")}
        entries.append(PublicEntry(event.at, text))
    return entries


def _photos(case: Case, purposes: tuple[str, ...]) -> list[Attachment]:
    return list(
        Attachment.objects.filter(case=case, purpose__in=purposes).order_by("uploaded_at", "pk")
    )


def result_photos(case: Case) -> list[Attachment]:
    return _photos(case, RESULT_PURPOSES)


@dataclass(frozen=True)
class OwnReport:
    """What a resident reported, as the follow page shows it back to them."""

    description: str
    photos: list[Attachment]


def sees_own_report(case: Case, person: Any) -> bool:
    """Whether `person` is the resident signed in with the account that reported the case,
    whose data has not been erased. Neither the reference nor the follow link's key is
    enough: both are passed on (the link to be followed, the reference to the departments),
    and what a resident wrote may name them."""
    return case.personal_data_erased_at is None and resident_may_rate(case, person=person)


def own_report(case: Case, person: Any) -> OwnReport | None:
    """The description and photos of the case, for the resident who reported it alone."""
    if not sees_own_report(case, person):
        return None
    return OwnReport(case.description, _photos(case, REPORT_PURPOSES))
