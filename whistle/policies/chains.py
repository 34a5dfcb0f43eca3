"""The acknowledgement chain of a district: checking it, and planning it for one summons.

A chain is valid when its last step falls before the acknowledgement deadline of a routine
whistle (日常哨) in its district: the limit every department works to day to day. A summons
with less time than that (an emergency whistle with a shorter limit, a routine dispatch
whose category allows only a few minutes) gets the chain fitted into its own limit, by the
district's rule: compressed, every step kept at the same share of the time, or cut, the
steps that would come too late left out. The plan says which, for the trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import Jurisdiction
from whistle.policies.models import (
    AcknowledgementChain,
    DurationUnit,
    ShortLimitRule,
    WhistleKind,
    WhistleRule,
)

# The shortest natural time a limit in each unit can take: working time never runs faster
# than the clock.
_SHORTEST = {
    DurationUnit.NATURAL_MINUTES: timedelta(minutes=1),
    DurationUnit.NATURAL_HOURS: timedelta(hours=1),
    DurationUnit.NATURAL_DAYS: timedelta(days=1),
    DurationUnit.WORKING_HOURS: timedelta(hours=1),
    DurationUnit.WORKING_DAYS: timedelta(days=1),
}


def shortest_time(amount: int, unit: str) -> timedelta:
    """The least natural time a limit of `amount` `unit` can leave."""
    return amount * _SHORTEST[DurationUnit(unit)]


def routine_acknowledgement(district: Jurisdiction | None) -> timedelta:
    """The acknowledgement limit of a routine whistle in the district (the default rule when
    the district has none), as the least natural time it can leave."""
    rule = None
    if district is not None:
        rule = WhistleRule.objects.filter(district=district, kind=WhistleKind.ROUTINE).first()
    if rule is None:
        rule = WhistleRule(district=district, kind=WhistleKind.ROUTINE)
    return shortest_time(rule.acknowledge_within, rule.acknowledge_unit)


def offsets(waits: Sequence[int]) -> list[timedelta]:
    """When each step falls after the summons: the waits added up."""
    found = []
    total = timedelta()
    for wait in waits:
        total += timedelta(minutes=wait)
        found.append(total)
    return found


def check_chain(waits: Sequence[int], limit: timedelta) -> None:
    """Refuse a chain whose steps do not all fall before `limit` after the summons."""
    if any(wait < 1 for wait in waits):
        raise ValidationError(_("Each step waits at least one minute."))
    if not waits:
        return
    total = offsets(waits)[-1]
    if total >= limit:
        raise ValidationError(
            _(
                "The chain takes %(chain)s minutes, but a routine whistle must be acknowledged "
                "within %(limit)s minutes: its last step would come after the deadline. "
                "Shorten the waits (they must add up to less than %(limit)s minutes)."
            ),
            params={
                "chain": _minutes(total),
                "limit": _minutes(limit),
            },
        )


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    return f"{minutes:g}"


@dataclass(frozen=True)
class PlannedStep:
    target: str
    at: datetime


@dataclass(frozen=True)
class ChainPlan:
    """The chain of one summons: each step at its moment, and how it was fitted."""

    steps: tuple[PlannedStep, ...] = ()
    # "" when the chain fitted as it is; otherwise the ShortLimitRule applied.
    fitted: str = ""
    # The chain as the district set it (minutes after the summons of the last step).
    chain_minutes: float = 0.0
    # The steps a cut left out, by target.
    left_out: tuple[str, ...] = ()
    # The share of its own time each step kept after compressing.
    factor: float | None = None


@dataclass(frozen=True)
class ChainPolicy:
    """A district's chain as read once: the waits and targets in order, and its rule."""

    waits: tuple[int, ...]
    targets: tuple[str, ...]
    when_limit_shorter: str
    # The routine acknowledgement limit the chain was checked against.
    reference: timedelta

    @classmethod
    def of(cls, district: Jurisdiction | None) -> ChainPolicy | None:
        """The district's active chain, or None when it has none (or none with a step)."""
        if district is None:
            return None
        chain = (
            AcknowledgementChain.objects.filter(district=district, is_active=True)
            .prefetch_related("steps")
            .first()
        )
        if chain is None:
            return None
        steps = sorted(chain.steps.all(), key=lambda s: (s.position, s.pk))
        if not steps:
            return None
        return cls(
            waits=tuple(s.wait_minutes for s in steps),
            targets=tuple(s.target for s in steps),
            when_limit_shorter=chain.when_limit_shorter,
            reference=routine_acknowledgement(district),
        )

    def plan(self, summoned_at: datetime, acknowledge_due_at: datetime) -> ChainPlan:
        """The steps of a summons made at `summoned_at` that must be acknowledged by
        `acknowledge_due_at`, every one strictly before that deadline."""
        at = offsets(self.waits)
        chain_minutes = at[-1].total_seconds() / 60
        limit = acknowledge_due_at - summoned_at
        if at[-1] < limit:
            steps = tuple(
                PlannedStep(t, summoned_at + o) for t, o in zip(self.targets, at, strict=True)
            )
            return ChainPlan(steps, chain_minutes=chain_minutes)
        if self.when_limit_shorter == ShortLimitRule.CUT:
            kept = [(t, o) for t, o in zip(self.targets, at, strict=True) if o < limit]
            return ChainPlan(
                tuple(PlannedStep(t, summoned_at + o) for t, o in kept),
                fitted=ShortLimitRule.CUT,
                chain_minutes=chain_minutes,
                left_out=tuple(t for t, o in zip(self.targets, at, strict=True) if o >= limit),
            )
        # Each step keeps its share of the time it had within the routine limit. Should the
        # routine limit have been shortened below the chain since, the chain counts as
        # taking one minute more than its last step.
        reference = max(self.reference, at[-1] + timedelta(minutes=1))
        factor = limit / reference
        return ChainPlan(
            tuple(
                PlannedStep(t, summoned_at + o * factor)
                for t, o in zip(self.targets, at, strict=True)
            ),
            fitted=ShortLimitRule.COMPRESS,
            chain_minutes=chain_minutes,
            factor=round(factor, 6),
        )
