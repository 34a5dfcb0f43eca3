"""Proof that survives an insider: signing keys held apart, signed checkpoints kept outside
the database, state replay and the database's own refusals.

Each attack is played by someone with full rights on the database (`play_the_dba`), after
a checkpoint was taken, and covers its tracks the way that person would: the case row is
made to match, so that the plain hash-chain check finds nothing.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from tests.conftest import make_person
from tests.fixtures_cases import (
    beijing,
    device_fix,
    play_the_dba,
    reported_case,
    trail_rows,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.gateways import recording_gateways_fixture  # noqa: F401  (fixture)
from whistle.accounts import contact
from whistle.accounts.models import ContactLogEntry
from whistle.cases import actions
from whistle.cases.checkpoints import (
    audit_path,
    check_consistency,
    create_checkpoint,
    leaf_hash,
    merkle_root,
    read_checkpoint,
    root_from_path,
    sweep,
    verify_against_database,
)
from whistle.cases.export import export_case, verify_document
from whistle.cases.models import Case, Checkpoint, Event
from whistle.cases.signing import key_path, public_keys
from whistle.cases.trail import GENESIS
from whistle.cases.verify import EventRow, verify_database
from whistle.duty.actions import start_roster
from whistle.duty.models import RosterLogEntry
from whistle.organisation.models import Person, Role, TownshipUnit, UnitLogEntry
from whistle.patrols.appointments import appoint_chief, end_appointment
from whistle.patrols.models import AppointmentEvent
from whistle.policies.offices import UnitInput, save_unit
from whistle.township.models import TownshipLogEntry
from whistle.township.recruitment import publish_call
from whistle.township.recruitment_models import RecruitmentEvent

ON_POSTGRES = "postgresql" in str(django_settings.DATABASES["default"]["ENGINE"])
NOW = beijing(2026, 3, 10, 10, 0)


def run(command: str, *args: str, **options) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command(command, *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def refused(command: str, *args: str, **options) -> str:
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO(), **options)
    return str(failed.value)


@pytest.fixture
def case(whistle_city) -> Case:
    case, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def checkpoint_file(case, tmp_path) -> Path:
    """A checkpoint taken before the attack, in the hands of a witness."""
    target = tmp_path / "witness" / "checkpoint.json"
    target.parent.mkdir()
    run("checkpoint", output=str(target))
    return target


def rewrite_with_rehash(case: Case, seq: int, **data) -> None:
    """Change one event's data, hash it and every later event anew, and set the case row's
    head to match: what the plain chain check cannot see."""
    statements = []
    previous = GENESIS
    for row in trail_rows(case):
        changed = {**row.data, **data} if row.seq == seq else row.data
        fresh = EventRow(**{**row.__dict__, "data": changed, "prev_hash": previous, "hash": ""})
        new_hash = fresh.computed_hash(str(case.uuid))
        statements.append(
            (
                "UPDATE cases_event SET data = %s, prev_hash = %s, hash = %s "
                "WHERE case_id = %s AND seq = %s",
                [json.dumps(changed), previous, new_hash, case.pk, row.seq],
            )
        )
        previous = new_hash
    statements.append(("UPDATE cases_case SET trail_head = %s WHERE id = %s", [previous, case.pk]))
    play_the_dba(*statements)


# Keys ------------------------------------------------------------------------------------


def test_an_export_is_refused_without_the_key_and_no_key_is_made(case, settings, tmp_path):
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "elsewhere" / "signing-key.pem")
    message = refused("export_case", case.reference)
    assert "does not exist" in message and "whistle keys init" in message
    assert not key_path().exists()
    assert "does not exist" in refused("checkpoint")


def test_keys_init_is_refused_when_there_is_a_key(case):
    assert "already a signing key" in refused("keys", "init")


def test_keys_init_if_missing_keeps_the_key_there_is_and_makes_one_where_there_is_none(
    case, settings, tmp_path
):
    listed = public_keys()
    assert "is kept" in run("keys", "init", if_missing=True)
    assert public_keys() == listed
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "fresh" / "signing-key.pem")
    settings.WHISTLE_PUBLIC_KEYS_FILE = ""
    assert "Signing key made" in run("keys", "init", if_missing=True)
    assert key_path().exists() and len(public_keys()) == 1


def test_a_rotated_key_keeps_old_exports_verifying_against_the_published_list(case, tmp_path):
    before = tmp_path / "before.json"
    call_command("export_case", case.reference, output=str(before), stderr=io.StringIO())
    old = json.loads(before.read_text())["signature"]["fingerprint"]
    assert f"{old} is retired" in run("keys", "rotate")
    after = export_case(case)["signature"]["fingerprint"]
    assert after != old
    listed = [(k["fingerprint"], bool(k["retired_at"])) for k in public_keys()]
    assert listed == [(old, True), (after, False)]
    published = tmp_path / "published.json"
    published.write_text(run("keys", "show", json=True))
    assert "every trail is intact" in run("verify_trail", file=str(before), trusted=str(published))


def test_verify_trail_file_says_so_when_the_key_is_unknown(case, tmp_path, settings):
    target = tmp_path / "case.json"
    call_command("export_case", case.reference, output=str(target), stderr=io.StringIO())
    signer = json.loads(target.read_text())["signature"]["fingerprint"]
    other = tmp_path / "other-district.txt"
    other.write_text("SHA256:" + "ab" * 32 + "\n")
    message = refused("verify_trail", file=str(target), trusted=str(other))
    assert f"signed by the key {signer}, which is not among the trusted fingerprints" in message
    settings.WHISTLE_TRUSTED_FINGERPRINTS = [signer]
    assert "every trail is intact" in run("verify_trail", file=str(target))


# Checkpoints ----------------------------------------------------------------------------


def test_every_leaf_has_an_audit_path_to_the_root():
    for size in range(1, 12):
        hashes = [leaf_hash(["case", str(n), n, "x"]) for n in range(size)]
        root = merkle_root(hashes)
        for index in range(size):
            path = audit_path(index, hashes)
            assert root_from_path(index, size, hashes[index], path) == root
            assert root_from_path(index, size, leaf_hash(["case", "forged", 0, "x"]), path) != root


def test_checkpoints_are_chained_signed_and_kept_append_only(case, tmp_path):
    first = create_checkpoint(now=NOW)
    second = create_checkpoint(now=NOW + timedelta(hours=1))
    assert (first.number, second.number) == (1, 2)
    assert second.previous_hash == first.hash and first.previous_hash == GENESIS
    leaves = first.document["leaves"]["cases"]
    assert leaves == [["case", case.reference, 5, case.trail_head]]
    assert first.document["counts"]["events"] == 5
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_checkpoint SET root = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_checkpoint")


def test_the_worker_writes_a_checkpoint_at_the_set_interval(case, settings):
    settings.WHISTLE_CHECKPOINT_INTERVAL_MINUTES = 60
    assert sweep(NOW, batch=10) == 1
    assert sweep(NOW + timedelta(minutes=59, seconds=59), batch=10) == 0
    assert sweep(NOW + timedelta(minutes=60), batch=10) == 1
    assert Checkpoint.objects.count() == 2
    settings.WHISTLE_CHECKPOINT_INTERVAL_MINUTES = 0
    assert sweep(NOW + timedelta(days=1), batch=10) == 0


def test_the_worker_writes_none_without_a_key_and_says_why(case, settings, tmp_path, caplog):
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "gone.pem")
    with caplog.at_level(logging.WARNING, logger="whistle.cases"):
        assert sweep(NOW, batch=10) == 0
    assert "No checkpoint written: the signing key" in caplog.text
    assert not Checkpoint.objects.exists()
    assert not Path(settings.WHISTLE_SIGNING_KEY_FILE).exists()


def test_an_intact_database_extends_its_checkpoint(whistle_city, case, checkpoint_file):
    police = case.summonses.get(department=whistle_city.police)
    actions.acknowledge(whistle_city.police_officer, police, now=NOW + timedelta(minutes=2))
    out = run("verify_trail", checkpoint=[str(checkpoint_file)])
    assert "Checkpoint #1" in out and "every trail is intact" in out


def test_a_checkpoint_file_edited_by_hand_is_refused(case, checkpoint_file):
    document = json.loads(checkpoint_file.read_text())
    document["leaves"]["cases"][0][2] = 3
    checkpoint_file.write_text(json.dumps(document))
    message = refused("verify_trail", checkpoint=[str(checkpoint_file)])
    assert "signature does not match" in message
    assert "leaves do not make its Merkle root" in message


# The insider's attacks, each against a checkpoint taken before it ------------------------


def test_a_trail_rewritten_with_new_hashes_and_a_matching_row_is_named(case, checkpoint_file):
    rewrite_with_rehash(case, 3, kind="emergency")
    assert verify_database().ok  # the chain alone no longer shows it
    message = refused("verify_trail", checkpoint=[str(checkpoint_file)])
    assert f"case {case.reference}: event #5 is not the one checkpoint #1 committed to" in message


def test_a_trail_cut_with_a_matching_row_is_named(case, checkpoint_file):
    third = Event.objects.get(case=case, seq=3)
    play_the_dba(
        ("DELETE FROM cases_event WHERE case_id = %s AND seq > 3", [case.pk]),
        (
            "UPDATE cases_case SET trail_length = 3, trail_head = %s WHERE id = %s",
            [third.hash, case.pk],
        ),
    )
    assert verify_database().ok
    message = refused("verify_trail", checkpoint=[str(checkpoint_file)])
    assert "holds 5 events of this trail; event #5 is gone: the trail was cut" in message


def test_a_blanked_trail_is_named(case, checkpoint_file):
    play_the_dba(
        ("DELETE FROM cases_event WHERE case_id = %s", [case.pk]),
        ("UPDATE cases_case SET trail_length = 0, trail_head = '' WHERE id = %s", [case.pk]),
        ("UPDATE cases_case SET status = 'filed' WHERE id = %s", [case.pk]),
    )
    assert verify_database(references=[case.reference]).ok
    message = refused("verify_trail", checkpoint=[str(checkpoint_file)])
    assert f"case {case.reference}: checkpoint #1 holds 5 events" in message


def test_a_removed_case_is_named(whistle_city, case, tmp_path):
    gone = reported_case(whistle_city, at=NOW)
    target = tmp_path / "checkpoint.json"
    run("checkpoint", output=str(target))
    play_the_dba(
        ("DELETE FROM cases_event WHERE case_id = %s", [gone.pk]),
        ("DELETE FROM cases_case WHERE id = %s", [gone.pk]),
    )
    message = refused("verify_trail", checkpoint=[str(target)])
    assert f"case {gone.reference}: the case was in checkpoint #1 and is gone" in message


def test_the_database_refuses_an_event_that_does_not_extend_the_chain(case, checkpoint_file):
    last = Event.objects.get(case=case, seq=5)
    insert = (
        "INSERT INTO cases_event (case_id, seq, at, kind, actor_role, data, prev_hash, hash) "
        "VALUES (%s, %s, %s, 'summons.released', '', '{}', %s, %s)"
    )
    for seq, previous in ((6, "f" * 64), (7, last.hash), (5, last.prev_hash)):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [case.pk, seq, NOW, previous, f"{seq}" * 64])
    assert Event.objects.filter(case=case).count() == 5
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(checkpoint_file)])


def test_one_statement_of_several_events_must_extend_each_chain(whistle_city, case):
    """Several events in one statement (as the sweep inserts a chunk's): each must follow
    its predecessor, stored or inserted before it in the same statement."""
    other, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    heads = {c.pk: Event.objects.get(case=c, seq=5).hash for c in (case, other)}

    def insert(*events: tuple[Case, int, str, str]) -> None:
        values = ", ".join(["(%s, %s, %s, 'summons.released', '', '{}', %s, %s)"] * len(events))
        params = [v for c, seq, previous, own in events for v in (c.pk, seq, NOW, previous, own)]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_event (case_id, seq, at, kind, actor_role, data, prev_hash, "
                f"hash) VALUES {values}",
                params,
            )

    refused_statements = [
        # The second event of a case names a hash that is not its predecessor's.
        [(case, 6, heads[case.pk], "a" * 64), (case, 7, "f" * 64, "b" * 64)],
        # A gap after an event of the same statement.
        [(case, 6, heads[case.pk], "a" * 64), (case, 8, "a" * 64, "b" * 64)],
        # Right for one case, the other case's head for the other.
        [(case, 6, heads[case.pk], "a" * 64), (other, 6, heads[case.pk], "b" * 64)],
        # A number taken, after a right one.
        [(case, 6, heads[case.pk], "a" * 64), (other, 5, heads[other.pk], "b" * 64)],
    ]
    for events in refused_statements:
        with pytest.raises(DatabaseError), transaction.atomic():
            insert(*events)
    assert Event.objects.filter(case__in=[case, other], seq__gt=5).count() == 0
    # Two events of each of two cases in one statement, each after its predecessor.
    insert(
        (case, 6, heads[case.pk], "a" * 64),
        (other, 6, heads[other.pk], "c" * 64),
        (case, 7, "a" * 64, "b" * 64),
        (other, 7, "c" * 64, "d" * 64),
    )
    assert list(
        Event.objects.filter(case__in=[case, other], seq__gt=5)
        .order_by("case_id", "seq")
        .values_list("case_id", "seq", "prev_hash")
    ) == sorted(
        [
            (case.pk, 6, heads[case.pk]),
            (case.pk, 7, "a" * 64),
            (other.pk, 6, heads[other.pk]),
            (other.pk, 7, "c" * 64),
        ]
    )


def test_a_forged_append_past_the_triggers_is_named(case, checkpoint_file):
    last = Event.objects.get(case=case, seq=5)
    play_the_dba(
        (
            "INSERT INTO cases_event (case_id, seq, at, kind, actor_role, data, prev_hash, hash) "
            "VALUES (%s, 6, %s, 'case.closed', '', '{}', %s, %s)",
            [case.pk, NOW, last.hash, "e" * 64],
        ),
        (
            "UPDATE cases_case SET trail_length = 6, trail_head = %s WHERE id = %s",
            ["e" * 64, case.pk],
        ),
    )
    message = refused("verify_trail", checkpoint=[str(checkpoint_file)])
    assert "event #6 (case.closed): the event's content does not match its hash" in message


def test_a_row_changed_without_an_event_is_named(whistle_city, case, checkpoint_file):
    police = case.summonses.get(department=whistle_city.police)
    play_the_dba(
        ("UPDATE cases_summons SET released_at = %s WHERE id = %s", [NOW, police.pk]),
        ("UPDATE cases_case SET status = 'closed' WHERE id = %s", [case.pk]),
    )
    message = refused("verify_trail", checkpoint=[str(checkpoint_file)])
    assert f"summons {police.uuid} has released_at set but no event in its trail set it" in message
    assert "the case is closed but its trail leaves it whistled" in message


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
def test_postgresql_refuses_to_truncate_the_trail(case, checkpoint_file):
    for table in ("cases_event", "cases_checkpoint"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert Event.objects.filter(case=case).count() == 5
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(checkpoint_file)])


def test_verify_trail_and_the_system_check_name_a_missing_trigger(case):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred foreign-key checks are pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE cases_event DISABLE TRIGGER cases_event_extends_chain")
        else:
            cursor.execute("DROP TRIGGER cases_event_extends_chain")
    assert "trigger cases_event_extends_chain is missing or disabled" in refused("verify_trail")
    [warning] = [w for w in run_checks(databases=["default"]) if w.id == "whistle.W201"]
    assert "cases_event_extends_chain are missing or disabled" in warning.msg


# Two checkpoints, and one case in a checkpoint -------------------------------------------


def test_a_later_checkpoint_must_extend_the_earlier(whistle_city, case, tmp_path):
    first, second, third = (tmp_path / f"{n}.json" for n in (1, 2, 3))
    run("checkpoint", output=str(first))
    police = case.summonses.get(department=whistle_city.police)
    actions.acknowledge(whistle_city.police_officer, police, now=NOW + timedelta(minutes=2))
    run("checkpoint", output=str(second))
    out = run("verify_trail", checkpoint=[str(second), str(first)])
    assert "every trail is intact" in out
    rewrite_with_rehash(case, 2, kind="emergency")
    run("checkpoint", output=str(third))
    older, later = (read_checkpoint(json.loads(p.read_text())) for p in (second, third))
    assert older is not None and later is not None
    [problem] = check_consistency(older, later)
    assert (problem.case, problem.code) == (case.reference, "rewritten")
    assert "cut or rewritten in between" in refused(
        "verify_trail", checkpoint=[str(first), str(third)]
    )


def test_an_export_carries_its_inclusion_proof_against_a_held_checkpoint(
    whistle_city, case, checkpoint_file, tmp_path
):
    other = whistled_case(whistle_city, at=NOW)[0]
    later = tmp_path / "later.json"
    run("checkpoint", output=str(later))
    exported = tmp_path / "case.json"
    call_command("export_case", case.reference, output=str(exported), stderr=io.StringIO())
    document = json.loads(exported.read_text())
    assert document["checkpoint"]["number"] == 2
    assert document["checkpoint"]["leaf"] == ["case", case.reference, 5, case.trail_head]
    out = run("verify_trail", file=str(exported), checkpoint=[str(later)])
    assert "every trail is intact" in out
    # A department holding only the first checkpoint learns that the proof is for another.
    message = refused("verify_trail", file=str(exported), checkpoint=[str(checkpoint_file)])
    assert "the proof is for checkpoint #2" in message
    held = read_checkpoint(json.loads(later.read_text()))
    forged = json.loads(json.dumps(document))
    forged["checkpoint"]["leaf"][1] = other.reference
    report, _signer = verify_document(forged, checkpoint=held)
    assert {p.code for p in report.problems} >= {"signature", "inclusion"}


# Who may fetch the checkpoints -----------------------------------------------------------


def test_district_readers_and_departments_fetch_checkpoints_others_do_not(
    client, whistle_city, case
):
    with time_machine.travel(NOW, tick=False):
        create_checkpoint(now=NOW)
    client.force_login(whistle_city.district_office)
    response = client.get("/district/trail/checkpoints/latest.json")
    assert response.status_code == 200
    assert response.json()["leaves"]["cases"][0][1] == case.reference
    assert client.get("/district/trail/checkpoints/1.json").json()["number"] == 1
    assert client.get("/district/trail/checkpoints/2.json").status_code == 404
    client.force_login(whistle_city.police_officer)
    assert client.get("/district/trail/checkpoints/1.json").status_code == 200
    client.force_login(whistle_city.assessor)  # a township's, not the district's
    assert client.get("/district/trail/checkpoints/latest.json").status_code == 403
    client.logout()
    assert client.get("/district/trail/checkpoints/latest.json").status_code == 302


# The township's powers log and the duty roster log ---------------------------------------


@pytest.fixture
def logs(whistle_city, case) -> tuple[TownshipLogEntry, RosterLogEntry]:
    """An entry of each log, as their actions write them."""
    township = TownshipLogEntry.objects.create(
        at=NOW,
        actor=whistle_city.district_office,
        actor_role="chiefs_office",
        action=TownshipLogEntry.Action.MATTER_REGISTERED,
        data={"title": "东城区背街小巷整治"},
    )
    start_roster(None, department=whistle_city.urban, system_role="system", now=NOW)
    return township, RosterLogEntry.objects.get()


def test_a_checkpoint_commits_to_every_log_entry(logs, tmp_path):
    township, roster = logs
    document = create_checkpoint(now=NOW).document
    [township_leaf] = document["leaves"]["township_logs"]
    [roster_leaf] = document["leaves"]["roster_logs"]
    assert township_leaf[:3] == ["township_log", str(township.pk), 1]
    assert roster_leaf[:3] == ["roster_log", str(roster.pk), 1]
    assert document["highest"]["township_log"] == township.pk
    assert document["size"] == 3  # the case, then the kinds by name


def test_the_database_refuses_to_change_or_remove_a_log_entry(logs):
    for table in ("township_townshiplogentry", "duty_rosterlogentry"):
        for statement in (f"UPDATE {table} SET actor_role = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        if ON_POSTGRES:
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {table} CASCADE")
    assert TownshipLogEntry.objects.count() == RosterLogEntry.objects.count() == 1


def test_a_log_entry_changed_or_removed_past_the_triggers_is_named(logs, tmp_path):
    township, roster = logs
    target = tmp_path / "checkpoint.json"
    run("checkpoint", output=str(target))
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(target)])
    play_the_dba(
        (
            "UPDATE township_townshiplogentry SET data = %s WHERE id = %s",
            [json.dumps({"title": "另一件事"}), township.pk],
        ),
        ("DELETE FROM duty_rosterlogentry WHERE id = %s", [roster.pk]),
    )
    message = refused("verify_trail", checkpoint=[str(target)])
    assert (
        f"township powers log entry {township.pk}: the log entry is not the one checkpoint #1 "
        "committed to: it was changed"
    ) in message
    assert f"roster log entry {roster.pk}: the log entry was in checkpoint #1 and is gone" in (
        message
    )


def test_a_missing_log_trigger_is_named(logs):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE duty_rosterlogentry DISABLE TRIGGER duty_rosterlogentry_no_update"
            )
        else:
            cursor.execute("DROP TRIGGER duty_rosterlogentry_no_update")
    assert "trigger duty_rosterlogentry_no_update is missing or disabled" in refused("verify_trail")


# The log of the township units and the steward recruitment log ---------------------------


@pytest.fixture
def office_logs(whistle_city) -> tuple[UnitLogEntry, RecruitmentEvent]:
    """An entry of each log, written by their actions: a unit created, a call published."""
    c = whistle_city
    with time_machine.travel(NOW, tick=False):
        save_unit(
            c.township_chief,
            c.longtan,
            UnitInput(kind=TownshipUnit.Kind.DISCIPLINE, name="纪工委", position=7),
            now=NOW,
        )
        publish_call(
            c.township_office,
            c.longtan,
            title="龙潭街道公开招募小巷管家",
            description="巡查街巷、沟通邻里、反映问题。",
            lanes=[c.lane],
            opens_on=NOW.date(),
            closes_on=(NOW + timedelta(days=30)).date(),
            now=NOW,
        )
    return UnitLogEntry.objects.get(), RecruitmentEvent.objects.get()


def test_a_checkpoint_commits_to_every_entry_of_the_units_and_recruitment_logs(office_logs):
    unit_entry, recruitment_entry = office_logs
    document = create_checkpoint(now=NOW).document
    [unit_leaf] = document["leaves"]["unit_logs"]
    [recruitment_leaf] = document["leaves"]["recruitment_logs"]
    assert unit_leaf[:3] == ["unit_log", str(unit_entry.pk), 1]
    assert recruitment_leaf[:3] == ["recruitment_log", str(recruitment_entry.pk), 1]
    assert document["highest"]["unit_log"] == unit_entry.pk
    assert document["highest"]["recruitment_log"] == recruitment_entry.pk


def test_the_database_refuses_to_change_or_remove_a_units_or_recruitment_log_entry(office_logs):
    for table in ("organisation_unitlogentry", "township_recruitmentevent"):
        for statement in (f"UPDATE {table} SET actor_role = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        if ON_POSTGRES:
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {table} CASCADE")
    unit_entry, recruitment_entry = office_logs
    assert list(UnitLogEntry.objects.values_list("pk", "actor_role")) == [
        (unit_entry.pk, unit_entry.actor_role)
    ]
    assert list(RecruitmentEvent.objects.values_list("pk", "actor_role")) == [
        (recruitment_entry.pk, recruitment_entry.actor_role)
    ]


def test_a_units_or_recruitment_log_entry_changed_or_removed_past_the_triggers_is_named(
    office_logs, tmp_path
):
    unit_entry, recruitment_entry = office_logs
    target = tmp_path / "checkpoint.json"
    run("checkpoint", output=str(target))
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(target)])
    play_the_dba(
        ("DELETE FROM organisation_unitlogentry WHERE id = %s", [unit_entry.pk]),
        (
            "UPDATE township_recruitmentevent SET actor_role = %s WHERE id = %s",
            ["district_chief", recruitment_entry.pk],
        ),
    )
    message = refused("verify_trail", checkpoint=[str(target)])
    assert f"township units log entry {unit_entry.pk}: the log entry was in checkpoint #1 " in (
        message
    )
    assert (
        f"recruitment log entry {recruitment_entry.pk}: the log entry is not the one "
        "checkpoint #1 committed to: it was changed"
    ) in message


def test_a_missing_trigger_of_the_units_or_recruitment_log_is_named(office_logs):
    names = ("organisation_unitlogentry_no_delete", "township_recruitmentevent_no_update")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE organisation_unitlogentry DISABLE TRIGGER {names[0]}")
            cursor.execute(f"ALTER TABLE township_recruitmentevent DISABLE TRIGGER {names[1]}")
        else:
            for name in names:
                cursor.execute(f"DROP TRIGGER {name}")
    message = refused("verify_trail")
    for name in names:
        assert f"trigger {name} is missing or disabled" in message


# The log of changes to contact addresses and the chiefs' appointment log -----------------

NEW_PHONE = "13812345678"
NEW_EMAIL = "zhao-new@example.com"
REASON = "因病调离，由王芳接任"


@dataclass
class PeopleLogs:
    resident: Person
    chief: Person
    contact: list[ContactLogEntry]
    appointment: list[AppointmentEvent]


@pytest.fixture
def people_logs(whistle_city, recording_gateways) -> PeopleLogs:
    """Entries of each log, written by their actions: a resident asks for a new number and
    a new e-mail address and gives the e-mail up; a chiefs' office appoints a chief to a
    lane and ends the appointment with a reason."""
    c = whistle_city
    resident = make_person("zhao-resident", Role.RESIDENT)
    chief = make_person("qian-cadre", Role.RESIDENT)
    for person, phone in ((resident, "13900000009"), (chief, "13900000010")):
        person.phone = phone
        person.save(update_fields=["phone"])
    contact.send_code(resident, "phone", NEW_PHONE, now=NOW)
    contact.send_code(resident, "email", NEW_EMAIL, now=NOW + timedelta(minutes=2))
    contact.give_up(resident, "email", now=NOW + timedelta(minutes=3))
    office = make_person("longtan-chiefs-office", Role.CHIEFS_OFFICE, jurisdiction=c.longtan)
    appointment = appoint_chief(
        office, person=chief, lane=c.lane, role=Role.LANE_CHIEF, starts_on=date(2026, 3, 1), now=NOW
    )
    end_appointment(office, appointment, ends_on=date(2026, 3, 9), reason=REASON, now=NOW)
    return PeopleLogs(
        resident,
        chief,
        list(ContactLogEntry.objects.order_by("pk")),
        list(AppointmentEvent.objects.order_by("pk")),
    )


def test_a_checkpoint_commits_to_a_digest_of_each_contact_and_appointment_log_entry(
    people_logs,
):
    document = create_checkpoint(now=NOW).document
    contact_leaves = document["leaves"]["contact_logs"]
    appointment_leaves = document["leaves"]["appointment_logs"]
    assert [leaf[:3] for leaf in contact_leaves] == [
        ["contact_log", str(entry.pk), 1] for entry in people_logs.contact
    ]
    assert [leaf[:3] for leaf in appointment_leaves] == [
        ["appointment_log", str(entry.pk), 1] for entry in people_logs.appointment
    ]
    assert all(len(leaf) == 4 and len(leaf[3]) == 64 for leaf in contact_leaves)
    assert document["highest"]["contact_log"] == people_logs.contact[-1].pk
    assert document["highest"]["appointment_log"] == people_logs.appointment[-1].pk
    # Witnesses keep a checkpoint for good: it holds no address, name or reason typed in.
    held = json.dumps(document, ensure_ascii=False)
    for personal in (NEW_PHONE, NEW_EMAIL, REASON, "13900000009", "zhao-resident", "qian-cadre"):
        assert personal not in held


def test_a_contact_or_appointment_log_entry_changed_or_removed_past_the_triggers_is_named(
    people_logs, tmp_path
):
    sent, email_sent, given_up = people_logs.contact
    appointed, ended = people_logs.appointment
    target = tmp_path / "checkpoint.json"
    run("checkpoint", output=str(target))
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(target)])
    play_the_dba(
        ("UPDATE accounts_contactlogentry SET step = %s WHERE id = %s", ["changed", sent.pk]),
        ("DELETE FROM accounts_contactlogentry WHERE id = %s", [given_up.pk]),
        (
            "UPDATE patrols_appointmentevent SET data = %s WHERE id = %s",
            [json.dumps({"ends_on": "2026-03-09", "reason": "届满"}), ended.pk],
        ),
        ("DELETE FROM patrols_appointmentevent WHERE id = %s", [appointed.pk]),
    )
    message = refused("verify_trail", checkpoint=[str(target)])
    changed = "the log entry is not the one checkpoint #1 committed to: it was changed"
    gone = "the log entry was in checkpoint #1 and is gone"
    assert f"contact address log entry {sent.pk}: {changed}" in message
    assert f"contact address log entry {given_up.pk}: {gone}" in message
    assert f"chiefs' appointment log entry {ended.pk}: {changed}" in message
    assert f"chiefs' appointment log entry {appointed.pk}: {gone}" in message
    assert f"contact address log entry {email_sent.pk}" not in message
    with translation.override("zh-hans"):
        facts = read_checkpoint(json.loads(target.read_text()))
        assert facts is not None
        problems = " ".join(str(p) for p in verify_against_database(facts))
    assert f"联系方式变更记录 {sent.pk}" in problems
    assert f"街巷长任免记录 {ended.pk}" in problems


def test_erasing_the_people_the_logs_name_raises_no_alarm_against_an_earlier_checkpoint(
    people_logs, tmp_path
):
    before = tmp_path / "before.json"
    run("checkpoint", output=str(before))
    committed = {(e.pk, e.step) for e in people_logs.contact}
    run(
        "erase_personal_data",
        phone=[people_logs.resident.phone, NEW_PHONE, people_logs.chief.phone],
    )
    for person in (people_logs.resident, people_logs.chief):
        person.refresh_from_db()
        assert (person.name, person.phone, person.is_active) == ("", "", False)
    # The waiting number went with a new entry; the committed ones are as they were.
    steps = set(ContactLogEntry.objects.values_list("pk", "step"))
    assert committed < steps and {step for _pk, step in steps - committed} == {"erased"}
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(before)])
    after = tmp_path / "after.json"
    run("checkpoint", output=str(after))
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(before), str(after)])


def test_a_rating_changed_without_an_event_is_named(whistle_city, case):
    city = whistle_city
    police = case.summonses.get(department=city.police)
    urban = case.summonses.get(department=city.urban)
    at = NOW + timedelta(minutes=1)
    actions.release(city.dispatcher, police, now=at)
    actions.release(city.dispatcher, urban, now=at)
    actions.mark_handled(city.dispatcher, case, now=at)
    actions.check_passed(city.dispatcher, case, now=at)
    actions.close_case(city.dispatcher, case, now=at)
    actions.evaluate_case(city.dispatcher, case, rating=2, now=at + timedelta(minutes=1))
    assert verify_database(references=[case.reference]).ok
    play_the_dba(
        (
            "UPDATE cases_case SET township_rating = 5, resident_satisfied = %s WHERE id = %s",
            [True, case.pk],
        )
    )
    with translation.override("en"):
        problems = [str(p) for p in verify_database(references=[case.reference]).problems]
    assert any("township_rating is 5 but its trail leaves it 2" in p for p in problems)
    assert any("has resident_satisfied set but no event in its trail set it" in p for p in problems)


def test_a_check_in_a_hair_behind_the_server_clock_verifies_after_the_database_round_trip(
    whistle_city, case
):
    """A device clock microseconds behind gives a skew of -0.0 s, which PostgreSQL's jsonb
    gives back as 0.0: the event is hashed as it will be read."""
    urban = case.summonses.get(department=whistle_city.urban)
    at = NOW + timedelta(minutes=3)
    actions.acknowledge(whistle_city.urban_officer, urban, now=at)
    fix = device_fix(at=at - timedelta(microseconds=11))
    actions.check_in(whistle_city.urban_officer, urban, now=at, **fix)
    event = Event.objects.get(case=case, kind="summons.check_in")
    assert str(event.data["clock_skew_s"]) == "0.0"
    assert verify_database(references=[case.reference]).ok
