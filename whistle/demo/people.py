"""The demo's people after the reform: the demo township's stationed staff (two officers on
its roster, days at the centre, a leave request awaiting the township chief, last month's
assessment of one of them), a training session of the district's chiefs' office with its
attendance and a recognition, and an open public call for alley stewards with two
applications awaiting review, so that each of these pages shows something on first start.

Everything goes through the actions, as the demo logins; running it again changes nothing
(nothing is added once the demo township has a stationed person or a call).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.organisation.models import CentreMembership, Lane, RoleAssignment
from whistle.patrols import training
from whistle.policies.calendar import to_local
from whistle.township import recruitment, stationed_actions
from whistle.township.models import Stationing, StewardCall


def _month_start(day: date, months_back: int) -> date:
    year, month = day.year, day.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def build(city: Any) -> str:
    township = city.demo_township
    if (
        Stationing.objects.filter(membership__township=township).exists()
        or StewardCall.objects.filter(township=township).exists()
    ):
        return _("Stationed staff, training and recruitment: already present.")
    logins = city.logins
    chief, dispatcher, office = (
        logins["township-chief"],
        logins["dispatcher"],
        logins["chiefs-office"],
    )
    now = timezone.now().replace(second=0, microsecond=0)
    today = to_local(now).date()
    stationed = _stationed_staff(township, chief, dispatcher, logins, now, today)
    _training(city, office, logins, now, today)
    _recruitment(township, chief, now, today)
    return _(
        "Stationed staff: %(people)s on the roster; a training session; a call for stewards "
        "with 2 applications."
    ) % {"people": stationed}


def _stationed_staff(
    township: Any, chief: Any, dispatcher: Any, logins: dict[str, Any], now: Any, today: date
) -> int:
    """The two demo officers on the township's roster since the month before last."""
    started_on = _month_start(today, 2)
    stationings = []
    for username, post in (("officer-urban", "城管执法岗"), ("officer-police", "社区民警岗")):
        officer = logins[username]
        department_id = (
            RoleAssignment.objects.filter(person=officer, department__isnull=False)
            .values_list("department", flat=True)
            .first()
        )
        if department_id is None:
            continue
        membership = CentreMembership.objects.filter(
            township=township,
            department_id=department_id,
            role__in=stationed_actions.STATIONED_ROLES,
        ).first()
        if membership is None:
            continue
        stationings.append(
            stationed_actions.station_person(
                chief, membership, officer, post=post, started_on=started_on, now=now
            )
        )
    for stationing in stationings:
        for days_back in (1, 2, 3):
            stationed_actions.record_attendance(
                dispatcher, stationing, day=today - timedelta(days=days_back), now=now
            )
    if stationings:
        first = stationings[0]
        stationed_actions.publish_assessment(
            chief,
            first,
            month=_month_start(today, 1),
            score="92",
            reasons="按时到岗，响应吹哨及时，处置规范。",
            now=now,
        )
        last = stationings[-1]
        stationed_actions.ask_leave(
            last.person,
            last,
            first_day=today + timedelta(days=3),
            last_day=today + timedelta(days=4),
            reason="家中老人就医，需陪同。",
            now=now,
        )
    return len(stationings)


def _training(city: Any, office: Any, logins: dict[str, Any], now: Any, today: date) -> None:
    """A session of the district's chiefs' office last week, the demo chief and steward
    attending, and a recognition of the steward."""
    session = training.record_training(
        office,
        organiser=city.district,
        topic="街巷长制与小巷管家工作培训",
        held_on=today - timedelta(days=7),
        place="东城区政府第一会议室",
        trainer="区城市管理委员会",
        audience="both",
        now=now,
    )
    training.record_attendance(
        office,
        session,
        people=[logins["lane-chief"].pk, logins["street-chief"].pk, logins["steward"].pk],
        now=now,
    )
    training.recognise(
        office,
        office=city.district,
        person=logins["steward"],
        reasons="巡查认真，发现问题及时上报，带动居民参与街巷治理。",
        now=now,
    )


def _recruitment(township: Any, chief: Any, now: Any, today: date) -> None:
    """An open call of the demo township for three of its lanes, two applications waiting."""
    lanes = list(Lane.objects.filter(township=township).order_by("name", "pk")[:3])
    call = recruitment.publish_call(
        chief,
        township,
        title="龙潭街道公开招募小巷管家",
        description="热心街巷事务、熟悉本巷情况的居民均可报名，党员优先。",
        lanes=lanes,
        opens_on=today,
        closes_on=today + timedelta(days=30),
        now=now,
    )
    for name, phone, born, party_member in (
        ("周秀英", "13911110001", date(1962, 3, 15), True),
        ("马建国", "13911110002", date(1985, 7, 1), False),
    ):
        recruitment.apply(
            call,
            name=name,
            phone=phone,
            birth_date=born,
            birth_year=None,
            healthy=True,
            communicates=True,
            party_member=party_member,
            lanes=lanes[:1],
            now=now,
        )
