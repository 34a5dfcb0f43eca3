"""Districts, townships, communities and departments have an English name beside their name:
shown on English pages, kept in the admin, imported by code, and kept in messages so that the
inbox names them in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation
from django.utils.translation import gettext_lazy

from tests.fixtures_cases import (
    beijing,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.test_import import do_import, write_csv
from whistle.cases import actions
from whistle.notifications import texts
from whistle.notifications.models import Notification
from whistle.organisation.models import Department, Jurisdiction

NOW = beijing(2026, 3, 10, 10, 0)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def in_language(language: str, show) -> str:
    with translation.override(language):
        return str(show())


def test_a_place_and_a_department_read_in_english_only_on_english_pages(small_city):
    township, department = small_city.longtan, small_city.urban_management
    township.name_en = "Longtan Subdistrict"
    department.name_en = "Dongcheng District Urban Management and Law Enforcement Bureau"
    assert in_language("en", lambda: township.display_name) == "Longtan Subdistrict"
    assert in_language("zh-hans", lambda: township.display_name) == "龙潭街道"
    assert in_language("en", lambda: department.display_name).startswith("Dongcheng District")
    assert in_language("zh-hans", lambda: department.display_name) == "东城区城管执法局"
    # The name stays what identifies them; one without an English name keeps it everywhere.
    assert str(township) == "龙潭街道" and str(department) == "东城区城管执法局"
    assert in_language("en", lambda: small_city.dongsi.display_name) == "东四街道"


def test_the_import_takes_the_english_names_and_keeps_them_when_the_column_is_absent(
    small_city, tmp_path
):
    places = write_csv(
        tmp_path,
        "places.csv",
        [
            ["代码", "名称", "英文名称", "层级", "上级代码"],
            ["110101015", "龙潭街道", "Longtan Subdistrict", "街道", "110101"],
            ["110101006", "东四街道", "", "街道", "110101"],
        ],
    )
    do_import("jurisdictions", places, "--update")
    departments = write_csv(
        tmp_path,
        "departments.csv",
        [
            ["部门代码", "部门名称", "部门英文名称", "类别", "职能领域", "所属区"],
            ["dc-longtan-pcs", "龙潭派出所", "Longtan Police Station", "派出", "公安", "110101"],
        ],
    )
    do_import("departments", departments, "--update")
    assert Jurisdiction.objects.get(code="110101015").name_en == "Longtan Subdistrict"
    assert Jurisdiction.objects.get(code="110101006").name_en == ""
    assert Department.objects.get(code="dc-longtan-pcs").name_en == "Longtan Police Station"
    # A file without the column renames and leaves the English name as it was.
    again = write_csv(
        tmp_path,
        "again.csv",
        [["code", "name", "level", "parent"], ["110101015", "龙潭街道办事处", "街道", "110101"]],
    )
    do_import("jurisdictions", again, "--update")
    longtan = Jurisdiction.objects.get(code="110101015")
    assert (longtan.name, longtan.name_en) == ("龙潭街道办事处", "Longtan Subdistrict")


def test_the_admin_keeps_and_lists_the_english_names(admin_client, small_city):
    for model, row in (("jurisdiction", small_city.longtan), ("department", small_city.police)):
        page = admin_client.get(f"/admin/organisation/{model}/{row.pk}/change/")
        assert page.status_code == 200
        assert 'name="name_en"' in page.content.decode()
    small_city.police.name_en = "Longtan Police Station"
    small_city.police.save()
    listing = admin_client.get("/admin/organisation/department/", {"q": "Longtan Police"})
    assert "龙潭派出所" in listing.content.decode()


def test_a_message_names_the_township_and_department_in_the_language_it_is_read_in(
    whistle_city,
):
    city = whistle_city
    city.longtan.name_en = "Longtan Subdistrict"
    city.longtan.save()
    city.urban.name_en = "Urban Management Bureau"
    city.urban.save()
    case = filed_case(city)
    actions.dispatch_case(city.dispatcher, case, department=city.urban)
    actions.issue_supervision_notice(
        city.township_chief, case, department=city.urban, text="请尽快处置", due_at=NOW + HOUR
    )
    told = [
        n
        for n in Notification.objects.filter(recipient=city.urban_officer)
        if texts.KEY in n.payload
    ]
    dispatched = next(n for n in told if n.kind == "summons.created")
    notice = next(n for n in told if n.kind == "supervision.issued")
    # The text that leaves the system is written once, in the deployment's language.
    assert dispatched.body.startswith("龙潭街道") and "Longtan" not in dispatched.body
    assert "东城区城管执法局" in notice.body and "Urban" not in notice.body
    # The inbox reads it in its reader's language.
    assert in_language("en", lambda: texts.body_of(dispatched.payload, "")).startswith(
        "Longtan Subdistrict dispatched case"
    )
    assert in_language("zh-hans", lambda: texts.body_of(dispatched.payload, "")).startswith(
        "龙潭街道"
    )
    assert in_language("en", lambda: texts.body_of(notice.payload, "")).startswith(
        "Supervision notice to Urban Management Bureau on case"
    )
    assert "东城区城管执法局" in in_language("zh-hans", lambda: texts.body_of(notice.payload, ""))


def test_a_message_kept_before_with_the_name_written_out_still_reads_as_written():
    subject = "%(township)s assessed %(person)s for %(month)s"
    values = {"person": "梁萍", "month": "2026-02"}
    old = {texts.KEY: {"subject": subject, "params": {"township": "龙潭街道", **values}}}
    assert (
        in_language("en", lambda: texts.subject_of(old, "")) == "龙潭街道 assessed 梁萍 for 2026-02"
    )
    named = texts.Named("龙潭街道", "Longtan Subdistrict")
    kept = {texts.KEY: texts.kept(gettext_lazy(subject), {"township": named, **values})}
    assert in_language("en", lambda: texts.subject_of(kept, "")).startswith("Longtan Subdistrict")
    assert in_language("zh-hans", lambda: texts.subject_of(kept, "")).startswith("龙潭街道")


def test_the_inbox_page_names_the_township_in_the_readers_language(client, whistle_city):
    city = whistle_city
    city.longtan.name_en = "Longtan Subdistrict"
    city.longtan.save()
    actions.dispatch_case(city.dispatcher, filed_case(city), department=city.urban)
    client.force_login(city.urban_officer)
    english = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Longtan Subdistrict dispatched case" in english
    assert "Longtan Subdistrict" not in chinese and "龙潭街道" in chinese


def test_every_demo_district_township_and_department_has_its_official_english_name():
    from whistle.demo.data import places, services

    names = {t.full_name: t.full_name_en for d in places.DISTRICTS for t in d.townships}
    assert names["景山街道"] == "Jingshan Subdistrict"
    assert names["西长安街街道"] == "Xichang'anjie Subdistrict"
    assert {d.name: d.name_en for d in places.DISTRICTS}["东城区"] == "Dongcheng District"
    departments = {d.name: d.name_en for d in services.departments()}
    assert all(departments.values())
    assert departments["东城区城管执法局"] == (
        "Dongcheng District Urban Management and Law Enforcement Bureau"
    )
    assert departments["景山派出所"] == "Jingshan Police Station"
