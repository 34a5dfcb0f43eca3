"""A pending appeal whose last possible ruler goes: a role of the district chiefs' office
ended in the admin, an account deactivated in the admin or by an import. The people who add
staff (the superusers, with the admin's new role form) and the district chief are told once,
as when an appeal is filed with nobody to rule on it; the API and the department's list of
its appeals say that it waits for someone who may rule. Someone who may rule on such an
appeal added to the office (in the admin, by an import) is asked to, as the office is on
filing, and the department hears once that its appeal can now be ruled on.

东城区城管执法局 appeals its c3 record (never came) of July 2026; 陈 (chen-office) is the only
member of the district chiefs' office.
"""

from __future__ import annotations

import csv
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_api import Api, secret_for
from tests.fixtures_appeals import (  # noqa: F401  (fixtures)
    FOUND,
    NOBODY,
    appealed_fixture,
    filed_with_nobody_to_rule,
    july_20_clock_fixture,
    office_role,
    staffed_fixture,
    told,
)
from tests.fixtures_assessment import bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import (
    DEPARTMENT,
    scored_july_fixture,  # noqa: F401  (fixture)
)
from whistle.assessment.actions import rule_on_appeal
from whistle.assessment.editing import appeal_with_photos
from whistle.assessment.models import Appeal
from whistle.cases.models import Event
from whistle.cases.trail import EventKind
from whistle.importing.pipeline import run_import
from whistle.organisation.models import Person, Role, RoleAssignment
from whistle.organisation.staffing import announce_staffing_changed

WAITS = "区街巷长办公室暂无可以裁定此申诉的人员，已通知区里增派人员。"


