"""The demo's duty rosters: the demo township's command centre, its urban-management team in
the township's enforcement centre and the team's own roster that its head keeps (the demo's
department head), and the district's urban-management bureau, so that the command centre,
the department desk and the roster pages show who is on duty on first start.

Runs last (whistle.demo.builders.BUILDERS), so the case history is heard as it was before.
Everything goes through the roster actions, as the system; running it again changes nothing
(a roster is started once, an unchanged rotation is not saved again).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from whistle.demo.data import places
from whistle.demo.logins import DEMO_SLUG
from whistle.duty import actions
from whistle.duty.models import Roster, Rotation
from whistle.duty.permissions import SYSTEM_ROLE, eligible_people
from whistle.organisation.models import Person

# The first turns of every demo rotation.
FIRST_DAY = date(2026, 1, 5)
MEMBERS = 4


def _rotation(
    roster: Roster,
    days: str,
    handovers: str,
    turn: str,
    people: list[Person],
    post: tuple[float, float] | None = None,
) -> None:
    actions.save_rotation(
        None,
        roster,
        days=days,
        handovers=handovers,
        turn=turn,
        starts_on=FIRST_DAY,
        members=[(p, None) for p in people],
        post=post,
        system_role=SYSTEM_ROLE,
    )


def _people(
    roster: Roster, first: list[Person], leave_out: tuple[Person, ...] = ()
) -> list[Person]:
    """The demo logins first, then the others who may stand on the roster, by name."""
    taken = {p.pk for p in [*first, *leave_out]}
    others = [p for p in eligible_people(roster) if p.pk not in taken]
    return [*first, *others][:MEMBERS]


def build(city: Any) -> str:
    township = city.demo_township
    logins = city.logins
    before = Roster.objects.count()

    command = actions.start_roster(None, township=township, system_role=SYSTEM_ROLE)
    _rotation(
        command,
        Rotation.Days.EVERY_DAY,
        "08:30",
        Rotation.Turn.DAY,
        [logins["dispatcher"], logins["township-chief"], logins["township-assessor"]],
    )

    team = city.departments[f"{places.DISTRICT_SLUG}-{DEMO_SLUG}-cgzfd"]
    centre = actions.start_roster(None, department=team, township=township, system_role=SYSTEM_ROLE)
    head = logins["department-head"]
    people = _people(centre, [logins["officer-urban"]], leave_out=(head,))
    # On working days the urban-management team's person on duty waits at a post in the
    # township's north-east quarter (the 30-minute reach counts from there).
    west, south, east, north = places.township(township.code).extent
    post = (round(west + (east - west) * 0.75, 5), round(south + (north - south) * 0.75, 5))
    _rotation(centre, Rotation.Days.WORKING_DAYS, "08:00,20:00", Rotation.Turn.SHIFT, people, post)
    _rotation(centre, Rotation.Days.REST_DAYS, "09:00", Rotation.Turn.DAY, people[::-1])

    # The team's own roster, kept by its head: it answers when nobody stands in the centre.
    team_own = actions.start_roster(None, department=team, system_role=SYSTEM_ROLE)
    _rotation(
        team_own, Rotation.Days.EVERY_DAY, "08:00", Rotation.Turn.DAY, _people(team_own, [head])
    )

    bureau = city.departments[f"{places.DISTRICT_SLUG}-cgzfj"]
    own = actions.start_roster(None, department=bureau, system_role=SYSTEM_ROLE)
    _rotation(own, Rotation.Days.EVERY_DAY, "08:00", Rotation.Turn.DAY, _people(own, []))
    started = Roster.objects.count() - before
    return _("Duty rosters: %(n)s started, %(total)s in all.") % {
        "n": started,
        "total": Roster.objects.count(),
    }
