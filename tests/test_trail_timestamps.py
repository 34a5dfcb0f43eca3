"""RFC 3161 timestamps of the trail's checkpoints: asked for by the worker and on demand,
kept beside the checkpoint, served next to it, and checked by `verify-trail` against the
authority a district trusts. The authority is OpenSSL's `ts -reply` on the loopback."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.tsa import Authority
from whistle.cases import checkpoints, timestamps
from whistle.cases.models import Checkpoint, CheckpointTimestamp
from whistle.cases.triggers import missing_triggers

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

NOW = beijing(2026, 3, 10, 10, 0)


@pytest.fixture(autouse=True)
def _in_english():
    """The reasons are read in English here; their Chinese is in the catalogue."""
    with translation.override("en"):
        yield


@pytest.fixture
def authority(tmp_path):
    running = Authority(tmp_path / "tsa").start()
    yield running
    running.stop()


@pytest.fixture
def stamping(settings, authority):
    """The installation asks `authority` and trusts its certificate."""
    settings.WHISTLE_TIMESTAMP_URL = authority.url
    settings.WHISTLE_TIMESTAMP_TRUSTED_CERTS = str(authority.certificate)
    timestamps._next_try.clear()
    yield authority
    timestamps._next_try.clear()


@pytest.fixture
def case(whistle_city):
    case, _whistle, _summonses = whistled_case(whistle_city, at=NOW)
    return case


def run(command: str, *args: str, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command(command, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def refused(command: str, *args: str, **options) -> str:
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO(), **options)
    return str(failed.value)


def openssl_verifies(token: bytes, digest_hex: str, certificate: Path, folder: Path) -> str:
    path = folder / "token.tst"
    path.write_bytes(token)
    result = subprocess.run(
        [
            "openssl", "ts", "-verify", "-digest", digest_hex, "-in", str(path), "-token_in",
            "-CAfile", str(certificate),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_the_worker_stamps_a_new_checkpoint_and_openssl_agrees(case, stamping, tmp_path):
    checkpoint = checkpoints.create_checkpoint(now=NOW)
    assert timestamps.sweep(NOW, batch=10) == 1
    kept = CheckpointTimestamp.objects.get(checkpoint=checkpoint)
    assert kept.authority_url == stamping.url
    assert kept.received_at == NOW
    digest = bytes.fromhex(checkpoint.hash)
    stamp = timestamps.verify_token(bytes(kept.token), digest, timestamps.trusted_certificates())
    assert stamp.authority.endswith("Whistle Test TSA")
    assert stamp.at == kept.stamped_at
    assert "Verification: OK" in openssl_verifies(
        bytes(kept.token), checkpoint.hash, stamping.certificate, tmp_path
    )
    # Stamped once: the next pass has nothing to ask for.
    assert timestamps.sweep(NOW + timedelta(minutes=1), batch=10) == 0
    assert stamping.requests == 1


def test_an_rsa_authority_is_checked_too(case, settings, tmp_path):
    authority = Authority(tmp_path / "rsa-tsa", rsa_key=True).start()
    try:
        settings.WHISTLE_TIMESTAMP_URL = authority.url
        settings.WHISTLE_TIMESTAMP_TRUSTED_CERTS = str(authority.certificate)
        checkpoint = checkpoints.create_checkpoint(now=NOW)
        kept = timestamps.stamp(checkpoint, now=NOW)
        found = timestamps.verify_token(
            bytes(kept.token), bytes.fromhex(checkpoint.hash), timestamps.trusted_certificates()
        )
        assert found.serial >= 1
    finally:
        authority.stop()


def test_a_checkpoint_on_demand_is_written_with_its_token_and_verify_trail_checks_it(
    case, stamping, tmp_path
):
    target = tmp_path / "witness" / "checkpoint.json"
    target.parent.mkdir()
    run("checkpoint", output=str(target))
    token_file = Path(f"{target}.tst")
    assert token_file.read_bytes() == bytes(CheckpointTimestamp.objects.get().token)
    out, _err = run("verify_trail", checkpoint=[str(target)], tsa_cert=str(stamping.certificate))
    assert "checkpoint #1 was timestamped at" in out
    assert "Whistle Test TSA" in out
    assert "every trail is intact" in out


def test_a_token_from_an_authority_not_trusted_is_named(case, stamping, tmp_path):
    target = tmp_path / "checkpoint.json"
    run("checkpoint", output=str(target))
    stranger = Authority(tmp_path / "stranger", name="Someone Else").start()
    stranger.stop()
    message = refused("verify_trail", checkpoint=[str(target)], tsa_cert=str(stranger.certificate))
    assert "the timestamp of checkpoint #1 does not hold" in message
    assert "not trusted" in message


def test_a_token_moved_beside_another_checkpoint_is_named(case, stamping, tmp_path):
    first = tmp_path / "first.json"
    run("checkpoint", output=str(first))
    stamping.refusing = True
    second = tmp_path / "second.json"
    _out, err = run("checkpoint", output=str(second))
    assert "No timestamp for checkpoint #2" in err
    assert not Path(f"{second}.tst").exists()
    shutil.copy(f"{first}.tst", f"{second}.tst")
    message = refused("verify_trail", checkpoint=[str(second)], tsa_cert=str(stamping.certificate))
    assert "the timestamp of checkpoint #2 does not hold: The token is for another document." in (
        message
    )


def test_a_token_with_a_changed_byte_does_not_verify(case, stamping, tmp_path):
    checkpoint = checkpoints.create_checkpoint(now=NOW)
    token = bytes(timestamps.stamp(checkpoint, now=NOW).token)
    digest = bytes.fromhex(checkpoint.hash)
    trusted = timestamps.trusted_certificates()
    signed = cms.ContentInfo.load(token)["content"]
    information = signed["encap_content_info"]["content"].contents  # the time, serial, imprint
    signature = signed["signer_infos"][0]["signature"].native
    for part, why in ((information, "changed after it was signed"), (signature, "does not verify")):
        position = token.index(part) + len(part) // 2
        forged = bytearray(token)
        forged[position] ^= 0x01
        with pytest.raises(timestamps.TimestampError, match=why):
            timestamps.verify_token(bytes(forged), digest, trusted)
    assert timestamps.verify_token(token, digest, trusted).authority


def test_a_certificate_not_for_time_stamping_is_refused_though_the_signature_holds(
    case, stamping, tmp_path
):
    checkpoint = checkpoints.create_checkpoint(now=NOW)
    token = bytes(timestamps.stamp(checkpoint, now=NOW).token)
    digest = bytes.fromhex(checkpoint.hash)
    # The same key, name and serial number, certified for signing code instead.
    other = stamping.reissued_without_time_stamping(tmp_path / "code-signing.pem")
    with pytest.raises(timestamps.TimestampError, match="not for time-stamping"):
        timestamps.verify_token(token, digest, timestamps.load_certificates(other))


def test_a_replayed_answer_for_another_request_is_not_kept(case, stamping):
    first = checkpoints.create_checkpoint(now=NOW)
    timestamps.stamp(first, now=NOW)
    stamping.replaying = True
    second = checkpoints.create_checkpoint(now=NOW + timedelta(hours=1))
    with pytest.raises(timestamps.TimestampError, match="not for this request"):
        timestamps.stamp(second, now=NOW + timedelta(hours=1))
    assert not CheckpointTimestamp.objects.filter(checkpoint=second).exists()


def test_an_authority_that_is_down_is_asked_again_later(case, stamping, caplog):
    checkpoint = checkpoints.create_checkpoint(now=NOW)
    stamping.refusing = True
    with caplog.at_level(logging.WARNING, logger="whistle.cases.timestamps"):
        assert timestamps.sweep(NOW, batch=10) == 0
    assert "No timestamp for checkpoint #1" in caplog.text
    assert "503" in caplog.text
    stamping.refusing = False
    # Not asked again at once, however often the worker passes.
    assert timestamps.sweep(NOW + timedelta(minutes=1), batch=10) == 0
    assert stamping.requests == 0
    assert timestamps.sweep(NOW + timedelta(minutes=6), batch=10) == 1
    assert CheckpointTimestamp.objects.get().checkpoint == checkpoint


def test_an_unreadable_certificate_file_is_logged_and_nothing_is_kept(
    case, stamping, settings, tmp_path, caplog
):
    settings.WHISTLE_TIMESTAMP_TRUSTED_CERTS = str(tmp_path / "missing.pem")
    checkpoints.create_checkpoint(now=NOW)
    with caplog.at_level(logging.WARNING, logger="whistle.cases.timestamps"):
        assert timestamps.sweep(NOW, batch=10) == 0
    assert "Cannot read the time-stamping authority's certificates" in caplog.text
    assert not CheckpointTimestamp.objects.exists()


def test_nothing_is_asked_without_an_authority(case, settings, authority):
    settings.WHISTLE_TIMESTAMP_URL = ""
    checkpoints.create_checkpoint(now=NOW)
    assert timestamps.sweep(NOW, batch=10) == 0
    assert authority.requests == 0


def test_a_token_is_not_checked_without_a_trusted_authority_and_says_so(
    case, stamping, settings, tmp_path
):
    target = tmp_path / "checkpoint.json"
    run("checkpoint", output=str(target))
    settings.WHISTLE_TIMESTAMP_TRUSTED_CERTS = ""
    out, _err = run("verify_trail", checkpoint=[str(target)])
    assert "The timestamp of checkpoint #1 was not checked" in out


def test_timestamps_are_append_only_in_the_model_and_the_database(case, stamping):
    kept = timestamps.stamp(checkpoints.create_checkpoint(now=NOW), now=NOW)
    with pytest.raises(PermissionError):
        kept.save()
    with pytest.raises(PermissionError):
        kept.delete()
    for statement in (
        "UPDATE cases_checkpointtimestamp SET stamped_at = received_at",
        "DELETE FROM cases_checkpointtimestamp",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert bytes(CheckpointTimestamp.objects.get().token) == bytes(kept.token)
    assert "cases_checkpointtimestamp_no_delete" not in missing_triggers()


def test_the_token_is_served_beside_the_checkpoint_to_those_who_fetch_it(
    client, whistle_city, case, stamping
):
    checkpoint = checkpoints.create_checkpoint(now=NOW)
    kept = timestamps.stamp(checkpoint, now=NOW)
    client.force_login(whistle_city.district_office)
    response = client.get("/district/trail/checkpoints/1.json.tst")
    assert response.status_code == 200
    assert response.content == bytes(kept.token)
    assert client.get("/district/trail/checkpoints/2.json.tst").status_code == 404
    client.force_login(whistle_city.police_officer)  # a department's officer: a view's reader
    assert client.get("/district/trail/checkpoints/1.json.tst").status_code == 200
    client.force_login(whistle_city.assessor)  # a township's, not the district's
    assert client.get("/district/trail/checkpoints/1.json.tst").status_code == 403
    assert Checkpoint.objects.count() == 1
