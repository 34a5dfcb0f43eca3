"""The trail: append-only in the database, hash-chained, verified, exported and signed."""

from __future__ import annotations

import io
import itertools
import json
import math
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.fixtures_cases import (
    ON_THE_LANE,
    beijing,
    device_fix,
    play_the_dba,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.export import export_case, verify_document
from whistle.cases.models import Case, Event
from whistle.cases.signing import init_key, key_path, sign
from whistle.cases.trail import (
    EventKind,
    _canonical,
    _chained,
    _content_text,
    _scalar,
    compute_hash,
    event_content,
)
from whistle.cases.verify import verify_database

NOW = beijing(2026, 3, 10, 10, 0)


def event(case: Case, seq: int) -> Event:
    return Event.objects.get(case=case, seq=seq)


def verify(*args: str, **options) -> str:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("verify_trail", *args, stdout=out, stderr=err, **options)
    return out.getvalue()


def failure(**options) -> str:
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command("verify_trail", stdout=io.StringIO(), stderr=io.StringIO(), **options)
    return str(failed.value)


@pytest.fixture
def case(whistle_city) -> Case:
    case, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    return Case.objects.get(pk=case.pk)


def test_every_event_links_to_the_one_before_and_the_case_keeps_the_head(case):
    events = list(Event.objects.filter(case=case))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert (case.trail_length, case.trail_head) == (5, events[-1].hash)


def test_the_database_refuses_to_update_a_trail_event(case):
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(case=case, seq=1).update(kind="case.filed")
    assert event(case, 1).kind == EventKind.CASE_REPORTED


def test_the_database_refuses_to_delete_a_trail_event(case):
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(case=case, seq=2).delete()
    assert Event.objects.filter(case=case).count() == 5


def test_the_model_refuses_to_change_or_delete_an_event(case):
    first = event(case, 1)
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        first.delete()


def test_verify_trail_finds_intact_trails_intact(case):
    assert "Checked 1 cases and 5 events" in verify()
    assert "every trail is intact" in verify()
    assert verify_database().events == 5


def test_verify_trail_names_a_changed_event(case):
    changed = event(case, 2)
    play_the_dba(("UPDATE cases_event SET lon = %s WHERE id = %s", [116.5, changed.pk]))
    message = failure()
    assert case.reference in message
    assert "#2 (case.filed)" in message
    [problem] = verify_database().problems
    assert (problem.case, problem.seq, problem.code) == (case.reference, 2, "changed")


def test_verify_trail_names_an_event_removed_from_the_middle(case):
    play_the_dba(("DELETE FROM cases_event WHERE id = %s", [event(case, 3).pk]))
    message = failure()
    assert case.reference in message and "#4 (summons.created)" in message
    problem, replayed = verify_database().problems
    assert (problem.seq, problem.code, problem.params) == (4, "missing", {"first": 3})
    # The removed event blew the whistle: the case row says so, its trail no longer does.
    assert (replayed.code, replayed.params) == ("replay", {"row": "whistled", "trail": "filed"})


def test_verify_trail_names_two_swapped_events(case):
    third, fourth = event(case, 3), event(case, 4)
    play_the_dba(
        ("UPDATE cases_event SET seq = 1000 WHERE id = %s", [third.pk]),
        ("UPDATE cases_event SET seq = 3 WHERE id = %s", [fourth.pk]),
        ("UPDATE cases_event SET seq = 4 WHERE id = %s", [third.pk]),
    )
    problems = verify_database().problems
    assert [(p.seq, p.kind, p.code, p.params) for p in problems] == [
        (3, "summons.created", "reordered", {"original": 4}),
        (4, "whistle.blown", "reordered", {"original": 3}),
    ]
    assert "#3 (summons.created)" in failure()


def test_verify_trail_notices_events_removed_from_the_end(case):
    play_the_dba(("DELETE FROM cases_event WHERE id = %s", [event(case, 5).pk]))
    [problem] = verify_database().problems
    assert (problem.case, problem.code, problem.params) == (
        case.reference,
        "truncated",
        {"last": 4, "length": 5},
    )
    assert case.reference in failure()


def test_verify_trail_checks_only_the_cases_asked_for(whistle_city, case):
    other, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    play_the_dba(("UPDATE cases_event SET kind = 'x' WHERE id = %s", [event(other, 1).pk]))
    assert "Checked 1 cases" in verify(case=[case.reference])
    assert other.reference in failure(case=[other.reference])
    assert "NOSUCHCASE" in failure(case=["NOSUCHCASE"])


def test_verify_trail_reads_all_events_in_a_fixed_number_of_queries(whistle_city, case):
    with CaptureQueriesContext(connection) as one_case:
        verify_database()
    for _ in range(3):
        whistled_case(whistle_city, at=NOW)
    with CaptureQueriesContext(connection) as four_cases:
        report = verify_database(chunk_size=3)
    assert report.ok and report.cases == 4 and report.events == 20
    # Three streams (cases, events, summonses); smaller chunks only add fetches on
    # PostgreSQL's server-side cursors.
    assert len(one_case.captured_queries) == len(four_cases.captured_queries) <= 3


def test_export_case_writes_a_signed_history_that_verifies_offline(case, tmp_path, settings):
    target = tmp_path / "case.json"
    call_command("export_case", case.reference, output=str(target), stderr=io.StringIO())
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["case"]["reference"] == case.reference
    assert [e["kind"] for e in document["events"]][:3] == [
        "case.reported",
        "case.filed",
        "whistle.blown",
    ]
    assert {s["department"]["name"] for s in document["summonses"]} == {
        "东城区城管执法局",
        "龙潭派出所",
    }
    assert document["events"][-1]["hash"] == document["trail"]["head"]
    assert document["signature"]["fingerprint"].startswith("SHA256:")
    assert stat.S_IMODE(Path(settings.WHISTLE_SIGNING_KEY_FILE).stat().st_mode) == 0o600
    with CaptureQueriesContext(connection) as queries:
        out = verify(file=str(target))
    assert queries.captured_queries == []
    assert document["signature"]["fingerprint"] in out


def test_every_export_is_signed_with_the_one_key_set_up(case, settings):
    first = export_case(case)["signature"]["fingerprint"]
    assert key_path() == Path(settings.WHISTLE_SIGNING_KEY_FILE)
    assert export_case(case)["signature"]["fingerprint"] == first


def test_an_edited_export_fails_verification(case, tmp_path):
    document = export_case(case)
    assert verify_document(document)[0].ok
    document["events"][2]["data"]["kind"] = "emergency"
    target = tmp_path / "edited.json"
    target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    message = failure(file=str(target))
    assert "signature does not match" in message
    assert "#3 (whistle.blown)" in message


def test_a_re_signed_forgery_fails_on_its_chain_and_on_the_expected_key(case, settings, tmp_path):
    genuine = export_case(case)
    forged = json.loads(json.dumps(genuine))
    forged["case"]["description"] = "无事发生"
    forged["events"][0]["data"]["description"] = "无事发生"
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "forger.pem")
    init_key()
    forged = sign(forged)
    report, signer = verify_document(forged)
    assert [p.code for p in report.problems] == ["changed"]
    report, _signer = verify_document(
        forged, expected_fingerprint=genuine["signature"]["fingerprint"]
    )
    assert "unknown_key" in [p.code for p in report.problems]
    assert signer != genuine["signature"]["fingerprint"]


