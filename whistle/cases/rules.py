"""The district's rules as the case actions read them, with the defaults when none is set."""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy

from django.conf import settings

from whistle.cases.models import Case, Whistle
from whistle.organisation import directory
from whistle.organisation.models import Jurisdiction
from whistle.policies.models import (
    DistrictPolicy,
    HotlineDeadlineClass,
    WhistleRule,
    default_hotline_deadline_classes,
)

# A summons' deadline fields, in the order its obligations fall due.
DEADLINE_FIELDS = ("acknowledge_due_at", "arrive_due_at", "resolve_due_at")
# The case's own deadline, and a 12345 work order's.
CASE_DEADLINE_FIELDS = ("resolve_due_at",)
ORDER_DEADLINE_FIELDS = ("respond_due_at", "resolve_due_at")


def district_policy(district: Jurisdiction | None) -> DistrictPolicy:
    """The district's policy; an unsaved one with the default values when it has none."""
    if district is not None:
        policy = DistrictPolicy.objects.filter(district=district).first()
        if policy is not None:
            return policy
    return DistrictPolicy(district=district)


def whistle_rule(district: Jurisdiction | None, kind: str) -> WhistleRule:
    """The time limits of a kind of whistle; the defaults (arrive in 30 minutes) when unset."""
    if district is not None:
        rule = WhistleRule.objects.filter(district=district, kind=kind).first()
        if rule is not None:
            return rule
    return WhistleRule(district=district, kind=kind)


def hotline_deadline_classes(district: Jurisdiction | None) -> list[HotlineDeadlineClass]:
    """The district's classes of hotline orders, in their order: the four built-in classes
    (emergency 2 hours, utilities 24 hours, general 7 days, complex 15 days) and the
    district's own rows, a row replacing the built-in class of its code. The default class
    is the district's row marked default, else the built-in default (`general`, or the
    district's row of that code). The district's rows are kept per process while the
    directory's token stands (`whistle.organisation.directory`)."""
    if district is None:
        return default_hotline_deadline_classes(district)

    def load() -> tuple[HotlineDeadlineClass, ...]:
        return tuple(HotlineDeadlineClass.objects.filter(district=district))

    own = directory.kept(("hotline_deadline_classes", district.pk), load)
    return merged_deadline_classes(default_hotline_deadline_classes(district), own)


def merged_deadline_classes(
    built_in: list[HotlineDeadlineClass], own: Iterable[HotlineDeadlineClass]
) -> list[HotlineDeadlineClass]:
    """The built-in classes with a district's own rows over them (see
    `hotline_deadline_classes`); the rows themselves are not changed."""
    own = list(own)
    codes = {row.code for row in own}
    default_code = next((row.code for row in own if row.is_default), None)
    if default_code is None:
        default_code = next((c.code for c in built_in if c.is_default), None)
    classes = [c for c in built_in if c.code not in codes] + own
    shown = []
    for limits in classes:
        if limits.is_default != (limits.code == default_code):
            limits = copy(limits)
            limits.is_default = limits.code == default_code
        shown.append(limits)
    return sorted(shown, key=lambda c: (c.position, c.code))


def summons_limits(case: Case, whistle: Whistle | None) -> dict[str, tuple[int, str]]:
    """The time limits of a summons on the case, by deadline field: a whistle's from the
    district's rule for its kind (acknowledge, arrive) and the category (resolve); a routine
    dispatch's from the category alone, with no arrival."""
    category = case.category
    assert category is not None  # a case is filed before anyone is summoned
    resolve = (category.resolve_within, category.resolve_unit)
    if whistle is None:
        return {
            "acknowledge_due_at": (category.acknowledge_within, category.acknowledge_unit),
            "resolve_due_at": resolve,
        }
    rule = whistle_rule(case.district, whistle.kind)
    return {
        "acknowledge_due_at": (rule.acknowledge_within, rule.acknowledge_unit),
        "arrive_due_at": (rule.arrive_within, rule.arrive_unit),
        "resolve_due_at": resolve,
    }


def district_lane_snap_metres(district: Jurisdiction | None) -> float | None:
    """The district's own lane matching distance, None when its policy has none."""
    if district is None:
        return None
    snap = (
        DistrictPolicy.objects.filter(district=district)
        .values_list("lane_snap_m", flat=True)
        .first()
    )
    return None if snap is None else float(snap)


def lane_snap_or_default(own: float | None) -> float:
    """A district's own lane matching distance, or the deployment's when it has none."""
    return float(settings.WHISTLE_LANE_SNAP_METRES) if own is None else own
