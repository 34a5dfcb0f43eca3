"""Any sequence of actions, by anyone, keeps the trail a proof of the rows.

A state machine (Hypothesis) plays every role of 龙潭街道 and its departments against a few
cases: report, file, whistle, acknowledge, check in, progress, result, decline and its
ruling, release, check out, resolve, check and close, rework, the backlog and its
resumption (by either rule), and the worker's deadline sweep at a frozen clock that only
moves forward. After every step:

- a refused action wrote nothing (a refused check-in or early check-out writes its one
  event, as the trail keeps it, and nothing else);
- every trail verifies, and the replay of each trail equals the rows (`verify_database`);
- every deadline of every case and summons is known from its trail and equal to the row;
- 事不完、人不撤: nobody checked out before being released or the case being resolved;
- a checkpoint taken now holds every trail as it stands.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.fixtures_cases import (
    WhistleCity,
    beijing,
    device_fix,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_street import ON_THE_LANE
from tests.test_trail_deadlines import assert_replay_holds_every_deadline
from whistle.cases import actions, deadlines
from whistle.cases.checkpoints import build_document
from whistle.cases.errors import ActionRefused, RecordedRefusal
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.policies.models import BacklogResumeRule

START = beijing(2026, 3, 10, 9, 0)

# Everyone who might try: the township's people, the departments' and a resident.
PERSONAS = (
    "steward",
    "dispatcher",
    "township_chief",
    "assessor",
    "urban_officer",
    "urban_head",
    "police_officer",
    "fire_officer",
    "dongsi_dispatcher",
    "resident",
)
# Mostly the one whose turn it is (the township's dispatcher, the summoned department's
# officer), so that runs get far; anyone else otherwise.
RIGHT = "the one whose turn it is"
personas = st.sampled_from((*PERSONAS, *[RIGHT] * len(PERSONAS)))
OFFICERS = {"urban": "urban_officer", "police": "police_officer", "fire": "fire_officer"}
minutes = st.integers(min_value=1, max_value=240)

# What a refused action must leave as it was; the trail's own columns move with a recorded
# refusal, which appends its event.
_CASE_TRAIL = {"trail_length", "trail_head"}


def _rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cases = [
        {k: v for k, v in row.items() if k not in _CASE_TRAIL}
        for row in Case.objects.order_by("pk").values()
    ]
    return cases, [dict(row) for row in Summons.objects.order_by("pk").values()]


class Township(RuleBasedStateMachine):
    city: WhistleCity

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.clock = time_machine.travel(START, tick=False)
        self.traveller = self.clock.start()
        # Each run starts from the fixture's city: a savepoint rolled back at the end.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.refusals = 0

    def teardown(self) -> None:
        self.a_checkpoint_holds_every_trail_as_it_stands()
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)
        self.clock.stop()

    # Helpers -----------------------------------------------------------------------------

    def person(self, name: str, summons: Summons | None = None) -> Any:
        if name == RIGHT and summons is None:
            name = "dispatcher"
        elif name == RIGHT:
            assert summons is not None
            by_department = {getattr(self.city, d).pk: o for d, o in OFFICERS.items()}
            name = by_department[summons.department_id]
        return getattr(self.city, name)

    def attempt(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        """Run an action; when refused, check that it wrote nothing (or only its event)."""
        before_events = Event.objects.count()
        before_rows = _rows()
        try:
            return action(*args, now=self.now, **kwargs)
        except RecordedRefusal:
            self.refusals += 1
            assert Event.objects.count() == before_events + 1
            assert _rows() == before_rows
        except ActionRefused:
            self.refusals += 1
            assert Event.objects.count() == before_events
            assert _rows() == before_rows
        return None

    def summons_of(self, case: Case, index: int) -> Summons | None:
        summonses = list(Summons.objects.filter(case_id=case.pk).order_by("pk"))
        return summonses[index % len(summonses)] if summonses else None

    # Rules -------------------------------------------------------------------------------

    @initialize(target=cases)
    def whistled(self) -> Any:
        """A case with urban management and the police summoned, so that runs start where
        the departments act; the rules report and file more."""
        case = self.report(RIGHT)
        self.file(case, RIGHT)
        self.whistle(case, RIGHT, {"urban", "police"})
        return case

    @rule(target=cases, who=personas)
    def report(self, who: str) -> Any:
        case = self.attempt(
            actions.report_case,
            self.city.steward if who == RIGHT else self.person(who),
            description="人民市场东巷有游商占道",
            lon=ON_THE_LANE[0],
            lat=ON_THE_LANE[1],
        )
        if case is None:
            case = actions.report_case(
                self.city.steward,
                description="人民市场东巷有游商占道",
                lon=ON_THE_LANE[0],
                lat=ON_THE_LANE[1],
                now=self.now,
            )
        return case

    @rule(case=cases, who=personas)
    def file(self, case: Case, who: str) -> None:
        self.attempt(actions.file_case, self.person(who), case, category=self.city.street_vending)

    @rule(
        case=cases,
        who=personas,
        which=st.sets(st.sampled_from(["urban", "police", "fire"]), min_size=1),
    )
    def whistle(self, case: Case, who: str, which: set[str]) -> None:
        departments = [getattr(self.city, name) for name in sorted(which)]
        self.attempt(
            actions.blow_whistle,
            self.person(who),
            case,
            kind="routine",
            departments=departments,
        )

    @rule(case=cases, index=st.integers(0, 3), who=personas)
    def acknowledge(self, case: Case, index: int, who: str) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(actions.acknowledge, self.person(who, summons), summons)

    @rule(case=cases, index=st.integers(0, 3), who=personas, far=st.booleans())
    def check_in(self, case: Case, index: int, who: str, far: bool) -> None:
        summons = self.summons_of(case, index)
        if summons is None:
            return
        point = (ON_THE_LANE[0] + 0.05, ON_THE_LANE[1]) if far else ON_THE_LANE
        self.attempt(
            actions.check_in, self.person(who, summons), summons, **device_fix(point, self.now)
        )

    @rule(case=cases, index=st.integers(0, 3), who=personas)
    def progress(self, case: Case, index: int, who: str) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(
                actions.report_progress, self.person(who, summons), summons, text="正在清理"
            )

    @rule(case=cases, index=st.integers(0, 3), who=personas)
    def result(self, case: Case, index: int, who: str) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(
                actions.report_result, self.person(who, summons), summons, result="游商已劝离"
            )

    @rule(case=cases, index=st.integers(0, 3), who=personas)
    def decline(self, case: Case, index: int, who: str) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(
                actions.decline, self.person(who, summons), summons, reason="不属本部门职责"
            )

    @rule(case=cases, index=st.integers(0, 3), who=personas, uphold=st.booleans())
    def rule_on_decline(self, case: Case, index: int, who: str, uphold: bool) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(
                actions.rule_on_decline, self.person(who), summons, uphold=uphold, note="须配合处置"
            )

    @rule(case=cases, index=st.integers(0, 3), who=personas)
    def release(self, case: Case, index: int, who: str) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(actions.release, self.person(who), summons)

    @rule(case=cases, index=st.integers(0, 3), who=personas)
    def check_out(self, case: Case, index: int, who: str) -> None:
        summons = self.summons_of(case, index)
        if summons is not None:
            self.attempt(
                actions.check_out,
                self.person(who, summons),
                summons,
                **device_fix(ON_THE_LANE, self.now),
            )

    @rule(case=cases, who=personas)
    def resolve(self, case: Case, who: str) -> None:
        self.attempt(actions.mark_handled, self.person(who), case)

    @rule(case=cases, who=personas)
    def check_and_close(self, case: Case, who: str) -> None:
        self.attempt(actions.check_passed, self.person(who), case)
        self.attempt(actions.close_case, self.person(who), case)

    @rule(case=cases, who=personas)
    def rework(self, case: Case, who: str) -> None:
        self.attempt(actions.send_back_for_rework, self.person(who), case, reason="仍有游商")

    @rule(case=cases, who=personas, days=st.integers(1, 10))
    def backlog(self, case: Case, who: str, days: int) -> None:
        today = self.now.astimezone(ZoneInfo("Asia/Shanghai")).date()
        self.attempt(
            actions.put_on_backlog,
            self.person(who),
            case,
            reason="需区里协调拆除",
            review_on=today + timedelta(days=days),
        )

    @rule(case=cases, who=personas, fresh=st.booleans())
    def resume(self, case: Case, who: str, fresh: bool) -> None:
        policy = self.city.policy
        policy.backlog_resume_rule = (
            BacklogResumeRule.FRESH_LIMITS if fresh else BacklogResumeRule.REMAINING_TIME
        )
        policy.save(update_fields=["backlog_resume_rule"])
        self.attempt(actions.resume_from_backlog, self.person(who), case)

    @rule(case=cases, later=minutes)
    def sweep(self, case: Case, later: int) -> None:
        """The worker's pass, once the clock moved on (only once there is a case)."""
        self.now += timedelta(minutes=later)
        self.traveller.move_to(self.now)
        deadlines.sweep(self.now, batch=50)

    # Invariants --------------------------------------------------------------------------

    @invariant()
    def trails_verify_and_replay_to_the_rows(self) -> None:
        report = verify_database()
        assert report.ok, [str(p) for p in report.problems]

    @invariant()
    def every_deadline_replays_to_its_row(self) -> None:
        for case in Case.objects.order_by("pk"):
            assert_replay_holds_every_deadline(case)

    @invariant()
    def nobody_leaves_before_the_work_is_done(self) -> None:
        for summons in Summons.objects.filter(left_at__isnull=False).select_related("case"):
            assert summons.released_at is not None or summons.case.handled_at is not None

    def a_checkpoint_holds_every_trail_as_it_stands(self) -> None:
        """Checked at the end of each run (teardown)."""
        with transaction.atomic():
            leaves = build_document(now=self.now)["leaves"]["cases"]
        stored = {
            reference: (length, head or "0" * 64)
            for reference, length, head in Case.objects.values_list(
                "reference", "trail_length", "trail_head"
            )
        }
        assert {leaf[1]: (leaf[2], leaf[3]) for leaf in leaves} == stored


