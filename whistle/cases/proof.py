"""The on-site proof (报到): where a check-in's position came from, and whether it counts.

A summoned department proves its arrival with a position. The check-in page takes it from
the device's location (the Geolocation API with high accuracy and a fresh fix) and sends it
with the fix's accuracy and the device's time of the fix; it offers no field to type one.
A browser can still be made to send anything, so every position is judged by what the
server can check, and each check that fails is a reason:

- ``too_far``: the position lies outside the district's radius of the place;
- ``imprecise`` / ``accuracy_unknown``: the distance plus the fix's accuracy reaches beyond
  the radius, or the accuracy is missing;
- ``clock_skew`` / ``device_time_unknown``: the device's time of the fix differs from the
  server's by more than the district allows, or is missing;
- ``typed`` / ``map_pick``: the position did not come from the device;
- ``too_fast``: the officer's previous position in the trail (any case) is farther than
  they could have travelled at the district's speed limit, their accuracies granted;
- ``shared_device``: the same device (a random id the page keeps in the browser: a hint,
  not proof) checked in for another department within the district's window;
- ``late_sync``: the check-in was recorded on the phone without signal and reached the
  server more than the district's minutes after it happened (`whistle.cases.device_time`).

A check-in recorded without signal is judged at the time it happened: the device's clock
offset, measured when the phone sends it, and the age of the fix at that moment must both
lie within the allowed skew, or ``clock_skew`` names the one that does not.

A check-in with no reason is clean: it counts as the arrival. For each kind of reason the
district decides (`DistrictPolicy.checkin_when_*`) whether it refuses the check-in or
accepts it flagged; implausible sequences are always flagged, never refused, since the
earlier position may be the wrong one. A flagged check-in puts the department on site but
counts as an arrival only once the township confirms it (`rule_on_check_in`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from whistle.cases.models import CheckInReason as Reason
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.notifications.texts import Filled, TextList
from whistle.organisation import geo
from whistle.organisation.models import Person
from whistle.policies.models import CheckInRule, DistrictPolicy


class PositionSource(models.TextChoices):
    DEVICE = "device", _("the device's location")
    TYPED = "typed", _("typed in")
    MAP_PICK = "map_pick", _("picked on a map")


class Verdict(models.TextChoices):
    CLEAN = "clean", _("counts as the arrival")
    FLAGGED = "flagged", _("accepted, flagged for the township")
    REFUSED = "refused", _("refused")


# The order in which reasons are listed and in which a refusing one is named.
REASON_ORDER = [r.value for r in Reason]

# Trail events whose position is where the acting person stood.
POSITIONED_KINDS = (
    EventKind.CHECK_IN_ACCEPTED,
    EventKind.CHECK_IN_FLAGGED,
    EventKind.CHECK_IN_REFUSED,
    EventKind.CHECK_OUT,
    EventKind.CHECK_OUT_REFUSED,
    EventKind.CHECK_PASSED,
)
CHECK_IN_KINDS = (
    EventKind.CHECK_IN_ACCEPTED,
    EventKind.CHECK_IN_FLAGGED,
    EventKind.CHECK_IN_REFUSED,
)
# How many of a person's latest positioned events to read to find one taken from a device.
_RECENT = 10


def rule_for(reason: str, policy: DistrictPolicy) -> str:
    """What the district does with a check-in for this reason: refuse or flag."""
    if reason == Reason.TOO_FAR:
        return policy.checkin_when_far
    if reason in (Reason.IMPRECISE, Reason.ACCURACY_UNKNOWN):
        return policy.checkin_when_imprecise
    if reason in (Reason.CLOCK_SKEW, Reason.DEVICE_TIME_UNKNOWN):
        return policy.checkin_when_skewed
    if reason in (Reason.TYPED, Reason.MAP_PICK):
        return policy.checkin_when_typed
    return CheckInRule.FLAG


@dataclass(frozen=True)
class Previous:
    """The acting person's position before this one, and the speed it implies."""

    at: datetime
    distance_m: float
    speed_kmh: float
    # The trail event that recorded it (a check-in refused, accepted or flagged, a check-out).
    kind: str = ""


@dataclass(frozen=True)
class Measured:
    """What the server measured of one check-in's position."""

    source: str
    distance_m: float
    radius_m: float
    accuracy_m: float | None
    skew_s: float | None
    previous: Previous | None = None
    shared_device: bool = False
    # Recorded without signal: seconds between the check-in and its arrival, and the
    # district's limit beyond which the township confirms it.
    delay_s: float | None = None
    late_after_s: float | None = None


