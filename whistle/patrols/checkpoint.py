"""What a trail checkpoint commits to of the patrols and of the chiefs' appointment log
(whistle.cases.checkpoints).

Patrol events are the patrols' trail: a leaf per patrol holds its public id, how many
events it had and a digest chained over them in their stored order, so that a later check
shows a patrol removed or one of its committed events changed or removed. The appointment
log has a leaf per entry (`entry_leaves`), so that one changed or removed is named.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from whistle.cases.checkpoints import LeafKind, chained_digest, entry_leaves
from whistle.cases.verify import Problem
from whistle.patrols.models import AppointmentEvent, Patrol, PatrolEvent


def _events(patrol_ids: list[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    events = PatrolEvent.objects.order_by("patrol_id", "pk")
    if patrol_ids is not None:
        events = events.filter(patrol_id__in=patrol_ids)
    grouped: dict[int, list[dict[str, Any]]] = {}
    columns = ("patrol_id", "at", "kind", "actor_id", "data")
    for patrol_id, at, kind, actor, data in events.values_list(*columns).iterator(chunk_size=5000):
        moment = at.isoformat(timespec="microseconds")
        grouped.setdefault(patrol_id, []).append(
            {"at": moment, "kind": kind, "actor": actor, "data": data}
        )
    return grouped


def build() -> list[list[Any]]:
    events = _events()
    return [
        ["patrol", str(uuid), len(events.get(pk, [])), chained_digest(events.get(pk, []))]
        for pk, uuid in Patrol.objects.order_by("pk").values_list("pk", "uuid").iterator()
    ]


def highest() -> dict[str, int]:
    return {
        "patrol": Patrol.objects.aggregate(n=Max("pk"))["n"] or 0,
        "patrol_event": PatrolEvent.objects.aggregate(n=Max("pk"))["n"] or 0,
    }


def verify(number: int, leaves: list[list[Any]]) -> list[Problem]:
    committed = {str(leaf[1]): (int(leaf[2]), str(leaf[3])) for leaf in leaves}
    ids = {
        str(uuid): pk
        for uuid, pk in Patrol.objects.filter(uuid__in=list(committed)).values_list("uuid", "pk")
    }
    events = _events(list(ids.values()))
    problems: list[Problem] = []
    for public_id, (count, digest) in committed.items():
        name = f"patrol {public_id}"
        if public_id not in ids:
            problems.append(
                Problem(
                    name,
                    None,
                    "",
                    "removed",
                    _("the patrol was in checkpoint #%(number)s and is gone"),
                    {"number": number},
                )
            )
            continue
        present = events.get(ids[public_id], [])
        if len(present) < count or chained_digest(present[:count]) != digest:
            problems.append(
                Problem(
                    name,
                    None,
                    "",
                    "patrol_changed",
                    _(
                        "the patrol's first %(count)s events are not those checkpoint "
                        "#%(number)s committed to: they were changed or removed"
                    ),
                    {"count": count, "number": number},
                )
            )
    return problems


PATROL_LEAVES = LeafKind(kind="patrols", build=build, verify=verify, highest=highest)

APPOINTMENT_LOG_LEAVES = entry_leaves(
    "appointment_log",
    AppointmentEvent,
    ("appointment_id", "kind", "at", "actor_id", "actor_role", "data"),
    _("chiefs' appointment log entry %(id)s"),
)
