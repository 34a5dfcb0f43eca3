"""The on-site proof (报到): a check-in's position and its provenance, the district's rules
that make it clean, flagged or refused, the township's ruling on a flagged check-in, and
what the assessment makes of it."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
import time_machine
from django.utils import translation

from tests.fixtures_assessment import scheme_one_third
from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    give_role,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.assessment.engine import check_all, update_scores
from whistle.assessment.indicators import indicators
from whistle.assessment.models import Came, SummonsAssessment
from whistle.cases import actions, proof
from whistle.cases.deadlines import sweep
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind, record
from whistle.notifications import texts
from whistle.notifications.models import Notification
from whistle.organisation import geo
from whistle.organisation.models import Role, RoleAssignment
from whistle.policies.models import CheckInRule

NOW = beijing(2026, 3, 10, 10, 0)
S = Summons.Status
Flag = Summons.CheckInFlag
PHONE = "0b7c3e9a-41d2-4c55-9f1e-8a6d2b3c4e5f"


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def minutes(n: float):
    return NOW + timedelta(minutes=n)


def point_at(distance_m: float, origin=ON_THE_LANE) -> tuple[float, float]:
    lon, lat, _back = geo.WGS84.fwd(origin[0], origin[1], 90, distance_m)
    return lon, lat


def summoned(city, at=NOW, **whistle):
    """A whistle for urban management and the police, both acknowledged a minute later."""
    case, _whistle, summonses = whistled_case(city, at=at, **whistle)
    urban = actions.acknowledge(
        city.urban_officer, summonses[city.urban.pk], now=at + timedelta(minutes=1)
    )
    police = actions.acknowledge(
        city.police_officer, summonses[city.police.pk], now=at + timedelta(minutes=1)
    )
    return case, urban, police


def set_rules(city, **rules) -> None:
    for name, value in rules.items():
        setattr(city.policy, name, value)
    city.policy.save(update_fields=list(rules))


def last_event(summons: Summons) -> Event:
    event = Event.objects.filter(summons=summons).order_by("-seq").first()
    assert event is not None
    return event


# Provenance in the trail --------------------------------------------------------------------


def test_the_check_in_event_records_the_positions_provenance_and_the_verdict(whistle_city):
    city = whistle_city
    _case, urban, _police = summoned(city)
    at = minutes(5)
    urban = actions.check_in(
        city.urban_officer,
        urban,
        **device_fix(point_at(120), at - timedelta(seconds=3), accuracy_m=15, device_id=PHONE),
        now=at,
    )
    assert (urban.status, urban.check_in_flag, urban.arrived_at) == (S.ON_SITE, Flag.NONE, at)
    event = last_event(urban)
    assert event.kind == EventKind.CHECK_IN_ACCEPTED
    assert {
        key: event.data[key]
        for key in (
            "source",
            "accuracy_m",
            "device_time",
            "server_time",
            "clock_skew_s",
            "max_skew_s",
            "distance_m",
            "radius_m",
            "device_id",
            "verdict",
            "reasons",
        )
    } == {
        "source": "device",
        "accuracy_m": 15.0,
        "device_time": (at - timedelta(seconds=3)).astimezone(UTC).isoformat(),
        "server_time": at.astimezone(UTC).isoformat(),
        "clock_skew_s": -3.0,
        "max_skew_s": 120,
        "distance_m": 120.0,
        "radius_m": 300,
        "device_id": PHONE,
        "verdict": "clean",
        "reasons": [],
    }
    assert event.at == at


def test_it_refuses_a_device_id_that_is_not_one_and_writes_nothing(whistle_city):
    city = whistle_city
    case, urban, _police = summoned(city)
    before = Event.objects.filter(case=case).count()
    with pytest.raises(actions.InvalidInput) as refused:
        actions.check_in(
            city.urban_officer, urban, **device_fix(device_id="<script>"), now=minutes(5)
        )
    assert refused.value.field == "device_id"
    with pytest.raises(actions.InvalidInput) as refused:
        actions.check_in(
            city.urban_officer, urban, **{**device_fix(), "source": "gps"}, now=minutes(5)
        )
    assert refused.value.field == "source"
    assert Event.objects.filter(case=case).count() == before


# Typed positions, accuracy, clocks ----------------------------------------------------------


def test_a_position_typed_at_the_lane_by_an_officer_2_km_away_is_never_clean(whistle_city):
    city = whistle_city
    _case, urban, _police = summoned(city)
    # The phone, 2 km away, is refused ...
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(
            city.urban_officer, urban, **device_fix(point_at(2000), minutes(5)), now=minutes(5)
        )
    # ... so the lane's own coordinates are typed in half a minute later.
    urban = actions.check_in(
        city.urban_officer,
        urban,
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        source="typed",
        now=minutes(5.5),
    )
    assert (urban.status, urban.check_in_flag) == (S.ON_SITE, Flag.PENDING)
    assert urban.check_in_flag_reasons == ["typed", "too_fast"]
    event = last_event(urban)
    assert event.kind == EventKind.CHECK_IN_FLAGGED
    assert (event.data["distance_m"], event.data["verdict"]) == (0.0, "flagged")
    assert event.data["previous_distance_m"] == pytest.approx(2000, abs=0.1)
    # (2,000 − 5) m in 30 s, the phone's accuracy granted.
    assert event.data["speed_kmh"] == 239.4


def test_a_district_may_refuse_typed_and_map_picked_positions_outright(whistle_city):
    city = whistle_city
    set_rules(city, checkin_when_typed=CheckInRule.REFUSE)
    _case, urban, police = summoned(city)
    for officer, summons, source in (
        (city.urban_officer, urban, "typed"),
        (city.police_officer, police, "map_pick"),
    ):
        with pytest.raises(actions.CheckInRefused) as refused:
            actions.check_in(
                officer, summons, lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], source=source
            )
        assert "only a position from the device's location" in str(refused.value)
        assert last_event(summons).data["reason"] == source
    assert Summons.objects.get(pk=urban.pk).status == S.ACKNOWLEDGED


def test_a_check_in_250_m_away_with_an_accuracy_of_5000_m_is_not_accepted_clean(whistle_city):
    city = whistle_city
    _case, urban, police = summoned(city)
    urban = actions.check_in(
        city.urban_officer,
        urban,
        **device_fix(point_at(250), minutes(5), accuracy_m=5000),
        now=minutes(5),
    )
    assert (urban.check_in_flag, urban.check_in_flag_reasons) == (Flag.PENDING, ["imprecise"])
    set_rules(city, checkin_when_imprecise=CheckInRule.REFUSE)
    with pytest.raises(actions.CheckInRefused) as refused:
        actions.check_in(
            city.police_officer,
            police,
            **device_fix(point_at(250), minutes(6), accuracy_m=5000),
            now=minutes(6),
        )
    assert "only accurate to ± 5000 m" in str(refused.value)
    assert last_event(police).data["reasons"] == ["imprecise"]


def test_a_position_without_its_accuracy_counts_as_imprecise(whistle_city):
    city = whistle_city
    _case, urban, _police = summoned(city)
    urban = actions.check_in(
        city.urban_officer, urban, **device_fix(at=minutes(5), accuracy_m=None), now=minutes(5)
    )
    assert urban.check_in_flag_reasons == ["accuracy_unknown"]


def test_the_device_time_may_differ_from_the_servers_by_the_allowed_skew_and_no_more(
    whistle_city,
):
    city = whistle_city
    _case, urban, police = summoned(city)
    police = actions.check_in(
        city.police_officer,
        police,
        **device_fix(ON_THE_LANE, minutes(5) - timedelta(seconds=120)),
        now=minutes(5),
    )
    assert police.check_in_flag == Flag.NONE
    assert last_event(police).data["clock_skew_s"] == -120.0
    urban = actions.check_in(
        city.urban_officer,
        urban,
        **device_fix(ON_THE_LANE, minutes(6) + timedelta(seconds=121)),
        now=minutes(6),
    )
    assert (urban.check_in_flag, urban.check_in_flag_reasons) == (Flag.PENDING, ["clock_skew"])
    assert last_event(urban).data["clock_skew_s"] == 121.0


def test_a_district_may_refuse_a_skewed_or_timeless_position(whistle_city):
    city = whistle_city
    set_rules(city, checkin_when_skewed=CheckInRule.REFUSE, checkin_max_skew_s=30)
    _case, urban, police = summoned(city)
    with pytest.raises(actions.CheckInRefused) as refused:
        actions.check_in(
            city.urban_officer,
            urban,
            **device_fix(ON_THE_LANE, minutes(5) - timedelta(seconds=31)),
            now=minutes(5),
        )
    assert "differs from the server's by 31.0 seconds (at most 30)" in str(refused.value)
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(
            city.police_officer,
            police,
            **{**device_fix(ON_THE_LANE), "device_time": None},
            now=minutes(6),
        )
    assert last_event(police).data["reason"] == "device_time_unknown"


def test_a_district_may_accept_a_check_in_beyond_the_radius_flagged(whistle_city):
    city = whistle_city
    set_rules(city, checkin_when_far=CheckInRule.FLAG)
    _case, urban, _police = summoned(city)
    urban = actions.check_in(
        city.urban_officer, urban, **device_fix(point_at(400), minutes(5)), now=minutes(5)
    )
    assert (urban.check_in_flag, urban.check_in_flag_reasons) == (Flag.PENDING, ["too_far"])


# Implausible sequences --------------------------------------------------------------------


def test_positions_implying_more_than_the_speed_limit_are_flagged_across_cases(whistle_city):
    city = whistle_city
    meeting = point_at(1000)
    _a, urban_a, police_a = summoned(city)
    _b, urban_b, police_b = summoned(city, meeting_lon=meeting[0], meeting_lat=meeting[1])
    at = minutes(5)
    for officer, summons in ((city.urban_officer, urban_a), (city.police_officer, police_a)):
        actions.check_in(officer, summons, **device_fix(ON_THE_LANE, at, accuracy_m=0), now=at)
    # In 29 s, 1,000 m is 124.1 km/h: beyond the district's limit.
    then = at + timedelta(seconds=29)
    police_b = actions.check_in(
        city.police_officer, police_b, **device_fix(meeting, then, accuracy_m=0), now=then
    )
    assert police_b.check_in_flag_reasons == ["too_fast"]
    assert last_event(police_b).data["speed_kmh"] == 124.1
    # 1,000 m in 30 s is 120 km/h, the district's limit: plausible.
    then = at + timedelta(seconds=30)
    urban_b = actions.check_in(
        city.urban_officer, urban_b, **device_fix(meeting, then, accuracy_m=0), now=then
    )
    assert urban_b.check_in_flag == Flag.NONE
    assert last_event(urban_b).data["speed_kmh"] == 120.0


def test_a_check_in_flagged_too_fast_says_when_and_how_far_the_earlier_position_was(
    whistle_city,
):
    city = whistle_city
    meeting = point_at(1000)
    _a, _urban_a, police_a = summoned(city)
    _b, _urban_b, police_b = summoned(city, meeting_lon=meeting[0], meeting_lat=meeting[1])
    at = minutes(5)
    actions.check_in(city.police_officer, police_a, **device_fix(ON_THE_LANE, at), now=at)
    then = at + timedelta(seconds=20)
    police_b = actions.check_in(
        city.police_officer, police_b, **device_fix(meeting, then), now=then
    )
    assert last_event(police_b).data["previous_kind"] == EventKind.CHECK_IN_ACCEPTED
    assert str(proof.flag_reasons(police_b)) == (
        "too fast from the officer's previous position, recorded at 03-10 10:05:00, 1000 m away"
    )
    with translation.override("zh-hans"):
        assert str(proof.flag_reasons(police_b)) == (
            "与该人员上一位置相比移动过快：上一位置记录于 03-10 10:05:00，相距 1000 米"
        )


def test_a_refused_fix_sent_again_counts_from_its_first_sending_in_the_speed_check(
    whistle_city,
):
    city = whistle_city
    _a, _urban_a, police_a = summoned(city)
    away = point_at(1000)
    at = minutes(5)
    fix = device_fix(away, at, accuracy_m=0)
    # 1,000 m from the case: refused; the page is sent again a minute later, the same fix.
    for sent in (at, at + timedelta(minutes=1)):
        with pytest.raises(actions.CheckInRefused):
            actions.check_in(city.police_officer, police_a, **fix, now=sent)
    # 29 s after the second sending, 89 s after the fix: 40.4 km/h, not 124.1.
    then = at + timedelta(seconds=89)
    police_a = actions.check_in(
        city.police_officer, police_a, **device_fix(ON_THE_LANE, then, accuracy_m=0), now=then
    )
    assert police_a.check_in_flag == Flag.NONE
    data = last_event(police_a).data
    assert data["speed_kmh"] == 40.4
    assert data["previous_at"] == at.astimezone(UTC).isoformat()
    assert data["previous_kind"] == EventKind.CHECK_IN_REFUSED


def test_a_new_fix_at_the_same_place_is_a_new_position_for_the_speed_check(whistle_city):
    city = whistle_city
    _a, _urban_a, police_a = summoned(city)
    away = point_at(1000)
    at = minutes(5)
    # The officer stood a minute at the same place and found the position again.
    for sent in (at, at + timedelta(minutes=1)):
        with pytest.raises(actions.CheckInRefused):
            actions.check_in(
                city.police_officer, police_a, **device_fix(away, sent, accuracy_m=0), now=sent
            )
    then = at + timedelta(seconds=89)
    police_a = actions.check_in(
        city.police_officer, police_a, **device_fix(ON_THE_LANE, then, accuracy_m=0), now=then
    )
    assert police_a.check_in_flag_reasons == ["too_fast"]
    assert last_event(police_a).data["speed_kmh"] == 124.1


def test_a_too_fast_check_in_recorded_without_its_comparison_still_reads(whistle_city):
    earlier = NOW.astimezone(UTC).isoformat()
    # Recorded before the trail kept which event the earlier position came from.
    assert str(
        proof.ReasonList(
            ["typed", "too_fast"], {"previous_at": earlier, "previous_distance_m": 4.2}
        )
    ) == (
        "the position was typed in, not taken from the device; too fast from the officer's "
        "previous position, recorded at 03-10 10:00:00, 5 m away"
    )
    # Nothing kept of the earlier position: the reason alone.
    assert str(proof.ReasonList(["too_fast"], {})) == (
        "too fast from the officer's previous position"
    )
    assert proof.compared_with({"previous_at": "yesterday", "previous_distance_m": 4.2}) is None


def test_the_accuracy_of_both_positions_is_granted_before_judging_the_speed(whistle_city):
    city = whistle_city
    meeting = point_at(1000)
    _a, urban_a, _police_a = summoned(city)
    _b, urban_b, _police_b = summoned(city, meeting_lon=meeting[0], meeting_lat=meeting[1])
    at = minutes(5)
    actions.check_in(
        city.urban_officer, urban_a, **device_fix(ON_THE_LANE, at, accuracy_m=50), now=at
    )
    then = at + timedelta(seconds=28)
    urban_b = actions.check_in(
        city.urban_officer, urban_b, **device_fix(meeting, then, accuracy_m=20), now=then
    )
    # (1,000 − 50 − 20) m in 28 s: 119.6 km/h.
    assert urban_b.check_in_flag == Flag.NONE
    assert last_event(urban_b).data["speed_kmh"] == 119.6


def test_one_device_checking_in_for_two_departments_is_flagged(whistle_city):
    city = whistle_city
    _a, urban, police = summoned(city)
    _b, urban_b, _police_b = summoned(city, at=minutes(2))

    def check_in(officer, summons, minute):
        at = minutes(minute)
        return actions.check_in(officer, summons, **device_fix(device_id=PHONE, at=at), now=at)

    assert check_in(city.urban_officer, urban, 5).check_in_flag == Flag.NONE
    # Another officer of the same department with the same phone: nothing to flag.
    assert check_in(city.urban_head, urban_b, 15).check_in_flag == Flag.NONE
    # The police with urban management's phone.
    police = check_in(city.police_officer, police, 16)
    assert police.check_in_flag_reasons == ["shared_device"]
    assert last_event(police).data["device_id"] == PHONE
    # A day later the window (24 hours) has passed.
    later = NOW + timedelta(hours=25)
    _c, _whistle, summonses = whistled_case(city, at=later, departments=[city.fire])
    fire = actions.acknowledge(
        city.fire_officer, summonses[city.fire.pk], now=later + timedelta(minutes=1)
    )
    fire = actions.check_in(
        city.fire_officer,
        fire,
        **device_fix(device_id=PHONE, at=later + timedelta(minutes=5)),
        now=later + timedelta(minutes=5),
    )
    assert fire.check_in_flag == Flag.NONE


# The check-out's position ---------------------------------------------------------------------


def released_on_site(city):
    """城管 checked in at the lane at 10:05 and released by the township at 10:20."""
    _case, urban, _police = summoned(city)
    at = minutes(5)
    urban = actions.check_in(
        city.urban_officer, urban, **device_fix(ON_THE_LANE, at, accuracy_m=0), now=at
    )
    return actions.release(city.dispatcher, urban, now=minutes(20))


def test_the_check_out_event_records_the_positions_provenance(whistle_city):
    city = whistle_city
    urban = released_on_site(city)
    at = minutes(25)
    actions.check_out(
        city.urban_officer,
        urban,
        **device_fix(point_at(80), at - timedelta(seconds=2), accuracy_m=12, device_id=PHONE),
        now=at,
    )
    event = last_event(urban)
    assert event.kind == EventKind.CHECK_OUT
    assert (event.lon, event.lat) == pytest.approx(point_at(80))
    assert {
        key: event.data[key]
        for key in (
            "source",
            "accuracy_m",
            "device_time",
            "server_time",
            "clock_skew_s",
            "device_id",
            "distance_m",
            "target",
        )
    } == {
        "source": "device",
        "accuracy_m": 12.0,
        "device_time": (at - timedelta(seconds=2)).astimezone(UTC).isoformat(),
        "server_time": at.astimezone(UTC).isoformat(),
        "clock_skew_s": -2.0,
        "device_id": PHONE,
        "distance_m": 80.0,
        "target": "case",
    }


def test_an_early_check_out_keeps_its_positions_provenance_too(whistle_city):
    city = whistle_city
    _case, urban, _police = summoned(city)
    urban = actions.check_in(city.urban_officer, urban, **device_fix(), now=minutes(5))
    with pytest.raises(actions.CheckOutRefused):
        actions.check_out(
            city.urban_officer, urban, **device_fix(point_at(30), minutes(9)), now=minutes(9)
        )
    event = last_event(urban)
    assert event.kind == EventKind.CHECK_OUT_REFUSED
    assert (event.data["source"], event.data["distance_m"]) == ("device", 30.0)


def test_a_check_out_may_come_without_a_position_but_never_a_position_without_its_source(
    whistle_city,
):
    city = whistle_city
    urban = released_on_site(city)
    with pytest.raises(actions.InvalidInput) as refused:
        actions.check_out(
            city.urban_officer, urban, lon=ON_THE_LANE[0], lat=ON_THE_LANE[1], now=minutes(25)
        )
    assert refused.value.field == "source"
    assert Summons.objects.get(pk=urban.pk).status == S.RELEASED
    urban = actions.check_out(city.urban_officer, urban, now=minutes(26))
    event = last_event(urban)
    assert urban.status == S.LEFT and event.lon is None
    assert "source" not in event.data


@pytest.mark.parametrize(("source", "reasons"), [("typed", []), ("device", ["too_fast"])])
def test_the_speed_check_reads_a_check_outs_position_only_when_it_came_from_the_device(
    whistle_city, source, reasons
):
    city = whistle_city
    urban = released_on_site(city)
    # Checked out 1,000 m away, then checked in at the lane of a new whistle 29 s later:
    # 124 km/h if the check-out's position was where the officer stood.
    at = minutes(25)
    fix = device_fix(point_at(1000), at, accuracy_m=0)
    actions.check_out(city.urban_officer, urban, **{**fix, "source": source}, now=at)
    _case, next_urban, _police = summoned(city, at=minutes(20))
    then = at + timedelta(seconds=29)
    next_urban = actions.check_in(
        city.urban_officer, next_urban, **device_fix(ON_THE_LANE, then, accuracy_m=0), now=then
    )
    assert next_urban.check_in_flag_reasons == reasons


def test_a_position_kept_without_its_source_never_feeds_the_speed_check(whistle_city):
    city = whistle_city
    urban = released_on_site(city)
    # A check-out stored before positions kept their provenance: typed, 1,000 m away.
    at = minutes(25)
    record(
        urban.case,
        EventKind.CHECK_OUT,
        actor=city.urban_officer,
        role=Role.DEPARTMENT_OFFICER,
        at=at,
        summons=urban,
        lon=point_at(1000)[0],
        lat=point_at(1000)[1],
        data={"minutes_on_site": 20},
    )
    _case, next_urban, _police = summoned(city, at=minutes(20))
    then = at + timedelta(seconds=29)
    next_urban = actions.check_in(
        city.urban_officer, next_urban, **device_fix(ON_THE_LANE, then, accuracy_m=0), now=then
    )
    assert next_urban.check_in_flag_reasons == []
    # The check-in before it, from the device at the lane, is the one measured from.
    assert last_event(next_urban).data["previous_distance_m"] == 0.0


# The township's ruling ------------------------------------------------------------------------


def flagged_check_in(city, summons, officer, at):
    """A check-in whose fix is too coarse for the radius: accepted, flagged."""
    return actions.check_in(
        officer, summons, **device_fix(point_at(100), at, accuracy_m=400), now=at
    )


def test_a_flagged_check_in_is_announced_to_the_dispatchers(whistle_city):
    city = whistle_city
    case, urban, _police = summoned(city)
    flagged_check_in(city, urban, city.urban_officer, minutes(5))
    told = Notification.objects.get(
        kind=EventKind.CHECK_IN_FLAGGED, recipient=city.dispatcher, channel="inbox"
    )
    assert case.reference in told.subject
    assert "定位精度超出报到范围" in told.body
    # In the inbox, someone reading in English reads the reasons in English too.
    with translation.override("en"):
        body = texts.body_of(told.payload, told.body)
    assert "the position's accuracy reaches beyond the radius" in body, body
    assert "定位精度" not in body


def test_the_township_confirms_a_flagged_check_in_with_its_own_event_and_tells_the_department(
    whistle_city,
):
    city = whistle_city
    _case, urban, _police = summoned(city)
    urban = flagged_check_in(city, urban, city.urban_officer, minutes(5))
    flagged = last_event(urban)
    urban = actions.rule_on_check_in(
        city.dispatcher, urban, confirm=True, note="电话核实，已在现场", now=minutes(20)
    )
    assert (urban.status, urban.check_in_flag, urban.arrived_at) == (
        S.ON_SITE,
        Flag.CONFIRMED,
        minutes(5),
    )
    event = last_event(urban)
    assert (event.kind, event.actor, event.actor_role) == (
        EventKind.CHECK_IN_CONFIRMED,
        city.dispatcher,
        Role.DISPATCHER,
    )
    assert event.data == {
        "changes": {"check_in_flag": ["pending", "confirmed"]},
        "check_in_seq": flagged.seq,
        "checked_in_at": minutes(5).astimezone(UTC).isoformat(),
        "reasons": ["imprecise"],
        "note": "电话核实，已在现场",
    }
    told = Notification.objects.filter(kind=EventKind.CHECK_IN_CONFIRMED, channel="inbox")
    assert {n.recipient for n in told} == {city.urban_officer, city.urban_head}
    with pytest.raises(actions.ActionRefused):
        actions.rule_on_check_in(city.dispatcher, urban, confirm=False, note="再议")


def test_a_rejected_check_in_is_no_arrival_and_the_department_may_check_in_again(
    whistle_city,
):
    city = whistle_city
    case, urban, _police = summoned(city)
    urban = flagged_check_in(city, urban, city.urban_officer, minutes(5))
    before = Event.objects.filter(case=case).count()
    with pytest.raises(actions.InvalidInput) as refused:
        actions.rule_on_check_in(city.township_chief, urban, confirm=False, now=minutes(9))
    assert refused.value.field == "note"
    assert Event.objects.filter(case=case).count() == before
    urban = actions.rule_on_check_in(
        city.township_chief, urban, confirm=False, note="现场无人", now=minutes(10)
    )
    assert (urban.status, urban.check_in_flag, urban.arrived_at, urban.arrived_lon) == (
        S.ACKNOWLEDGED,
        Flag.REJECTED,
        None,
        None,
    )
    event = last_event(urban)
    assert event.kind == EventKind.CHECK_IN_REJECTED
    assert event.data["changes"] == {
        "check_in_flag": ["pending", "rejected"],
        "status": ["on_site", "acknowledged"],
    }
    assert Notification.objects.filter(
        kind=EventKind.CHECK_IN_REJECTED, recipient=city.urban_officer
    ).exists()
    # The arrival is still owed, and the deadline judges it: back on site at 10:40.
    urban = actions.check_in(
        city.urban_officer, urban, **device_fix(ON_THE_LANE, minutes(40)), now=minutes(40)
    )
    assert (urban.status, urban.check_in_flag, urban.arrived_at) == (
        S.ON_SITE,
        Flag.NONE,
        minutes(40),
    )
    assert last_event(urban).data["changes"]["check_in_flag"] == ["rejected", ""]
    assert last_event(urban).data["minutes_late"] == 10


def test_nobody_rules_on_a_check_in_they_made_or_of_a_department_they_belong_to(whistle_city):
    city = whistle_city
    _case, urban, police = summoned(city)
    # An officer of urban management who also works at the township's command centre.
    both = city.urban_officer
    give_role(both, Role.DISPATCHER, jurisdiction=city.longtan)
    urban = flagged_check_in(city, urban, both, minutes(5))
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.rule_on_check_in(both, urban, confirm=True, now=minutes(6))
    assert "you filed it yourself" in str(refused.value)
    # Out of the department now, still the one who made it.
    RoleAssignment.objects.filter(person=both, department=city.urban).delete()
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.rule_on_check_in(both, urban, confirm=True, now=minutes(7))
    assert "you filed it yourself" in str(refused.value)
    # A dispatcher who is also the head of the police, on the police's check-in.
    police = flagged_check_in(city, police, city.police_officer, minutes(8))
    give_role(city.dispatcher, Role.DEPARTMENT_HEAD, department=city.police)
    with pytest.raises(actions.PermissionRefused) as refused:
        actions.rule_on_check_in(city.dispatcher, police, confirm=True, now=minutes(9))
    assert f"you belong to {city.police.name}" in str(refused.value)
    # Another township's dispatcher may not rule at all.
    with pytest.raises(actions.PermissionRefused):
        actions.rule_on_check_in(city.dongsi_dispatcher, police, confirm=True, now=minutes(9))
    assert Summons.objects.get(pk=police.pk).check_in_flag == Flag.PENDING
    police = actions.rule_on_check_in(city.township_chief, police, confirm=True, now=minutes(10))
    assert police.check_in_flag == Flag.CONFIRMED


# The assessment -------------------------------------------------------------------------------


def record_of(summons: Summons) -> SummonsAssessment:
    return SummonsAssessment.objects.get(summons=summons)


def test_the_assessment_counts_a_flagged_check_in_only_once_the_township_confirms_it(
    whistle_city,
):
    city = whistle_city
    scheme_one_third(city.district)
    case, urban, police = summoned(city, departments=[city.urban, city.police, city.fire])
    fire = actions.acknowledge(
        city.fire_officer, Summons.objects.get(case=case, department=city.fire), now=minutes(1)
    )
    urban = flagged_check_in(city, urban, city.urban_officer, minutes(10))
    police = flagged_check_in(city, police, city.police_officer, minutes(12))
    fire = flagged_check_in(city, fire, city.fire_officer, minutes(14))
    update_scores()
    # Awaiting the township: not arrived, nothing settled yet.
    assert {record_of(s).came for s in (urban, police, fire)} == {Came.PENDING}

    # Confirmed after the 10:30 deadline, it counts at the time it was made: on time.
    actions.rule_on_check_in(city.dispatcher, urban, confirm=True, now=minutes(45))
    # Rejected: the sweep then finds the arrival overdue, and a new check-in is late.
    actions.rule_on_check_in(
        city.dispatcher, police, confirm=False, note="不在现场", now=minutes(46)
    )
    with time_machine.travel(minutes(47), tick=False):
        sweep(minutes(47), batch=100)
    police = Summons.objects.get(pk=police.pk)
    actions.check_in(
        city.police_officer, police, **device_fix(ON_THE_LANE, minutes(50)), now=minutes(50)
    )
    # Never ruled on, and released: never arrived.
    actions.release(city.dispatcher, fire, now=minutes(60))
    for summons in (urban, police):
        actions.release(city.dispatcher, Summons.objects.get(pk=summons.pk), now=minutes(61))
    update_scores()
    assert (record_of(urban).came, record_of(urban).late_minutes) == (Came.ON_TIME, None)
    assert (record_of(police).came, record_of(police).late_minutes) == (Came.LATE, 20)
    assert record_of(fire).came == Came.NO_SHOW
    assert Event.objects.filter(summons=police, kind=EventKind.ARRIVE_OVERDUE).exists()
    # The records follow from the trail alone, and arrival times count from the check-in.
    assert check_all() == []
    urban_figures = indicators(city.district, "2026-03", department=city.urban)
    assert urban_figures.mean_minutes_to_arrive == 10
