"""The demo's people after the reform: the demo township's stationed staff (two officers on
its roster, signed in at the centre every working day of their stationing, a leave request
awaiting the township chief, last month's assessment of one of them), a training session
of the district's chiefs' office with its attendance and a recognition, and an open public
call for alley stewards with two applications awaiting review, so that each of these pages
shows something on first start.

Everything goes through the actions, as the demo logins; the stationed staff's steps each at
its moment of the past weeks with the clock there too (`whistle.demo.history.done_at`), so
that the attendance agrees with the assessment and the messages are dated as they were.
Running it again changes nothing (nothing is added once the demo township has a stationed
person or a call).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from whistle.demo.history import done_at
from whistle.organisation.models import CentreMembership, Lane, RoleAssignment
from whistle.patrols import training
from whistle.policies.calendar import LOCAL_TIME_ZONE, calendar_for, to_local
from whistle.township import recruitment, stationed_actions
from whistle.township.models import Stationing, StewardCall

# The stationed staff sign in at the centre between 08:00 and 08:25 (minutes of the day).
SIGN_IN_MINUTES = (8 * 60, 8 * 60 + 25)


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
    stationed = _stationed_staff(city, township, chief, dispatcher, now, today)
    _training(city, office, logins, now, today)
    _recruitment(township, chief, now, today)
    return _(
        "Stationed staff: %(people)s on the roster; a training session; a call for stewards "
        "with 2 applications."
    ) % {"people": stationed}


def _stationed_staff(
    city: Any, township: Any, chief: Any, dispatcher: Any, now: datetime, today: date
) -> int:
    """The two demo officers on the township's roster since the month before last, put there
    on the last working afternoon before it, signed in at the centre every working morning
    since (one morning recorded by the dispatcher instead), an assessment of the first
    published on the first working morning after the month it covers, and a leave request
    of the last awaiting the township chief. Each step is done at its moment, the clock
    there too, so that the roster, the attendance and the messages are dated as they were."""
    logins = city.logins
    calendar = calendar_for(township)
    started_on = _month_start(today, 2)
    rng = random.Random(f"{city.seed}:stationed")
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
        eve = _working_day(calendar, started_on - timedelta(days=1), step=-1)
        stationings.append(
            done_at(
                _at(eve, 16 * 60),
                stationed_actions.station_person,
                chief,
                membership,
                officer,
                post=post,
                started_on=started_on,
            )
        )
    if not stationings:
        return 0
    working_days = [
        day
        for day in (started_on + timedelta(days=n) for n in range((today - started_on).days + 1))
        if calendar.is_working_day(day)
    ]
    # The morning the last officer's phone was flat: the dispatcher records the day.
    by_keeper = working_days[len(working_days) // 2]
    # The last officer asks for leave in the afternoon of the last day signed in.
    last_sign_in = now
    for day in working_days:
        for stationing in stationings:
            moment = _at(day, rng.randrange(*SIGN_IN_MINUTES))
            if moment > now:
                continue
            if stationing is stationings[-1] and day == by_keeper:
                done_at(
                    _at(day, 9 * 60),
                    stationed_actions.record_attendance,
                    dispatcher,
                    stationing,
                    day=day,
                    note="手机没电，值班员按到岗登记补录。",
                )
            else:
                done_at(moment, stationed_actions.sign_in, stationing.person, stationing)
                last_sign_in = moment
    month, published = _assessed_month(calendar, today, now)
    done_at(
        published,
        stationed_actions.publish_assessment,
        chief,
        stationings[0],
        month=month,
        score="92",
        reasons="按时到岗，响应吹哨及时，处置规范。",
    )
    last = stationings[-1]
    done_at(
        min(last_sign_in + timedelta(hours=6), now),
        stationed_actions.ask_leave,
        last.person,
        last,
        first_day=today + timedelta(days=3),
        last_day=today + timedelta(days=4),
        reason="家中老人就医，需陪同。",
    )
    return len(stationings)


def _at(day: date, minute: int) -> datetime:
    """The minute of the day, Beijing time."""
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=LOCAL_TIME_ZONE)


def _working_day(calendar: Any, day: date, step: int) -> date:
    """The day if it is a working day, else the nearest one in the direction of `step`."""
    while not calendar.is_working_day(day):
        day += timedelta(days=step)
    return day


def _assessed_month(calendar: Any, today: date, now: datetime) -> tuple[date, datetime]:
    """The latest month whose assessment is published by now, and when: on the first working
    morning after it (last month, or the month before when this month has not had one yet)."""
    for months_back in (1, 2):
        month = _month_start(today, months_back)
        published = _at(
            _working_day(calendar, _month_start(today, months_back - 1), 1), 9 * 60 + 30
        )
        if published <= now:
            return month, published
    raise AssertionError("a month always has a working day")


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
