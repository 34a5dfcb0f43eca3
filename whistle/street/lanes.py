"""What a lane's public page and its printed signboard (公示牌) show: who answers for the lane
and on which number, the standards it must meet, its problems, and the QR code that opens
the page.

Everything here is public. A chief's or steward's own mobile (`Person.phone`) is personal
data and never appears: only the number given for publication with the post
(`RoleAssignment.public_phone`). A steward is a volunteer, so only the first character of
their name is shown (王*); chiefs are officials answering for the lane by name. Problems
show their category, status and dates: never a description (a resident may have written
a name in it), a photo, an exact position or a reference number (which opens the case's
follow page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.cases.models import Case
from whistle.notifications.conf import site_url
from whistle.organisation.models import Lane, Role, RoleAssignment
from whistle.organisation.personal_data import mask_name
from whistle.patrols.checklist import Item, lane_items
from whistle.street import conf

# The posts a signboard names, in the order it names them.
POSTS = (Role.STREET_CHIEF, Role.LANE_CHIEF, Role.STEWARD)
# Problems listed per kind (open, recently closed); the count says how many there are.
PROBLEMS_LISTED = 20
CLOSED_STATUSES = (Case.Status.CLOSED, Case.Status.EVALUATED)
# A lane's open problems, as the chiefs' and stewards' pages count them (the patrol page
# and the list of lanes): every case on the lane not yet closed, reports the township has
# not screened yet included, since they are on the lane and a chief walking it must not
# report them again.
LANE_OPEN_STATUSES = Case.OPEN_STATUSES
# Reports the township has not screened yet stay off the public page and the signboard: it
# may reject them. The list of lanes says how many of a lane's open problems wait so.
PUBLIC_OPEN_STATUSES = tuple(s for s in LANE_OPEN_STATUSES if s != Case.Status.REPORTED)


def open_problems() -> Q:
    """A lane's open problems (`LANE_OPEN_STATUSES`), as a filter on its cases."""
    return Q(cases__status__in=LANE_OPEN_STATUSES)


@dataclass(frozen=True)
class Holder:
    """One person answering for the lane, as the public sees them."""

    post: str | Promise
    name: str
    phone: str


@dataclass(frozen=True)
class Problem:
    category: str | Promise
    status: str
    status_label: str | Promise
    reported_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Problems:
    listed: list[Problem]
    count: int


@dataclass(frozen=True)
class Board:
    lane: Lane
    url: str
    holders: list[Holder]
    standards: list[Item]
    open: Problems
    closed: Problems
    closed_days: int

    @property
    def printed_url(self) -> str:
        """The address as printed under the QR code for typing: without its scheme, which
        every browser adds."""
        return self.url.split("://", 1)[-1]


def lane_url(lane: Lane) -> str:
    """The lane page's absolute address at the deployment's public address (the one printed
    in every link the product sends), never the address a request happened to use."""
    return f"{site_url()}{lane.get_absolute_url()}"


def holders(lane: Lane) -> list[Holder]:
    rows = (
        RoleAssignment.objects.filter(lane=lane, role__in=POSTS, person__is_active=True)
        .select_related("person")
        .order_by("pk")
    )
    found = []
    for row in rows:
        name = row.person.display_name
        if row.role == Role.STEWARD:
            name = mask_name(name)
        found.append(Holder(Role(row.role).label, name, row.public_phone.strip()))
    order = {str(Role(post).label): i for i, post in enumerate(POSTS)}
    return sorted(found, key=lambda h: order[str(h.post)])


def _problems(cases: list[Case], count: int) -> Problems:
    return Problems(
        [
            Problem(
                case.category.display_name if case.category else _("Other problem"),
                case.status,
                case.get_status_display(),
                case.reported_at,
                case.closed_at,
            )
            for case in cases
        ],
        count,
    )


def board(lane: Lane, now: datetime | None = None) -> Board:
    now = now or timezone.now()
    days = conf.lane_closed_days()
    since = now - timedelta(days=days)
    cases = (
        Case.objects.filter(lane=lane)
        .select_related("category")
        .only("status", "reported_at", "closed_at", "category__name", "category__name_en")
    )
    open_q = Q(status__in=PUBLIC_OPEN_STATUSES)
    closed_q = Q(status__in=CLOSED_STATUSES, closed_at__gte=since)
    counts = Case.objects.filter(lane=lane).aggregate(
        open=Count("pk", filter=open_q), closed=Count("pk", filter=closed_q)
    )
    return Board(
        lane=lane,
        url=lane_url(lane),
        holders=holders(lane),
        standards=lane_items(lane),
        open=_problems(
            list(cases.filter(open_q).order_by("-reported_at")[:PROBLEMS_LISTED]), counts["open"]
        ),
        closed=_problems(
            list(cases.filter(closed_q).order_by("-closed_at")[:PROBLEMS_LISTED]),
            counts["closed"],
        ),
        closed_days=days,
    )


def qr_svg(url: str, *, title: str) -> str:
    """The address as an inline SVG QR code, scaled by its container (no fixed size), with
    the quiet zone of four modules the standard asks for. Error correction M survives a
    scratched or dirty printed board."""
    code = segno.make(url, error="m", micro=False)
    return str(
        code.svg_inline(
            border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr", title=title
        )
    )
