"""Audiences: the people who hold some roles in one unit, told of something as one.

A message to a unit's staff by their roles (a department's officers and head, a township's
command centre) is kept once in the inbox, as one entry shared by its audience, instead of
once for each person: its row names the audience (`Notification.audience`, a key such as
``"township-escalation:34"``), and whoever holds one of the audience's roles in that unit
sees it in their inbox and reads it for themselves (`InboxRead`, `InboxReadThrough`). Someone
who joins a unit finds its earlier entries there too (the unit's record), and someone who
leaves it no longer sees them. Outside the inbox (Web Push,
SMS, e-mail) each person still gets their own message, on their own channels.

The audiences are named here, with the roles each takes in, so that the deadline sweep that
writes to them and the inbox that reads them agree on who belongs to which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import Department, Jurisdiction, Role


@dataclass(frozen=True)
class Audience:
    """The holders of `roles` in one department or one jurisdiction (`scope`)."""

    name: str
    roles: tuple[str, ...]
    scope: Literal["department", "jurisdiction"]
    # Who they are, with the unit's name: "%(unit)s: officers and head".
    label: str | Promise = ""

    def key(self, unit_id: int) -> str:
        """The audience of this unit, as `Notification.audience` names it."""
        return f"{self.name}:{unit_id}"


# A department's people who act on its summonses: reminders and overdues.
DEPARTMENT = Audience(
    "department",
    (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD),
    "department",
    _("%(unit)s: officers and head"),
)
# A department's head: a step of the acknowledgement chain.
DEPARTMENT_HEAD = Audience(
    "department-head", (Role.DEPARTMENT_HEAD,), "department", _("%(unit)s: head")
)
# Who hears of a summons escalated to a township or a district.
TOWNSHIP_ESCALATION = Audience(
    "township-escalation",
    (Role.CHIEFS_OFFICE, Role.TOWNSHIP_CHIEF, Role.DISPATCHER),
    "jurisdiction",
    _("%(unit)s: chiefs' office, chief of lanes and dispatchers"),
)
DISTRICT_ESCALATION = Audience(
    "district-escalation",
    (Role.CHIEFS_OFFICE, Role.DISTRICT_CHIEF),
    "jurisdiction",
    _("%(unit)s: chiefs' office and chief of lanes"),
)
# A township's command centre: a backlog case's review date, a hotline caller's late reply.
TOWNSHIP_DESK = Audience(
    "township-desk",
    (Role.DISPATCHER, Role.TOWNSHIP_CHIEF),
    "jurisdiction",
    _("%(unit)s: dispatchers and chief of lanes"),
)
# A township's dispatchers, who rule on a department's decline: the decline still waiting for
# their ruling while the summons' clock runs.
TOWNSHIP_DISPATCHERS = Audience(
    "township-dispatchers", (Role.DISPATCHER,), "jurisdiction", _("%(unit)s: dispatchers")
)
# A township's chief of lanes: a step of the acknowledgement chain.
TOWNSHIP_CHIEF = Audience(
    "township-chief", (Role.TOWNSHIP_CHIEF,), "jurisdiction", _("%(unit)s: chief of lanes")
)

AUDIENCES: tuple[Audience, ...] = (
    DEPARTMENT,
    DEPARTMENT_HEAD,
    TOWNSHIP_ESCALATION,
    DISTRICT_ESCALATION,
    TOWNSHIP_DESK,
    TOWNSHIP_DISPATCHERS,
    TOWNSHIP_CHIEF,
)
_BY_NAME = {audience.name: audience for audience in AUDIENCES}
_BY_ROLE: dict[str, tuple[Audience, ...]] = {
    role: tuple(audience for audience in AUDIENCES if role in audience.roles) for role in Role
}


def audiences_of(rows: Iterable[tuple[Any, ...]]) -> set[str]:
    """The audiences that a person's roles make them part of, from their (role, department,
    jurisdiction) rows. The inbox reads them with the roles the person acts in (`held_by`:
    those an API token carries), and an account that is not active belongs to none
    (`whistle.notifications.outbox.Reading`)."""
    found: set[str] = set()
    for role, department_id, jurisdiction_id in rows:
        for audience in _BY_ROLE.get(role, ()):
            unit = department_id if audience.scope == "department" else jurisdiction_id
            if unit is not None:
                found.add(audience.key(unit))
    return found


def describe(keys: Iterable[str]) -> dict[str, str]:
    """Each audience key in words, with its unit's name (two queries at most); a key of no
    known audience, or of a unit since removed, as it is."""
    asked = list(keys)
    parsed: dict[str, tuple[Audience, int]] = {}
    for key in asked:
        name, _sep, unit = key.rpartition(":")
        audience = _BY_NAME.get(name)
        if audience is not None and unit.isdigit():
            parsed[key] = (audience, int(unit))
    units: dict[str, set[int]] = {"department": set(), "jurisdiction": set()}
    for audience, unit_id in parsed.values():
        units[audience.scope].add(unit_id)
    names: dict[str, dict[int, str]] = {"department": {}, "jurisdiction": {}}
    if units["department"]:
        names["department"] = {
            d.pk: d.display_name
            for d in Department.objects.filter(pk__in=units["department"]).only("name", "name_en")
        }
    if units["jurisdiction"]:
        names["jurisdiction"] = {
            j.pk: j.display_name
            for j in Jurisdiction.objects.filter(pk__in=units["jurisdiction"]).only(
                "name", "name_en"
            )
        }
    found = {key: key for key in asked}
    for key, (audience, unit_id) in parsed.items():
        unit_name = names[audience.scope].get(unit_id)
        if unit_name is not None:
            found[key] = str(audience.label) % {"unit": unit_name}
    return found
