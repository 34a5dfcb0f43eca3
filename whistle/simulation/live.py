"""Live traffic: cases played through the actions on the demo city for hours of simulated time.

Where the bulk history writes rows, this drives the system as its users do: every report,
filing, whistle, acknowledgement, check-in, result, release, check-out, closure and
evaluation is the action function the pages call, each at its moment, and the worker's
deadline sweep runs between them (the demo history's `play`). The departments answer by
their behaviour (punctual, slow, often absent), drawn for each department from the seed, so
the sweep records the overdue acknowledgements and arrivals of the slow and the absent.
Cases whose course runs past the end stay open where they are, as in a live city. An action
that refuses a step (the rules of the product) is counted, and the story goes on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from whistle.cases import actions
from whistle.cases.models import Summons
from whistle.demo.history import Cast, Step, Story, find_cast
from whistle.demo.history import play as play_stories
from whistle.organisation.models import Department
from whistle.policies.models import WhistleKind
from whistle.simulation.city import Behaviour, behaviour_of

WHISTLED = 0.35


@dataclass
class Played:
    cases: int = 0
    steps: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def department_behaviour(seed: int, department: Department) -> Behaviour:
    """A department's behaviour, the same for a seed whatever else the city holds."""
    return behaviour_of(random.Random(f"{seed}|{department.code}"))


def _serving(cast: Cast) -> list[Department]:
    """The departments that serve the township and have someone to send."""
    found = Department.objects.filter(
        Q(serves=cast.township) | Q(serves__isnull=True, district=cast.district),
        is_active=True,
    ).order_by("code")
    return [d for d in dict.fromkeys(found) if cast.officer(d) is not None]


class LiveStory(Story):
    """A demo story whose departments are chosen when it is planned, so that each answers
    at the moments its behaviour draws."""

    played: Played

    def counted(self, step: Step) -> Step:
        def run(now: datetime) -> Any:
            try:
                return step(now)
            except actions.ActionRefused:
                self.played.refused += 1
                return None

        return run

    def whistle_for(self, kind: str, departments: list[Department]) -> Step:
        def step(now: datetime) -> None:
            self.whistle = actions.blow_whistle(
                self.cast.dispatcher,
                self.fresh(),
                kind=kind,
                departments=departments,
                meeting_point=f"{self.lane.name}路口",
                now=now,
            )
            self.summonses = list(self.whistle.summonses.order_by("pk"))

        return step

    def dispatch_to(self, department: Department) -> Step:
        def step(now: datetime) -> None:
            self.summonses = [
                actions.dispatch_case(
                    self.cast.dispatcher, self.fresh(), department=department, now=now
                )
            ]

        return step

    def release(self, index: int) -> Step:
        def step(now: datetime) -> None:
            if index < len(self.summonses):
                summons = Summons.objects.get(pk=self.summonses[index].pk)
                if summons.arrived_at is None:
                    actions.release(self.cast.dispatcher, summons, note="未到场", now=now)

        return step


def _plan_case(
    story: LiveStory, departments: list[Department], seed: int, rng: random.Random
) -> None:
    cast = story.cast
    category = rng.choice(cast.fallback_categories)
    story.at(0, story.report(category))
    filed = rng.uniform(3, 20)
    story.at(filed, story.file(category))
    summoned = filed + rng.uniform(2, 10)
    whistled = rng.random() < WHISTLED
    chosen = rng.sample(departments, min(2 if whistled else 1, len(departments)))
    if whistled:
        kind = rng.choices((WhistleKind.ROUTINE, WhistleKind.TOUGH), (85, 15))[0]
        story.at(summoned, story.whistle_for(kind, chosen))
    else:
        story.at(summoned, story.dispatch_to(chosen[0]))
    done = summoned
    for index, department in enumerate(chosen):
        behaviour = department_behaviour(seed, department)
        story.at(
            summoned + rng.uniform(*behaviour.acknowledge_minutes),
            story.on_summons(index, actions.acknowledge),
        )
        if whistled and rng.random() < behaviour.absent_share:
            # Never comes: the sweep records the arrival overdue, the township lets it go.
            done = max(done, summoned + 40)
            story.at(summoned + 40, story.release(index))
            continue
        finished = summoned + rng.uniform(*behaviour.arrive_minutes)
        if whistled:
            story.at(finished, story.check_in(index))
        finished += rng.uniform(20, 120)
        story.at(
            finished,
            story.on_summons(index, actions.report_result, result="已处置完毕，拍照留存"),
        )
        done = max(done, finished)
    handled = done + rng.uniform(5, 30)
    story.at(handled, story.township(actions.mark_handled, note="现场已恢复"))
    story.at(handled + 20, story.township(actions.check_passed, note="核查现场，问题已解决"))
    story.at(handled + 25, story.township(actions.close_case))
    if whistled:
        for index in range(len(chosen)):
            story.at(handled + 30 + index, story.try_to_leave(index))
    rating = rng.choices((5, 4, 3), (55, 35, 10))[0]
    evaluator = cast.assessor or cast.dispatcher
    story.at(handled + 120, story.township(actions.evaluate_case, by=evaluator, rating=rating))
    story.steps = [(when, index, story.counted(step)) for when, index, step in story.steps]


def play(*, seed: int, hours: float, cases_per_hour: float) -> Played:
    """Play `hours` of cases ending now on the demo township; call inside a transaction."""
    cast = find_cast()
    departments = _serving(cast)
    rng = random.Random(f"{seed}|live")
    end = timezone.now().replace(second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    played = Played()
    stories: list[Story] = []
    moment = start
    while True:
        moment += timedelta(hours=rng.expovariate(cases_per_hour))
        if moment >= end:
            break
        story = LiveStory(cast, random.Random(rng.random()), moment, rng.choice(cast.lanes))
        story.played = played
        _plan_case(story, departments, seed, rng)
        stories.append(story)
    played.cases = len(stories)
    played.steps = play_stories(stories, end)
    return played