def test_verify_trail_refuses_a_file_that_is_not_an_export(tmp_path, db):
    target = tmp_path / "other.json"
    target.write_text('{"hello": "world"}', encoding="utf-8")
    assert "not a case history" in failure(file=str(target)) or "导出" in failure(file=str(target))
    target.write_text("not json", encoding="utf-8")
    assert "JSON" in failure(file=str(target))
    assert "missing.json" in failure(file=str(tmp_path / "missing.json"))


def test_refused_check_ins_stay_in_a_trail_that_still_verifies(whistle_city):
    case, _whistle, summonses = whistled_case(whistle_city, at=NOW)
    police = summonses[whistle_city.police.pk]
    actions.acknowledge(whistle_city.police_officer, police, now=NOW)
    with pytest.raises(actions.CheckInRefused):
        actions.check_in(
            whistle_city.police_officer, police, **device_fix((116.5, 39.9), NOW), now=NOW
        )
    last = Event.objects.filter(case=case).last()
    assert last is not None and last.kind == EventKind.CHECK_IN_REFUSED
    assert verify_database(references=[case.reference]).ok


@pytest.mark.parametrize("photos", [[], ["photo"]])
def test_a_new_case_is_inserted_with_its_trail_head_and_its_first_event_still_checked(
    whistle_city, photos
):
    """Without photos the case goes in with its trail's length and head (no update of the
    case after); with photos it is inserted first and its head written after them. Either
    way the head is the first event's hash, the trail verifies, and the database refuses
    another first event for the case."""
    c = whistle_city
    with CaptureQueriesContext(connection) as queries:
        new = actions.report_case(
            c.dispatcher,
            description="人民市场东巷有游商占道",
            lon=ON_THE_LANE[0],
            lat=ON_THE_LANE[1],
            photos=[png_bytes() for _ in photos],
        )
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert any('"cases_case"' in sql for sql in updates) == bool(photos)
    stored = Case.objects.get(pk=new.pk)
    [first] = Event.objects.filter(case=new)
    assert (stored.trail_length, stored.trail_head) == (1, first.hash) == (1, new.trail_head)
    assert first.prev_hash == "0" * 64
    assert "every trail is intact" in verify()
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.create(
            case=stored,
            seq=1,
            at=first.at,
            kind=first.kind,
            data=first.data,
            prev_hash=first.prev_hash,
            hash=first.hash[::-1],
        )
    assert Event.objects.filter(case=new).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement trigger")
