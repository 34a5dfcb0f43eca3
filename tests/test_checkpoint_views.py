"""A checkpoint as each reader may have it: the whole signed file for readers of every
district with cases, a signed view (the header and the proofs of the cases they see) for
the other district readers and the departments, and either one verifies offline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.conftest import make_person, square
from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from whistle.cases import actions
from whistle.cases.checkpoints import (
    HEADER,
    VIEW_FORMAT,
    audit_path,
    audit_paths,
    create_checkpoint,
    leaf_hash,
    read_view,
)
from whistle.cases.models import Case
from whistle.cases.signing import check_signature
from whistle.organisation.models import Jurisdiction, Person, Role

NOW = beijing(2026, 3, 10, 10, 0)
LATEST = "/district/trail/checkpoints/latest.json"


def run(command: str, **options) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command(command, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def refused(command: str, **options) -> str:
    with pytest.raises(CommandError) as failed, translation.override("en"):
        call_command(command, stdout=io.StringIO(), stderr=io.StringIO(), **options)
    return str(failed.value)


@pytest.fixture
def cases(whistle_city) -> tuple[Case, Case]:
    """A whistle in 龙潭街道 the police are summoned to, and a report in 东四街道, which
    the police station does not serve."""
    summoned = whistled_case(whistle_city, at=NOW)[0]
    other = actions.report_case(
        whistle_city.dongsi_dispatcher, description="乱堆物料", lon=116.414, lat=39.925, now=NOW
    )
    return Case.objects.get(pk=summoned.pk), other


def xicheng_case(whistle_city) -> tuple[Case, Person]:
    """A case of 西城区, reported by its 新街口 dispatcher; and 西城's district chief."""
    district = Jurisdiction.objects.create(
        level="district",
        code="110102",
        name="西城区",
        parent=whistle_city.district.parent,
        boundary=square(116.34, 39.88, 0.05),
    )
    township = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110102003",
        name="新街口街道",
        parent=district,
        boundary=square(116.36, 39.94),
    )
    dispatcher = make_person("xinjiekou-dispatcher", Role.DISPATCHER, jurisdiction=township)
    case = actions.report_case(dispatcher, description="共享单车占道", lon=116.365, lat=39.945)
    chief = make_person("xicheng-chief", Role.DISTRICT_CHIEF, jurisdiction=district)
    return case, chief


def fetch(client, person: Person) -> dict:
    client.force_login(person)
    with time_machine.travel(NOW, tick=False):
        response = client.get(LATEST)
    assert response.status_code == 200
    return response.json()


def test_paths_taken_together_are_those_taken_one_by_one():
    for size in range(1, 40):
        hashes = [leaf_hash(["case", str(n), n, "h"]) for n in range(size)]
        together = audit_paths(range(size), hashes)
        assert together == {i: audit_path(i, hashes) for i in range(size)}, size


def test_a_department_gets_the_header_and_the_proofs_of_its_own_cases_alone(
    client, whistle_city, cases
):
    summoned, other = cases
    create_checkpoint(now=NOW)
    view = fetch(client, whistle_city.police_officer)
    assert view["format"] == VIEW_FORMAT and "leaves" not in view
    assert set(view["checkpoint"]) == set(HEADER)
    assert view["checkpoint"]["counts"]["cases"] == 2
    assert [p["leaf"][1] for p in view["proofs"]] == [summoned.reference]
    assert other.reference not in json.dumps(view, ensure_ascii=False)
    # The view proves itself: signed by the installation, every proof leads to the root.
    problems, signer = check_signature(view, "view", None)
    assert problems == [] and signer
    read = read_view(view)
    assert read is not None and read[2] == []
    assert read[0].root == view["checkpoint"]["root"]


def test_a_department_verifies_its_case_export_against_its_view(
    client, whistle_city, cases, tmp_path: Path
):
    summoned, _other = cases
    create_checkpoint(now=NOW)
    held = tmp_path / "view.json"
    held.write_text(json.dumps(fetch(client, whistle_city.police_officer), ensure_ascii=False))
    exported = tmp_path / "case.json"
    call_command("export_case", summoned.reference, output=str(exported), stderr=io.StringIO())
    assert "every trail is intact" in run("verify_trail", file=str(exported), checkpoint=[held])
    # The view alone, against the database: the cases it proves are there, unchanged.
    assert "every trail is intact" in run("verify_trail", checkpoint=[str(held)])


def test_a_view_edited_by_hand_is_refused(client, whistle_city, cases, tmp_path: Path):
    _summoned, other = cases
    create_checkpoint(now=NOW)
    view = fetch(client, whistle_city.police_officer)
    view["proofs"][0]["leaf"][1] = other.reference
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(view, ensure_ascii=False))
    message = refused("verify_trail", checkpoint=[str(edited)])
    assert "the signature does not match" in message
    assert "does not lead to the root" in message


def test_the_whole_file_goes_to_readers_of_every_district_with_cases(client, whistle_city, cases):
    summoned, other = cases
    create_checkpoint(now=NOW)
    whole = fetch(client, whistle_city.district_office)
    assert [leaf[1] for leaf in whole["leaves"]["cases"]] == [summoned.reference, other.reference]
    # Once 西城区 has a case, 东城's readers get their district's proofs, 西城's chief its
    # own, and only a reader of both districts the whole file.
    xicheng, chief = xicheng_case(whistle_city)
    create_checkpoint(now=NOW)
    dongcheng = fetch(client, whistle_city.district_office)
    assert "leaves" not in dongcheng
    assert {p["leaf"][1] for p in dongcheng["proofs"]} == {summoned.reference, other.reference}
    assert xicheng.reference not in json.dumps(dongcheng)
    theirs = fetch(client, chief)
    assert [p["leaf"][1] for p in theirs["proofs"]] == [xicheng.reference]
    assert summoned.reference not in json.dumps(theirs)
    superuser = make_person("root", Role.ADMINISTRATOR)
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    assert len(fetch(client, superuser)["leaves"]["cases"]) == 3


def test_without_the_key_a_view_is_refused_in_the_readers_language(
    client, whistle_city, cases, settings, tmp_path: Path
):
    create_checkpoint(now=NOW)
    settings.WHISTLE_SIGNING_KEY_FILE = str(tmp_path / "gone" / "signing-key.pem")
    client.force_login(whistle_city.police_officer)
    response = client.get(LATEST, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 503
    assert response.json()["error"] == "无法为该检查点的查阅版签名：签名密钥缺失。"
