"""What the database holds of a demo city: counts for the summary, a fingerprint for tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from django.db import models

from whistle.demo import logins
from whistle.organisation.models import (
    CentreMembership,
    Department,
    GridCell,
    Jurisdiction,
    Lane,
    Person,
    RoleAssignment,
    Sector,
)
from whistle.policies.models import Category, DistrictPolicy, MajorClass, WhistleRule


def counts(district: Jurisdiction) -> dict[str, int]:
    """How much of each kind the district holds, for the summary of a build."""
    townships = Jurisdiction.objects.filter(parent=district)
    communities = Jurisdiction.objects.filter(parent__parent=district)
    return {
        "townships": townships.count(),
        "communities": communities.count(),
        "lanes": Lane.objects.filter(township__parent=district).count(),
        "cells": GridCell.objects.filter(community__parent__parent=district).count(),
        "sectors": Sector.objects.count(),
        "departments": Department.objects.filter(district=district).count(),
        "members": CentreMembership.objects.filter(township__parent=district).count(),
        "majors": MajorClass.objects.filter(district=district).count(),
        "categories": Category.objects.filter(major__district=district).count(),
        "rules": WhistleRule.objects.filter(district=district).count(),
        "people": Person.objects.count(),
        "roles": RoleAssignment.objects.count(),
        "logins": Person.objects.filter(
            username__in=[login.username for login in logins.DEMO_LOGINS]
        ).count(),
    }


def fingerprint() -> str:
    """A SHA-256 of the content the demo city consists of: names, codes, shapes, rules.

    Primary keys, password hashes and timestamps are left out, so two databases built from
    the same seed have the same fingerprint.
    """
    digest = hashlib.sha256()
    for line in sorted(_content_lines()):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _content_lines() -> Iterator[str]:
    queries: list[tuple[str, models.QuerySet[Any, Any]]] = [
        (
            "jurisdiction",
            Jurisdiction.objects.values_list(
                "code", "level", "form", "name", "parent__code", "boundary"
            ),
        ),
        (
            "lane",
            Lane.objects.values_list(
                "township__code", "name", "community__code", "centre_line", "length_m", "checklist"
            ),
        ),
        ("grid", GridCell.objects.values_list("code", "community__code", "boundary")),
        ("sector", Sector.objects.values_list("code", "name")),
        (
            "department",
            Department.objects.values_list(
                "code", "name", "kind", "sector__code", "district__code", "phone", "is_active"
            ),
        ),
        (
            "serves",
            Department.serves.through.objects.values_list("department__code", "jurisdiction__code"),
        ),
        (
            "centre",
            CentreMembership.objects.values_list("township__code", "department__code", "role"),
        ),
        (
            "centre-people",
            CentreMembership.people.through.objects.values_list(
                "centremembership__township__code",
                "centremembership__department__code",
                "person__username",
            ),
        ),
        (
            "person",
            Person.objects.values_list("username", "name", "is_staff", "is_superuser", "is_active"),
        ),
        (
            "role",
            RoleAssignment.objects.values_list(
                "person__username",
                "role",
                "jurisdiction__code",
                "lane__township__code",
                "lane__name",
                "department__code",
            ),
        ),
        ("major", MajorClass.objects.values_list("district__code", "kind", "code", "name")),
        (
            "category",
            Category.objects.values_list(
                "major__district__code",
                "major__kind",
                "major__code",
                "code",
                "name",
                "keywords",
                "acknowledge_within",
                "acknowledge_unit",
                "resolve_within",
                "resolve_unit",
                "is_active",
            ),
        ),
        (
            "category-sector",
            Category.responsible_sectors.through.objects.values_list(
                "category__major__district__code",
                "category__major__kind",
                "category__major__code",
                "category__code",
                "sector__code",
            ),
        ),
        (
            "policy",
            DistrictPolicy.objects.values_list(
                "district__code",
                "working_periods",
                "checkin_radius_m",
                "checkin_max_skew_s",
                "checkin_when_far",
                "checkin_when_imprecise",
                "checkin_when_skewed",
                "checkin_when_typed",
                "checkin_speed_limit_kmh",
                "checkin_device_window_hours",
                "checkin_offline_confirm_after_minutes",
                "lane_snap_m",
                "reminder_fractions",
                "reminder_minutes_before",
                "escalate_to_district_after_minutes",
                "duplicate_radius_m",
                "duplicate_window_hours",
            ),
        ),
        (
            "whistle",
            WhistleRule.objects.values_list(
                "district__code",
                "kind",
                "acknowledge_within",
                "acknowledge_unit",
                "arrive_within",
                "arrive_unit",
            ),
        ),
    ]
    for label, query in queries:
        for row in query:
            yield label + " " + json.dumps(list(row), ensure_ascii=False, sort_keys=True)