@dataclass(frozen=True)
class Judgement:
    verdict: str
    reasons: list[str]
    # The first reason that refused the check-in, when it was refused.
    refused_for: str | None = None


def reasons(measured: Measured, policy: DistrictPolicy) -> list[str]:
    """Every check the position fails, in `REASON_ORDER`."""
    found: set[str] = set()
    if measured.distance_m > measured.radius_m:
        found.add(Reason.TOO_FAR)
    if measured.source == PositionSource.DEVICE:
        if measured.accuracy_m is None:
            found.add(Reason.ACCURACY_UNKNOWN)
        elif (
            Reason.TOO_FAR not in found
            and measured.distance_m + measured.accuracy_m > measured.radius_m
        ):
            found.add(Reason.IMPRECISE)
        if measured.skew_s is None:
            found.add(Reason.DEVICE_TIME_UNKNOWN)
        elif abs(measured.skew_s) > policy.checkin_max_skew_s:
            found.add(Reason.CLOCK_SKEW)
    elif measured.source == PositionSource.MAP_PICK:
        found.add(Reason.MAP_PICK)
    else:
        found.add(Reason.TYPED)
    if measured.previous is not None and (
        measured.previous.speed_kmh > policy.checkin_speed_limit_kmh
    ):
        found.add(Reason.TOO_FAST)
    if measured.shared_device:
        found.add(Reason.SHARED_DEVICE)
    if (
        measured.delay_s is not None
        and measured.late_after_s is not None
        and measured.delay_s > measured.late_after_s
    ):
        found.add(Reason.LATE_SYNC)
    return [r for r in REASON_ORDER if r in found]


def judge(measured: Measured, policy: DistrictPolicy) -> Judgement:
    """Clean, flagged or refused, with the reasons, by the district's rules."""
    found = reasons(measured, policy)
    refusing = [r for r in found if rule_for(r, policy) == CheckInRule.REFUSE]
    if refusing:
        return Judgement(Verdict.REFUSED, found, refusing[0])
    if found:
        return Judgement(Verdict.FLAGGED, found)
    return Judgement(Verdict.CLEAN, [])


def skew_seconds(device_time: datetime | None, now: datetime) -> float | None:
    """The device's time of the fix minus the server's, in seconds (positive: ahead)."""
    if device_time is None:
        return None
    return round((device_time - now).total_seconds(), 1)


def offline_skew_seconds(
    device_time: datetime | None, device_happened_at: datetime, clock_offset_s: float | None
) -> float | None:
    """For a check-in recorded without signal: the larger, in size, of the device clock's
    offset measured at sync and the age of the fix when the check-in was recorded (both on
    the device's clock, so the offset does not blur it)."""
    if device_time is None or clock_offset_s is None:
        return None
    fix_age = round((device_time - device_happened_at).total_seconds(), 1)
    return fix_age if abs(fix_age) >= abs(clock_offset_s) else clock_offset_s


def implied_speed_kmh(distance_m: float, accuracies_m: float, seconds: float) -> float:
    """The slowest speed that covers the distance in the time, each position granted its
    accuracy (so a coarse fix never makes someone look fast); a second at least."""
    metres = max(distance_m - accuracies_m, 0.0)
    return round(metres / max(seconds, 1.0) * 3.6, 1)


def previous_position(
    actor: Person, position: tuple[float, float], accuracy_m: float | None, now: datetime
) -> Previous | None:
    """The person's latest position from a device in the trail (any case) up to `now`, with
    the speed needed to come from there.

    The same fix sent again (the same device time and place: a page sent again after a
    refused check-in, say) is no newer position: it counts from the first time the server
    had it, so the speed is not read over the seconds since the resend."""
    recent = list(
        Event.objects.filter(
            actor=actor,
            kind__in=POSITIONED_KINDS,
            lon__isnull=False,
            lat__isnull=False,
            at__lte=now,
        )
        .order_by("-at", "-id")
        .values("at", "kind", "lon", "lat", "data")[:_RECENT]
    )
    for index, event in enumerate(recent):
        data: dict[str, Any] = event["data"] or {}
        earlier = (event["lon"] or 0.0, event["lat"] or 0.0)
        # A position kept without its source may have been typed: no proof of where anyone stood.
        if data.get("source") != PositionSource.DEVICE:
            continue
        first = _first_sending(event, recent[index + 1 :])
        distance = geo.distance_m(earlier, position)
        earlier_accuracy = data.get("accuracy_m")
        granted = (accuracy_m or 0.0) + (
            float(earlier_accuracy) if isinstance(earlier_accuracy, int | float) else 0.0
        )
        seconds = (now - first["at"]).total_seconds()
        return Previous(
            at=first["at"],
            distance_m=round(distance, 1),
            speed_kmh=implied_speed_kmh(distance, granted, seconds),
            kind=first["kind"],
        )
    return None