def test_the_chains_check_looks_up_each_predecessor_however_small_the_trail_looks(case):
    """The statement trigger asks of every inserted event whether its predecessor exists.
    With the event table small beside the statement's rows, PostgreSQL ran that question
    "hashed", reading every event of every case for each statement (each chunk of the
    sweep); it now looks each predecessor up by an index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'cases_event_statement_extends_chain'"
        )
        (source,) = cursor.fetchone()
        start = source.index("SELECT added.seq")
        query = source[start : source.index("LIMIT 1;", start) + len("LIMIT 1")]
        query = query.replace(" INTO refused", "")
        with transaction.atomic():
            # The statement's rows as the trigger sees them: hundreds, against a trail of a
            # few events.
            cursor.execute(
                "CREATE TEMPORARY TABLE cases_event_added ON COMMIT DROP AS "
                "SELECT case_id, seq + 1 AS seq, hash AS prev_hash FROM cases_event"
            )
            cursor.execute(
                "INSERT INTO cases_event_added SELECT 0, n, '' FROM generate_series(2, 400) n"
            )
            cursor.execute(f"EXPLAIN {query}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
    # A subquery run once an event (by an index on a trail of any size; this one is a
    # page), not one read of every event kept hashed.
    assert "SubPlan" in plan and "hashed" not in plan, plan


# Data as callers record it: plain JSON, and what only a JSON round trip puts in stored form
# (a tuple, a key that is not text, -0.0, a text subclass, a moment through its string).
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from([-0.0, 0.0, EventKind.ESCALATED, "步骤"])
)
_DATA = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        | st.dictionaries(st.integers(0, 12), inner, max_size=3)
    ),
    max_leaves=12,
)


def _types(value: Any) -> Any:
    """The value's structure with each leaf replaced by its exact type (a text subclass is
    not `str`)."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value)


@hypothesis_settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(st.text(max_size=6), _DATA, max_size=5))
def test_an_events_stored_data_and_hash_are_those_of_the_json_round_trip(data):
    """`_link` skips the JSON dump and load for plain data: the data it stores (key order
    included) and the hash it chains are byte for byte those of the round trip."""
    from whistle.cases.trail import (
        _EMPTY,
        _canonical,
        _link,
        _stored_form,
        compute_hash,
        event_content,
    )

    moment = beijing(2026, 3, 10, 10, 0)
    link = _link(
        _EMPTY,
        case_uuid="5b0a6a4e-3a9e-4b8c-9d6f-0e1f2a3b4c5d",
        kind=EventKind.ESCALATED,
        actor_id=None,
        actor_role="system",
        summons_uuid=None,
        data=data,
        lon=None,
        lat=None,
        at=moment,
        follow_trail=True,
    )
    stored = _stored_form(json.loads(_canonical(data)))
    content = event_content(
        case_uuid="5b0a6a4e-3a9e-4b8c-9d6f-0e1f2a3b4c5d",
        seq=1,
        at=moment,
        kind=EventKind.ESCALATED,
        actor_id=None,
        actor_role="system",
        summons_uuid=None,
        data=stored,
        lon=None,
        lat=None,
    )
    assert json.dumps(link.data) == json.dumps(stored)
    assert _canonical(link.data) == _canonical(stored)
    assert _types(link.data) == _types(stored)
    assert link.hash == compute_hash(content, _EMPTY.hash)


_JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(st.text(max_size=8), _JSON, max_size=5),
    kind=st.sampled_from([EventKind.ARRIVE_OVERDUE, "note", "吹哨"]),
    actor=st.none() | st.integers(min_value=1, max_value=10**9),
    role=st.text(max_size=10),
    summons=st.none() | st.uuids().map(str),
    place=st.none() | st.floats(min_value=-180, max_value=180),
    seq=st.integers(min_value=1, max_value=10**6),
    micro=st.integers(min_value=0, max_value=10**12),
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_an_events_hash_made_around_its_datas_text_is_the_one_the_verifier_recomputes(
    data, kind, actor, role, summons, place, seq, micro, prev
):
    at = datetime(2026, 5, 12, 1, 0, tzinfo=UTC) + timedelta(microseconds=micro)
    fields = {
        "case_uuid": "5b0c1a9e-3f4d-4e0a-9d52-0e8f4a7b6c21",
        "seq": seq,
        "at": at,
        "kind": kind,
        "actor_id": actor,
        "actor_role": role,
        "summons_uuid": summons,
        "lon": place,
        "lat": None if place is None else -place,
    }
    text = _content_text(**fields, data_text=_canonical(data))
    assert text == _canonical(event_content(**fields, data=data))
    assert _chained(text, prev) == compute_hash(
        event_content(**fields, data=json.loads(_canonical(data))), prev
    )


@pytest.mark.parametrize(
    "value",
    [
        *(None, 0, -7, 10**30, True, False),
        *(0.1, -0.0, 1e300, 5e-324, math.nan, math.inf, -math.inf),
        *("", "吹哨", 'q"\\\n\t\u2028\x00', "5b0c1a9e-3f4d-4e0a-9d52-0e8f4a7b6c21"),
        *([1], {"a": 1}),
    ],
)
def test_a_value_beside_the_data_is_written_as_the_encoder_writes_it(value):
    assert _scalar(value) == _canonical(value)
