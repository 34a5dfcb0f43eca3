"""Patrols: who may start one, one open patrol per person, the route and its geodesic
distance, the checklist, and what the end records for the chiefs' assessment."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.fixtures_street import MORNING, ON_THE_LANE, reported, street_fixture  # noqa: F401
from whistle.cases.errors import ActionRefused, InvalidInput, PermissionRefused
from whistle.organisation import geo
from whistle.patrols import checklist
from whistle.patrols.actions import (
    end_patrol,
    open_patrol,
    patrol_lanes,
    record_check,
    record_positions,
    start_patrol,
)
from whistle.patrols.models import CheckResult, Patrol, PatrolEvent, RoutePoint
from whistle.patrols.route import Fix, RouteRules, coverage, walk

pytestmark = pytest.mark.django_db

# The lane's centre line runs north from 116.432, 39.872 for 204 m.
SOUTH_END = (116.432, 39.872)
NORTH_END = (116.432, 39.87384)


def point(seq: int, lon: float, lat: float, seconds: int, accuracy: float | None = 5.0) -> dict:
    return {
        "seq": seq,
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy,
        "at": (MORNING + timedelta(seconds=seconds)).isoformat(),
    }


def along_the_lane(count: int, *, start_seq: int = 0, every: int = 10) -> list[dict]:
    """``count`` positions evenly from the south end to the north end, ``every`` seconds."""
    lat0, lat1 = SOUTH_END[1], NORTH_END[1]
    return [
        point(
            start_seq + i,
            116.432,
            lat0 + (lat1 - lat0) * i / (count - 1),
            (start_seq + i) * every,
        )
        for i in range(count)
    ]


@pytest.fixture
def walking(street):
    """Wang Fang starts a patrol of 人民市场东巷 at 10:00."""
    with time_machine.travel(MORNING, tick=False):
        return start_patrol(street.steward, lane=street.lane)


@time_machine.travel(MORNING, tick=False)
def test_a_steward_starts_a_patrol_of_her_lane_with_its_checklist(street):
    patrol = start_patrol(street.steward, lane=street.lane)
    assert patrol.is_open
    assert patrol.role == "steward"
    assert patrol.started_at == MORNING
    keys = [entry["key"] for entry in patrol.checklist]
    assert len(keys) == 13  # the ten noes and the steward's three items
    assert patrol.checklist[0]["label"] == "无违法建设"
    assert patrol.checklist[-1]["label"] == "犬只粪便已清理"
    assert PatrolEvent.objects.filter(patrol=patrol, kind="started").count() == 1


@time_machine.travel(MORNING, tick=False)
def test_a_lane_with_its_own_checklist_uses_it_instead(street):
    street.lane.checklist = ["无违章停车", "消防通道畅通", "消防通道畅通", ""]
    street.lane.save(update_fields=["checklist"])
    patrol = start_patrol(street.steward, lane=street.lane)
    assert [e["label"] for e in patrol.checklist] == ["无违章停车", "消防通道畅通"]
    assert patrol.checklist[1]["problem"] == "消防通道畅通"
    assert patrol.checklist[0]["problem"] == "违章停车"


@time_machine.travel(MORNING, tick=False)
def test_a_township_chief_may_patrol_every_lane_of_the_township_but_not_another(street):
    patrol = start_patrol(street.township_chief, lane=street.lane)
    assert patrol.role == "township_chief"
    assert set(patrol_lanes(street.township_chief)) == {street.lane}
    end_patrol(street.township_chief, patrol)
    with pytest.raises(PermissionRefused):
        start_patrol(street.township_chief, lane=street.city.dongsi_lane)


@time_machine.travel(MORNING, tick=False)
def test_it_refuses_a_patrol_of_someone_elses_lane_and_people_without_a_street_role(street):
    with pytest.raises(PermissionRefused) as refused:
        start_patrol(street.dongsi_steward, lane=street.lane)
    assert "人民市场东巷" in str(refused.value)
    with pytest.raises(PermissionRefused):
        start_patrol(street.dispatcher, lane=street.lane)
    assert not Patrol.objects.exists()


def test_it_refuses_a_second_open_patrol_and_says_which_one_is_open(walking, street):
    with (
        time_machine.travel(MORNING + timedelta(minutes=5), tick=False),
        pytest.raises(ActionRefused) as refused,
    ):
        start_patrol(street.steward, lane=street.lane)
    assert "人民市场东巷" in str(refused.value) and "10:00" in str(refused.value)
    assert Patrol.objects.filter(person=street.steward).count() == 1
    assert open_patrol(street.steward) == walking


def test_the_database_itself_keeps_one_open_patrol_per_person(walking, street):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Patrol.objects.create(
            person=street.steward,
            lane=street.lane,
            role="steward",
            started_at=MORNING,
            last_activity_at=MORNING,
        )


def test_a_new_patrol_may_start_once_the_last_one_ended(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=30), tick=False):
        end_patrol(street.steward, walking)
        again = start_patrol(street.steward, lane=street.lane)
    assert again.pk != walking.pk and again.is_open


def test_walking_the_whole_lane_adds_up_its_geodesic_length(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        result = record_positions(street.steward, walking, points=along_the_lane(11))
    walking.refresh_from_db()
    expected = geo.distance_m(SOUTH_END, NORTH_END)
    assert result.accepted == 11 and result.duplicates == 0
    assert walking.distance_m == pytest.approx(expected, abs=0.2)
    assert walking.distance_m == pytest.approx(street.lane.length_m, abs=0.5)
    assert walking.point_count == 11
    assert walking.counted_point_count == 11
    assert walking.location == Patrol.Location.RECORDING


def test_a_batch_sent_twice_is_stored_once(walking, street):
    batch = along_the_lane(6)
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        record_positions(street.steward, walking, points=batch)
        again = record_positions(street.steward, walking, points=batch)
    walking.refresh_from_db()
    assert again.accepted == 0 and again.duplicates == 6
    assert RoutePoint.objects.filter(patrol=walking).count() == 6
    assert walking.distance_m == pytest.approx(geo.distance_m(SOUTH_END, NORTH_END), abs=0.2)


def test_batches_that_arrive_out_of_order_give_the_same_distance(walking, street):
    points = along_the_lane(11)
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        record_positions(street.steward, walking, points=points[6:])
        record_positions(street.steward, walking, points=points[:6])
    walking.refresh_from_db()
    assert walking.distance_m == pytest.approx(geo.distance_m(SOUTH_END, NORTH_END), abs=0.2)
    assert walking.counted_point_count == 11


def test_standing_still_with_jitter_and_an_inaccurate_fix_add_no_distance(walking, street):
    lon, lat = ON_THE_LANE
    points = [
        point(0, lon, lat, 0),
        point(1, lon + 0.00003, lat, 10),  # about 2.6 m: jitter
        point(2, lon, lat + 0.00004, 20),  # about 4.4 m: jitter
        point(3, lon + 0.01, lat, 30, accuracy=900),  # a cell-tower fix 850 m away
    ]
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        record_positions(street.steward, walking, points=points)
    walking.refresh_from_db()
    assert walking.distance_m == 0
    assert walking.point_count == 4
    assert walking.counted_point_count == 1


def test_an_impossible_jump_is_left_out_of_the_distance(walking, street):
    lon, lat = SOUTH_END
    points = [
        point(0, lon, lat, 0),
        point(1, lon, lat + 0.01, 5),  # 1.1 km in 5 seconds
        point(2, lon, lat + 0.0003, 40),  # 33 m in 40 seconds: walking
    ]
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        record_positions(street.steward, walking, points=points)
    walking.refresh_from_db()
    assert walking.distance_m == pytest.approx(
        geo.distance_m((lon, lat), (lon, lat + 0.0003)), abs=0.1
    )


def test_the_route_restarts_after_a_bad_first_fix():
    rules = RouteRules(max_accuracy_m=50, min_step_m=10, max_speed_mps=8)
    far = Fix(116.5, 39.9, 5, MORNING)
    steps = [
        Fix(116.432, 39.872 + 0.0002 * i, 5, MORNING + timedelta(seconds=10 * (i + 1)))
        for i in range(6)
    ]
    result = walk([far, *steps], rules)
    # The three jumps away from the bad fix restart the route at the third step; the
    # steps after it are walked.
    assert result.counted == [True, False, False, True, True, True, True]
    assert result.distance_m == pytest.approx(
        geo.distance_m((116.432, 39.8724), (116.432, 39.873)), abs=0.1
    )


def test_it_refuses_malformed_positions_and_writes_none_of_the_batch(walking, street):
    good = point(0, *ON_THE_LANE, 0)
    cases = [
        [good, {"seq": 1, "lon": "116.4", "lat": 39.87, "at": MORNING.isoformat()}],
        [good, {"seq": 1, "lon": 116.4, "lat": 95.0, "at": MORNING.isoformat()}],
        [good, {"seq": 1, "lon": 116.4, "lat": 39.87, "at": "2026-11-26T10:00:00"}],
        [good, {"seq": -1, "lon": 116.4, "lat": 39.87, "at": MORNING.isoformat()}],
        [good, point(1, *ON_THE_LANE, -3600)],  # an hour before the patrol started
        [good, {**point(1, *ON_THE_LANE, 10), "accuracy_m": float("nan")}],
        "not a list",
    ]
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        for points in cases:
            with pytest.raises(InvalidInput):
                record_positions(street.steward, walking, points=points)
    assert not RoutePoint.objects.exists()


@pytest.mark.parametrize("location", [{}, ["denied"], 3, "pending", "flying"])
def test_it_refuses_a_positions_status_that_is_not_one_the_browser_reports(
    walking, street, location
):
    with (
        time_machine.travel(MORNING + timedelta(minutes=1), tick=False),
        pytest.raises(InvalidInput) as refused,
    ):
        record_positions(street.steward, walking, points=along_the_lane(2), location=location)
    assert refused.value.field == "location"
    assert not RoutePoint.objects.exists()
    assert Patrol.objects.get(pk=walking.pk).location == Patrol.Location.PENDING


def test_it_refuses_times_that_name_no_real_moment(walking, street):
    for at in (
        "2026-13-45T10:00:00+08:00",
        "2026-11-26T10:00:00+99:00",
        "9999-12-31T23:59:59-23:59",
    ):
        with (
            time_machine.travel(MORNING + timedelta(minutes=1), tick=False),
            pytest.raises(InvalidInput) as refused,
        ):
            record_positions(
                street.steward,
                walking,
                points=[{"seq": 1, "lon": ON_THE_LANE[0], "lat": ON_THE_LANE[1], "at": at}],
            )
        assert refused.value.field == "points.1"
    assert not RoutePoint.objects.exists()


def test_a_batch_larger_than_the_limit_is_refused(walking, street, settings):
    settings.WHISTLE_PATROL_MAX_BATCH = 5
    with (
        time_machine.travel(MORNING + timedelta(minutes=5), tick=False),
        pytest.raises(InvalidInput),
    ):
        record_positions(street.steward, walking, points=along_the_lane(6))


def test_positions_denied_are_recorded_and_the_patrol_goes_on(walking, street):
    with time_machine.travel(MORNING + timedelta(seconds=20), tick=False):
        record_positions(street.steward, walking, location="denied")
        record_check(street.steward, walking, item="no-illegal-parking", result="ok")
        ended = end_patrol(street.steward, walking)
    assert ended.location == Patrol.Location.DENIED
    assert ended.distance_m == 0 and ended.covered_ratio is None
    event = PatrolEvent.objects.get(patrol=walking, kind="location")
    assert event.data == {"before": "pending", "after": "denied"}


def test_only_the_patrolling_person_records_on_a_patrol(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        with pytest.raises(PermissionRefused):
            record_positions(street.lane_chief, walking, points=along_the_lane(3))
        with pytest.raises(PermissionRefused):
            record_check(street.lane_chief, walking, item="dog-waste", result="ok")
        with pytest.raises(PermissionRefused):
            end_patrol(street.lane_chief, walking)


def test_ticking_an_item_twice_keeps_the_last_answer(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        record_check(street.steward, walking, item="shared-bikes", result="problem")
        check = record_check(
            street.steward, walking, item="shared-bikes", result="problem", outcome="fixed"
        )
    assert CheckResult.objects.filter(patrol=walking).count() == 1
    assert check.label == "共享单车停放有序"
    assert check.outcome == "fixed"
    assert PatrolEvent.objects.filter(patrol=walking, kind="checked").count() == 2


def test_the_checklist_refuses_unknown_items_and_outcomes_without_a_problem(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        with pytest.raises(InvalidInput):
            record_check(street.steward, walking, item="no-such-item", result="ok")
        with pytest.raises(InvalidInput):
            record_check(street.steward, walking, item="dog-waste", result="fine")
        with pytest.raises(InvalidInput):
            record_check(street.steward, walking, item="dog-waste", result="ok", outcome="fixed")
        with pytest.raises(InvalidInput):
            record_check(
                street.steward, walking, item="dog-waste", result="problem", outcome="reported"
            )
    assert not CheckResult.objects.exists()


def test_a_reported_problem_is_linked_to_its_case_and_stays_a_problem(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=3), tick=False):
        case = reported(street.steward)
        record_check(
            street.steward,
            walking,
            item="no-road-trading",
            result="problem",
            outcome="reported",
            case=case,
        )
        with pytest.raises(ActionRefused) as refused:
            record_check(street.steward, walking, item="no-road-trading", result="ok")
    assert case.reference in str(refused.value)
    assert CheckResult.objects.get(patrol=walking, item="no-road-trading").case == case


def test_only_ones_own_case_can_be_linked_to_a_check(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=3), tick=False):
        case = reported(street.lane_chief)
        with pytest.raises(InvalidInput):
            record_check(
                street.steward,
                walking,
                item="no-road-trading",
                result="problem",
                outcome="reported",
                case=case,
            )


def test_ending_records_every_unticked_item_as_not_checked_and_the_coverage(walking, street):
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        record_positions(street.steward, walking, points=along_the_lane(11))
        record_check(street.steward, walking, item="no-illegal-parking", result="ok")
        record_check(street.steward, walking, item="dog-waste", result="problem", outcome="fixed")
    with time_machine.travel(MORNING + timedelta(minutes=25), tick=False):
        ended = end_patrol(street.steward, walking)
    assert ended.ended_at == MORNING + timedelta(minutes=25)
    results = dict(CheckResult.objects.filter(patrol=walking).values_list("item", "result"))
    assert len(results) == 13
    assert results["no-illegal-parking"] == "ok"
    assert results["dog-waste"] == "problem"
    assert list(results.values()).count("not_checked") == 11
    assert ended.covered_ratio == 1.0
    summary = PatrolEvent.objects.get(patrol=walking, kind="ended").data
    assert summary["checks"] == {"ok": 1, "problem": 1, "not_checked": 11}
    with pytest.raises(ActionRefused):
        end_patrol(street.steward, ended)
    with pytest.raises(ActionRefused):
        record_check(street.steward, ended, item="dog-waste", result="ok")


def test_half_the_lane_walked_covers_about_half_of_it(walking, street):
    half = [p for p in along_the_lane(11) if p["lat"] <= 39.8729]
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        record_positions(street.steward, walking, points=half)
        ended = end_patrol(street.steward, walking)
    # Positions reach 82 m up the 204 m lane; 30 m of tolerance beyond make about 55%.
    assert ended.covered_ratio is not None
    assert 0.5 <= ended.covered_ratio <= 0.6


def test_coverage_is_zero_far_from_the_lane_and_for_a_broken_line():
    line = {"type": "LineString", "coordinates": [list(SOUTH_END), list(NORTH_END)]}
    assert coverage(line, [(116.44, 39.872)]) == 0.0
    assert coverage({"type": "Point"}, [SOUTH_END]) == 0.0
    assert coverage(line, []) == 0.0


def test_the_default_checklist_reads_in_english_too():
    from django.utils import translation

    with translation.override("en"):
        labels = [str(item.label) for item in checklist.DEFAULT_ITEMS]
    assert labels[0] == "No illegal building"
    assert "Dog waste cleared" in labels
    with translation.override("zh-hans"):
        labels = [str(item.label) for item in checklist.DEFAULT_ITEMS]
    assert labels[:3] == ["无违法建设", "无开墙打洞", "无违章停车"]