def _first_sending(
    event: Mapping[str, Any], older: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any]:
    """The earliest of `older` (newest first) that sent the same fix as `event` from the
    device — its device time and place — in an unbroken run of such sendings, else `event`."""
    fix = (event["data"] or {}).get("device_time")
    if not fix:
        return event
    first = event
    for other in older:
        data = other["data"] or {}
        same = (
            data.get("source") == PositionSource.DEVICE
            and data.get("device_time") == fix
            and (other["lon"], other["lat"]) == (event["lon"], event["lat"])
        )
        if not same:
            break
        first = other
    return first


def device_used_elsewhere(
    device_id: str, summons: Summons, now: datetime, policy: DistrictPolicy
) -> bool:
    """Whether the device checked in (or tried to) for another department within the
    district's window."""
    hours = policy.checkin_device_window_hours
    if not device_id or not hours:
        return False
    return (
        Event.objects.filter(
            kind__in=CHECK_IN_KINDS,
            at__gte=now - timedelta(hours=hours),
            at__lte=now,
            data__device_id=device_id,
        )
        .exclude(summons__department_id=summons.department_id)
        .exists()
    )


def compared_with(data: dict[str, Any]) -> Filled | None:
    """ "Too fast" with the position it was compared with, from a check-in event's data: when,
    how far, and whether it was the officer's own refused check-in attempt (an attempt counts,
    so that a far position cannot be followed at once by a near one unnoticed). None for an
    event that kept no previous position."""
    at = data.get("previous_at")
    moment = parse_datetime(at) if isinstance(at, str) else None
    distance = data.get("previous_distance_m")
    if moment is None or not isinstance(distance, int | float):
        return None
    figures = {
        "at": formats.date_format(timezone.localtime(moment), "m-d H:i:s"),
        "distance": geo.shown_metres(distance),
    }
    if data.get("previous_kind") == EventKind.CHECK_IN_REFUSED:
        return Filled(
            _(
                "too fast from the officer's previous position: their refused check-in "
                "attempt at %(at)s, %(distance)s m away"
            ),
            **figures,
        )
    return Filled(
        _("too fast from the officer's previous position, recorded at %(at)s, %(distance)s m away"),
        **figures,
    )


class ReasonList(TextList):
    """Reason codes as words joined in the language active when shown (notifications are
    written in the deployment's language; the inbox shows them in the reader's). With the
    check-in event's data, "too fast" says what the position was compared with."""

    def __init__(self, codes: list[str], data: dict[str, Any] | None = None) -> None:
        self.codes = codes
        compared = compared_with(data) if data and Reason.TOO_FAST in codes else None
        super().__init__(
            (
                compared
                if code == Reason.TOO_FAST and compared is not None
                else Reason(code).label
                if code in Reason.values
                else code
                for code in codes
            ),
            _("; "),
        )


def flag_reasons(summons: Summons, events: Iterable[Event] | None = None) -> ReasonList:
    """Why the summons' check-in was flagged, as the township and the officer read it: "too
    fast" from the flagged check-in's event, which keeps the position it was compared with
    (read from `events`, the case's trail, when the page holds it already)."""
    codes = [str(code) for code in summons.check_in_flag_reasons or []]
    data: dict[str, Any] = {}
    if Reason.TOO_FAST in codes:
        if events is not None:
            flagged = [
                e.data
                for e in events
                if e.summons_id == summons.pk and e.kind == EventKind.CHECK_IN_FLAGGED
            ]
            data = (flagged[-1] if flagged else None) or {}
        else:
            kept = (
                Event.objects.filter(summons=summons, kind=EventKind.CHECK_IN_FLAGGED)
                .order_by("-seq")
                .values_list("data", flat=True)
                .first()
            )
            data = kept or {}
    return ReasonList(codes, data)