def test_any_sequence_of_actions_keeps_the_trail_a_proof_of_the_rows(whistle_city):
    Township.city = whistle_city
    run_state_machine_as_test(
        Township,
        settings=settings(
            max_examples=10,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_the_state_machine_reaches_the_end_of_a_summons(whistle_city):
    """The happy path the machine can take, played once, so that the rules are known to
    reach a closed case (a machine that only meets refusals would prove little)."""
    Township.city = whistle_city
    machine = Township()
    try:
        case: Any = machine.report("steward")
        machine.file(case, "dispatcher")
        machine.whistle(case, "dispatcher", {"urban"})
        machine.acknowledge(case, 0, "urban_officer")
        machine.check_in(case, 0, "urban_officer", False)
        machine.progress(case, 0, "urban_officer")
        machine.result(case, 0, "urban_officer")
        machine.resolve(case, "dispatcher")
        machine.check_out(case, 0, "urban_officer")
        machine.sweep(case, 30)
        machine.check_and_close(case, "dispatcher")
        machine.trails_verify_and_replay_to_the_rows()
        machine.every_deadline_replays_to_its_row()
        machine.nobody_leaves_before_the_work_is_done()
        machine.a_checkpoint_holds_every_trail_as_it_stands()
        case.refresh_from_db()
        assert case.status == Case.Status.CLOSED, machine.refusals
        assert machine.refusals == 0
    finally:
        machine.teardown()


def test_the_state_machine_reaches_rework_and_the_backlog(whistle_city):
    """The rules that move deadlines, played once: rework, the backlog and a resumption by
    each rule, with the sweep between; every deadline replays to its row after each."""
    Township.city = whistle_city
    machine = Township()
    try:
        case: Any = machine.report("steward")
        machine.file(case, "dispatcher")
        machine.whistle(case, "dispatcher", {"urban"})
        machine.acknowledge(case, 0, "urban_officer")
        machine.check_in(case, 0, "urban_officer", False)
        machine.result(case, 0, "urban_officer")
        machine.resolve(case, "dispatcher")
        machine.check_out(case, 0, "urban_officer")
        machine.rework(case, "dispatcher")
        machine.every_deadline_replays_to_its_row()
        for fresh in (False, True):
            machine.backlog(case, "dispatcher", 3)
            machine.sweep(case, 120)
            machine.resume(case, "dispatcher", fresh)
            machine.every_deadline_replays_to_its_row()
        machine.trails_verify_and_replay_to_the_rows()
        kinds = list(Event.objects.filter(case=case).values_list("kind", flat=True))
        assert kinds.count(EventKind.BACKLOG_RESUMED) == 2 and EventKind.REWORK in kinds
        assert machine.refusals == 0
    finally:
        machine.teardown()
