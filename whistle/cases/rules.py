"""The district's rules as the case actions read them, with the defaults when none is set."""

from __future__ import annotations

from django.conf import settings

from whistle.organisation.models import Jurisdiction
from whistle.policies.models import DistrictPolicy, WhistleRule


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


def lane_snap_metres(district: Jurisdiction | None) -> float:
    """How far from a lane's centre line a problem still belongs to the lane."""
    if district is not None:
        snap = (
            DistrictPolicy.objects.filter(district=district)
            .values_list("lane_snap_m", flat=True)
            .first()
        )
        if snap is not None:
            return float(snap)
    return float(settings.WHISTLE_LANE_SNAP_METRES)