def end_role_in_the_admin(client, row: RoleAssignment) -> None:
    response = client.post(f"/admin/organisation/roleassignment/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.status_code
    assert not RoleAssignment.objects.filter(pk=row.pk).exists()


def change_form_data(response) -> dict[str, Any]:
    """What the admin's change form would post back unchanged: its fields and its inlines'."""
    data: dict[str, Any] = {}

    def put(form: Any) -> None:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if callable(value):
                value = value()
            key = form.add_prefix(name)
            widget = field.widget
            if hasattr(widget, "widgets") and hasattr(widget, "decompress"):
                for index, part in enumerate(widget.decompress(value)):
                    data[f"{key}_{index}"] = "" if part is None else part
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [getattr(v, "pk", v) for v in value]
            elif value is not None:
                data[key] = getattr(value, "pk", value)

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management.initial.get(name, "")
        for form in formset.forms:
            put(form)
    return data


def test_the_last_ruler_losing_the_office_role_tells_the_staffers_once(client, staffed):
    m = staffed
    appeal = Appeal.objects.get()
    assert appeal.status == "pending" and appeal.nobody_rules_since is None
    # 陈 may rule on it: nobody else is told when it is filed.
    assert told(m.root, EventKind.APPEALED) == [] and told(m.chief, EventKind.APPEALED) == []
    client.force_login(m.root)
    with time_machine.travel(bj(20, 15), tick=False):
        end_role_in_the_admin(client, office_role(m.chiefs_office, m.district))

    # The same message as on filing, under the new trail event of the case.
    reference = m.stories["c3"].case.reference
    (entry,) = told(m.root)
    assert entry.link == (
        f"/admin/organisation/roleassignment/add/?role=chiefs_office&jurisdiction={m.district.pk}"
    )
    assert entry.payload["case"] == reference
    (entry,) = told(m.chief)
    assert reference in entry.link
    client.force_login(m.chief)
    html = client.get("/inbox/").content.decode()
    assert f"无人可以裁定申诉：东城区城管执法局，案件 {reference}" in html
    assert "请为区街巷长办公室增配此类人员" in html
    event = Event.objects.get(kind=NOBODY)
    assert event.summons == appeal.summons and event.data == {"appeal": appeal.pk}
    assert event.at == bj(20, 15) and event.actor_id is None
    appeal.refresh_from_db()
    assert appeal.nobody_rules_since == bj(20, 15)
    assert told(m.chiefs_office) == [] and told(m.urban_officer) == []

    # Later changes of people and roles tell nobody again while nobody may rule.
    client.force_login(m.root)
    end_role_in_the_admin(client, m.chief.roles.get())
    end_role_in_the_admin(client, RoleAssignment.objects.get(person=m.longtan_assessor))
    assert len(told(m.root)) == 1 and len(told(m.chief)) == 1
    assert Event.objects.filter(kind=NOBODY).count() == 1


def test_deactivating_the_last_ruler_in_the_admin_tells_the_staffers(client, staffed):
    m = staffed
    client.force_login(m.root)
    url = f"/admin/organisation/person/{m.chiefs_office.pk}/change/"
    data = change_form_data(client.get(url))
    data.pop("is_active", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    m.chiefs_office.refresh_from_db()
    assert not m.chiefs_office.is_active
    assert len(told(m.root)) == 1 and len(told(m.chief)) == 1


def test_saving_a_person_who_still_may_rule_tells_nobody(client, staffed):
    m = staffed
    client.force_login(m.root)
    url = f"/admin/organisation/person/{m.chiefs_office.pk}/change/"
    data = change_form_data(client.get(url))
    data["phone"] = "13800138000"
    assert client.post(url, data).status_code == 302
    assert told(m.root) == [] and told(m.chief) == []
    assert not Event.objects.filter(kind=NOBODY).exists()


def test_an_import_that_deactivates_the_last_ruler_tells_the_staffers(staffed, tmp_path):
    m = staffed
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([["username", "active"], ["chen-office", "否"]])
    result = run_import("people", path, update=True, dry_run=True)
    assert result.ok and told(m.root) == []
    result = run_import("people", path, update=True)
    assert result.ok and result.written, result.errors
    assert not Person.objects.get(username="chen-office").is_active
    assert len(told(m.root)) == 1 and len(told(m.chief)) == 1


def test_an_appeal_filed_with_nobody_to_rule_is_not_told_of_again(client, staffed):
    m = staffed
    rule_on_appeal(m.chiefs_office, Appeal.objects.get(), False, "无到场记录")
    with time_machine.travel(bj(20, 11), tick=False):
        later = appeal_with_photos(
            m.urban_officer, m.summonses["c3_urban"], "came", {"late_minutes": 5}, "迟到5分钟"
        )
    # Told on filing, under the appeal's own event.
    assert len(told(m.root, EventKind.APPEALED)) == 1
    later.refresh_from_db()
    assert later.nobody_rules_since == bj(20, 11)
    client.force_login(m.root)
    with time_machine.travel(bj(20, 12), tick=False):
        end_role_in_the_admin(client, office_role(m.chiefs_office, m.district))
    assert told(m.root) == [] and told(m.chief) == []
    assert not Event.objects.filter(kind=NOBODY).exists()


def test_once_someone_may_rule_again_losing_them_tells_again(client, staffed):
    m = staffed
    client.force_login(m.root)
    with time_machine.travel(bj(20, 11), tick=False):
        end_role_in_the_admin(client, office_role(m.chiefs_office, m.district))
    assert len(told(m.root)) == 1
    lin = make_person("lin", Role.RESIDENT)
    with time_machine.travel(bj(20, 12), tick=False):
        response = client.post(
            "/admin/organisation/roleassignment/add/",
            {"person": lin.pk, "role": Role.CHIEFS_OFFICE, "jurisdiction": m.district.pk},
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
    assert Appeal.objects.get().nobody_rules_since is None
    assert len(told(m.root)) == 1
    with time_machine.travel(bj(20, 13), tick=False):
        end_role_in_the_admin(client, office_role(lin, m.district))
    assert len(told(m.root)) == 2 and len(told(m.chief)) == 2
    assert Event.objects.filter(kind=NOBODY).count() == 2


def test_a_role_change_rolled_back_tells_nobody(staffed):
    m = staffed
    with pytest.raises(RuntimeError, match="undone"), transaction.atomic():
        office_role(m.chiefs_office, m.district).delete()
        announce_staffing_changed(trigger="admin")
        assert len(told(m.root)) == 1
        raise RuntimeError("undone")
    assert told(m.root) == [] and not Event.objects.filter(kind=NOBODY).exists()
    assert Appeal.objects.get().nobody_rules_since is None


def test_the_api_says_when_nobody_may_rule_on_an_appeal(client, staffed):
    m = staffed
    api = Api(secret_for(m.urban_officer))
    appeal = Appeal.objects.get()
    (item,) = api.get("/assessment/appeals").json()["items"]
    assert item["uuid"] == str(appeal.uuid) and item["awaiting_ruler"] is False
    client.force_login(m.root)
    end_role_in_the_admin(client, office_role(m.chiefs_office, m.district))
    (item,) = api.get("/assessment/appeals").json()["items"]
    assert item["awaiting_ruler"] is True
    # A ruled appeal waits for nobody.
    make_person("lin-office", Role.CHIEFS_OFFICE, jurisdiction=m.district)
    lin = Person.objects.get(username="lin-office")
    ruled = Api(secret_for(lin)).post(
        f"/assessment/appeals/{appeal.uuid}/ruling", {"upheld": False, "note": "无到场记录"}
    )
    assert ruled.status_code == 200, ruled.content
    assert ruled.json()["status"] == "rejected" and ruled.json()["awaiting_ruler"] is False
    schema = api.get("/openapi.json").json()["components"]["schemas"]["AppealOut"]
    assert "awaiting_ruler" in schema["required"]


def test_my_appeals_says_when_nobody_may_rule_on_a_pending_appeal(client, staffed):
    m = staffed
    client.force_login(m.urban_officer)

    def my_appeals(language: str = "zh-hans") -> str:
        response = client.get(DEPARTMENT + "?period=2026-07", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        return html[html.index('id="my-appeals"') :]

    assert WAITS not in my_appeals()
    office_role(m.chiefs_office, m.district).delete()
    assert WAITS in my_appeals()
    assert "Nobody in the district chiefs' office may rule on this appeal yet" in my_appeals("en")


def test_someone_added_to_the_office_in_the_admin_is_asked_to_rule_once(client, staffed):
    m = staffed
    later = filed_with_nobody_to_rule(m)
    lin = make_person("lin", Role.RESIDENT)
    client.force_login(m.root)
    with time_machine.travel(bj(20, 12), tick=False):
        response = client.post(
            "/admin/organisation/roleassignment/add/",
            {"person": lin.pk, "role": Role.CHIEFS_OFFICE, "jurisdiction": m.district.pk},
        )
        assert response.status_code == 302, response.context["adminform"].form.errors

    # The new member is asked to rule, as the office is when an appeal is filed.
    reference = m.stories["c3"].case.reference
    (entry,) = told(lin, FOUND)
    assert entry.link == f"/assessment/appeals/#appeal-{later.pk}"
    assert entry.payload["case"] == reference
    client.force_login(lin)
    html = client.get("/inbox/").content.decode()
    assert f"待裁定申诉：东城区城管执法局，案件 {reference}" in html
    assert "理由：迟到5分钟" in html
    opened = client.get(reverse("web:inbox-open", args=[entry.uuid]))
    assert opened.status_code == 302 and opened["Location"] == entry.link
    appeals = client.get("/assessment/appeals/")
    assert appeals.status_code == 200 and f'id="appeal-{later.pk}"' in appeals.content.decode()
    english = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Appeal to rule on: 东城区城管执法局, case {reference}" in english

    # The department hears once that its appeal has someone to rule on it; 陈 is not asked.
    (entry,) = told(m.urban_officer, FOUND)
    assert entry.link.startswith("/assessment/department/?period=2026-07#record-")
    client.force_login(m.urban_officer)
    html = client.get("/inbox/").content.decode()
    assert f"已有人可以裁定申诉：东城区城管执法局，案件 {reference}" in html
    assert told(m.chiefs_office, FOUND) == [] and told(m.root, FOUND) == []

    event = Event.objects.get(kind=FOUND)
    assert event.summons == later.summons and event.data == {"appeal": later.pk}
    assert event.at == bj(20, 12) and event.actor_id is None
    later.refresh_from_db()
    assert later.nobody_rules_since is None

    # A second person who may rule is not told again.
    client.force_login(m.root)
    wang = make_person("wang", Role.RESIDENT)
    response = client.post(
        "/admin/organisation/roleassignment/add/",
        {"person": wang.pk, "role": Role.CHIEFS_OFFICE, "jurisdiction": m.district.pk},
    )
    assert response.status_code == 302
    assert told(wang, FOUND) == [] and len(told(lin, FOUND)) == 1
    assert len(told(m.urban_officer, FOUND)) == 1
    assert Event.objects.filter(kind=FOUND).count() == 1


def test_someone_imported_into_the_office_is_asked_to_rule(staffed, tmp_path):
    m = staffed
    later = filed_with_nobody_to_rule(m)
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(
            [
                ["username", "name", "role", "jurisdiction"],
                ["lin-office", "林", Role.CHIEFS_OFFICE.value, m.district.code],
            ]
        )
    result = run_import("people", path, dry_run=True)
    assert result.ok, result.errors
    assert not Person.objects.filter(username="lin-office").exists()
    with time_machine.travel(bj(20, 12), tick=False):
        result = run_import("people", path)
    assert result.ok and result.written, result.errors
    lin = Person.objects.get(username="lin-office")
    (entry,) = told(lin, FOUND)
    assert entry.link == f"/assessment/appeals/#appeal-{later.pk}"
    assert len(told(m.urban_officer, FOUND)) == 1
