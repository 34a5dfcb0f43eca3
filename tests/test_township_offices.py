"""The street office's units (offices, discipline committee, enforcement team, centres):
routing a case by its category to the unit that handles it, re-routing, editing with the
log, the import (all or nothing, every bad row reported), the units' pages and the office
filter of the command centre."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_person
from tests.fixtures_cases import (
    OFF_ANY_LANE,
    WhistleCity,
    beijing,
    filed_case,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.errors import InvalidInput, PermissionRefused
from whistle.cases.models import Case, Event
from whistle.notifications.models import Channel, Notification
from whistle.organisation.models import Role, TownshipUnit, UnitLogEntry
from whistle.policies.models import Category, CategoryKind, MajorClass
from whistle.policies.offices import UnitInput, UnitRefused, save_unit
from whistle.policies.routing import CategoryRoute, office_for

NOW = beijing(2026, 3, 10, 10, 0)
DONGSI_POINT = (116.414, 39.9251)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(name="units")
def units_fixture(whistle_city: WhistleCity) -> dict[str, TownshipUnit]:
    """龙潭街道: the enforcement team handles street vending (event 0501), the city
    management office exposed garbage (event 0102); the dispatcher works in the team."""
    c = whistle_city
    team = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.ENFORCEMENT,
            name="综合执法队",
            responsibilities=["违法建设、占道经营、无照经营的查处"],
            categories=[c.street_vending],
            members=[c.dispatcher],
            position=8,
        ),
    )
    city_office = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.OFFICE,
            name="城市管理办公室",
            responsibilities=["环境卫生和街巷环境整治", "市政设施和园林绿化"],
            categories=[c.exposed_garbage],
            members=[c.township_office],
            position=6,
        ),
    )
    discipline = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(kind=TownshipUnit.Kind.DISCIPLINE, name="纪工委", position=7),
    )
    return {"team": team, "city": city_office, "discipline": discipline}


# Routing ----------------------------------------------------------------------------------


def test_a_reported_case_goes_to_the_unit_of_its_category(whistle_city, units):
    case = reported_case(whistle_city, category=whistle_city.street_vending)
    # Hand-checked: 0501 无照经营游商 is the enforcement team's in 龙潭街道.
    assert case.office == units["team"]
    reported = Event.objects.get(case=case, kind="case.reported")
    assert reported.data["office"] == "综合执法队"
    assert Case.objects.get(pk=case.pk).office_id == units["team"].pk


def test_filing_routes_by_the_chosen_category_and_records_the_change(whistle_city, units):
    case = reported_case(whistle_city, category=whistle_city.street_vending)
    filed = actions.file_case(whistle_city.dispatcher, case, category=whistle_city.exposed_garbage)
    assert filed.office == units["city"]
    event = Event.objects.get(case=case, kind="case.filed")
    assert event.data["changes"]["office"] == ["综合执法队", "城市管理办公室"]


def test_a_case_without_category_or_units_has_no_office(whistle_city, units):
    unclassified = reported_case(whistle_city)
    assert unclassified.office is None
    assert "office" not in Event.objects.get(case=unclassified, kind="case.reported").data
    # 东四街道 has no units: the same category goes nowhere there.
    dongsi = actions.report_case(
        whistle_city.dongsi_steward,
        description="东四六条有游商",
        lon=DONGSI_POINT[0],
        lat=DONGSI_POINT[1],
        category=whistle_city.street_vending,
    )
    assert dongsi.township == whistle_city.city.dongsi
    assert dongsi.office is None
    assert office_for(whistle_city.city.dongsi.pk, whistle_city.street_vending.pk) is None


def test_a_unit_out_of_use_receives_nothing(whistle_city, units):
    c = whistle_city
    save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.ENFORCEMENT,
            name="综合执法队",
            categories=[c.street_vending],
            position=8,
            is_active=False,
        ),
        unit=units["team"],
    )
    assert reported_case(c, category=c.street_vending).office is None


def test_the_township_reroutes_a_case_and_the_unit_is_told(whistle_city, units):
    c = whistle_city
    case = filed_case(c)
    assert case.office == units["team"]
    routed = actions.route_case(c.dispatcher, case, units["city"], note="环境问题为主")
    assert routed.office == units["city"]
    event = Event.objects.get(case=case, kind="case.routed")
    assert event.data == {
        "changes": {"office": ["综合执法队", "城市管理办公室"]},
        "note": "环境问题为主",
    }
    told = Notification.objects.filter(
        recipient=c.township_office, kind="case.routed", channel=Channel.INBOX
    )
    assert told.count() == 1
    assert "城市管理办公室" in told.get().subject


def test_rerouting_is_refused_across_townships_and_to_the_same_unit(whistle_city, units):
    c = whistle_city
    case = filed_case(c)
    with pytest.raises(PermissionRefused):
        actions.route_case(c.dongsi_dispatcher, case, units["city"])
    with pytest.raises(InvalidInput):
        actions.route_case(c.dispatcher, case, units["team"])
    dongsi_unit = TownshipUnit.objects.create(
        township=c.city.dongsi, kind=TownshipUnit.Kind.OFFICE, name="城市管理办公室"
    )
    with pytest.raises(InvalidInput):
        actions.route_case(c.dispatcher, case, dongsi_unit)
    assert Case.objects.get(pk=case.pk).office == units["team"]
    assert not Event.objects.filter(case=case, kind="case.routed").exists()


# Editing and its log ----------------------------------------------------------------------


def test_every_change_is_logged_with_before_and_after(whistle_city, units):
    c = whistle_city
    created = UnitLogEntry.objects.get(unit=units["city"], action="unit.created")
    assert created.actor == c.township_chief
    assert created.actor_role == Role.TOWNSHIP_CHIEF
    assert created.changes["categories"] == [None, ["0102 暴露垃圾"]]
    # The team still holds street vending: giving it to the office is refused, nothing written.
    with pytest.raises(UnitRefused) as refused:
        save_unit(
            c.township_chief,
            c.longtan,
            UnitInput(
                kind=TownshipUnit.Kind.OFFICE,
                name="城市管理办公室",
                categories=[c.exposed_garbage, c.street_vending],
                position=6,
            ),
            unit=units["city"],
        )
    assert refused.value.field == "categories"
    assert "综合执法队" in refused.value.message
    assert UnitLogEntry.objects.filter(unit=units["city"]).count() == 1
    changed = save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.OFFICE,
            name="城市管理办公室",
            responsibilities=["环境卫生和街巷环境整治"],
            categories=[c.exposed_garbage],
            members=[c.township_office],
            position=6,
        ),
        unit=units["city"],
    )
    entry = UnitLogEntry.objects.filter(unit=changed).latest("pk")
    assert entry.action == "unit.changed"
    assert entry.changes == {
        "responsibilities": [
            ["环境卫生和街巷环境整治", "市政设施和园林绿化"],
            ["环境卫生和街巷环境整治"],
        ]
    }
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        entry.save()


@pytest.mark.parametrize("who", ["dispatcher", "township_office", "dongsi_dispatcher"])
def test_only_the_chief_or_an_administrator_edits(whistle_city, units, who):
    with pytest.raises(UnitRefused):
        save_unit(
            getattr(whistle_city, who),
            whistle_city.longtan,
            UnitInput(kind=TownshipUnit.Kind.CENTRE, name="综治中心"),
        )
    assert not TownshipUnit.objects.filter(name="综治中心").exists()


def test_a_district_administrator_edits_the_townships_units(whistle_city, units):
    admin = make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=whistle_city.district)
    unit = save_unit(
        admin, whistle_city.longtan, UnitInput(kind=TownshipUnit.Kind.CENTRE, name="综治中心")
    )
    assert UnitLogEntry.objects.get(unit=unit).actor_role == Role.ADMINISTRATOR


def test_bad_input_is_refused_naming_the_field(whistle_city, units):
    c = whistle_city
    other_district = MajorClass.objects.create(
        district=c.city.city, kind=CategoryKind.EVENT, code="09", name="其他"
    )
    foreign = Category.objects.create(major=other_district, code="01", name="外区类别")
    cases = [
        (UnitInput(kind="bureau", name="某局"), "kind"),
        (UnitInput(kind="office", name="  "), "name"),
        (UnitInput(kind="office", name="纪工委"), "name"),
        (UnitInput(kind="office", name="甲", responsibilities=["长" * 301]), "responsibilities"),
        (UnitInput(kind="office", name="乙", categories=[foreign]), "categories"),
        (UnitInput(kind="office", name="丙", members=[c.dongsi_dispatcher]), "members"),
    ]
    for data, field in cases:
        with pytest.raises(UnitRefused) as refused:
            save_unit(c.township_chief, c.longtan, data)
        assert refused.value.field == field
    assert TownshipUnit.objects.filter(township=c.longtan).count() == 3


# Import -----------------------------------------------------------------------------------

GOOD = (
    "街乡代码,类型,名称,职责清单,问题类别,人员,顺序\n"
    '110101015,办公室,社区平安办公室,"社会治安综合治理；安全生产和消防安全",,,5\n'
    "110101015,综合执法队,综合执法队,违法建设的查处,0501,longtan-dispatcher,8\n"
    "110101006,中心,网格化服务管理中心,网格巡查和问题发现,0102、0501,dongsi-dispatcher,11\n"
)


def test_the_import_creates_and_replaces_units_with_their_routes(whistle_city, units, tmp_path):
    path = tmp_path / "offices.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import", "offices", str(path))
    safety = TownshipUnit.objects.get(township=whistle_city.longtan, name="社区平安办公室")
    assert safety.responsibilities == ["社会治安综合治理", "安全生产和消防安全"]
    assert safety.position == 5
    team = TownshipUnit.objects.get(pk=units["team"].pk)
    assert team.responsibilities == ["违法建设的查处"]
    grid = TownshipUnit.objects.get(township=whistle_city.city.dongsi)
    assert sorted(r.category.name for r in grid.routes.all()) == ["无照经营游商", "暴露垃圾"]
    assert list(grid.members.all()) == [whistle_city.dongsi_dispatcher]
    logged = UnitLogEntry.objects.filter(action="unit.imported")
    assert logged.count() == 3 and {e.actor_role for e in logged} == {"import"}
    assert {e.actor for e in logged} == {None}
    # Imported again: nothing changes, nothing is logged.
    call_command("import", "offices", str(path))
    assert UnitLogEntry.objects.filter(action="unit.imported").count() == 3


def test_a_bad_file_imports_nothing_and_reports_every_bad_row(whistle_city, units, tmp_path):
    path = tmp_path / "offices.csv"
    path.write_text(
        "街乡代码,类型,名称,职责清单,问题类别,人员\n"
        "110101015,办公室,社区平安办公室,社会治安综合治理,,\n"
        "110101999,办公室,民生保障办公室,社会保障,,\n"
        "110101015,局,某局,,,\n"
        "110101015,办公室,党群工作办公室,,9999,\n"
        "110101015,办公室,社区建设办公室,,,nobody\n"
        "110101015,办公室,民生保障办公室,,0102,\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as failed:
        call_command("import", "offices", str(path), stderr=(err := _Sink()))
    assert "nothing was imported" in str(failed.value) or "未导入" in str(failed.value)
    report = err.text
    for row in ("3", "4", "5", "6", "7"):
        assert f"{row}" in report
    assert "110101999" in report and "9999" in report and "nobody" in report
    # Row 7 gives exposed garbage to a second unit while 城市管理办公室 keeps it.
    assert "城市管理办公室" in report
    assert not TownshipUnit.objects.filter(name__in=["社区平安办公室", "党群工作办公室"]).exists()
    assert not UnitLogEntry.objects.filter(action="unit.imported").exists()


def test_a_dry_run_writes_nothing(whistle_city, units, tmp_path):
    path = tmp_path / "offices.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import", "offices", str(path), "--dry-run")
    assert not TownshipUnit.objects.filter(name="社区平安办公室").exists()
    assert CategoryRoute.objects.count() == 2


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


# Pages ------------------------------------------------------------------------------------


def test_the_units_page_lists_units_duties_and_categories(client, whistle_city, units):
    client.force_login(whistle_city.township_chief)
    response = client.get("/township/offices/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "综合执法队",
        "城市管理办公室",
        "纪工委",
        "市政设施和园林绿化",
        "0501 无照经营游商",
    ):
        assert text in html
    assert "/township/offices/new/?township=110101015" in html


def test_another_townships_units_are_not_found(client, whistle_city, units):
    client.force_login(whistle_city.dongsi_dispatcher)
    assert client.get("/township/offices/?township=110101015").status_code == 404
    assert client.get(f"/township/offices/{units['team'].pk}/").status_code == 404
    client.force_login(whistle_city.urban_officer)
    assert client.get("/township/offices/").status_code == 403


def test_a_units_people_see_its_queue(client, whistle_city, units):
    routed = filed_case(whistle_city)
    other = filed_case(whistle_city, category=whistle_city.exposed_garbage)
    client.force_login(whistle_city.dispatcher)
    html = client.get(f"/township/offices/{units['team'].pk}/").content.decode()
    assert routed.reference in html and other.reference not in html
    assert "log-title" in html  # the dispatcher reads the whole township


def test_the_chief_edits_a_unit_through_the_form(client, whistle_city, units):
    c = whistle_city
    client.force_login(c.township_chief)
    url = f"/township/offices/{units['city'].pk}/edit/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "office",
            "name": "城市管理办公室",
            "responsibilities": "环境卫生\n\n垃圾分类\n",
            "categories": [str(c.exposed_garbage.pk)],
            "members": [str(c.township_office.pk)],
            "position": "6",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert TownshipUnit.objects.get(pk=units["city"].pk).responsibilities == [
        "环境卫生",
        "垃圾分类",
    ]
    assert UnitLogEntry.objects.filter(unit=units["city"], action="unit.changed").count() == 1
    # A category held by the team: the form says so, nothing changes.
    response = client.post(
        url,
        {
            "kind": "office",
            "name": "城市管理办公室",
            "categories": [str(c.exposed_garbage.pk), str(c.street_vending.pk)],
            "position": "6",
        },
    )
    assert response.status_code == 400
    assert "综合执法队" in response.content.decode()
    assert UnitLogEntry.objects.filter(unit=units["city"]).count() == 2
    client.force_login(c.dispatcher)
    assert client.get(url).status_code == 403
    assert client.get("/township/offices/new/").status_code == 403


def test_the_case_page_shows_the_office(client, whistle_city, units):
    case = filed_case(whistle_city)
    client.force_login(whistle_city.dispatcher)
    html = client.get(f"/cases/{case.reference}/").content.decode()
    assert f'href="/township/offices/{units["team"].pk}/">综合执法队</a>' in html


def test_the_command_centre_filters_its_queues_by_office(client, whistle_city, units):
    vending = filed_case(whistle_city)
    garbage = filed_case(whistle_city, category=whistle_city.exposed_garbage)
    client.force_login(whistle_city.dispatcher)
    everything = client.get("/dispatch/").content.decode()
    assert f'id="q-{vending.reference}"' in everything
    assert f'id="q-{garbage.reference}"' in everything
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/dispatch/?office={units['city'].pk}")
    html = response.content.decode()
    # The queues hold the office's cases; the live board above them still shows every case.
    assert f'id="q-{garbage.reference}"' in html
    assert f'id="q-{vending.reference}"' not in html
    assert len(queries) < 60
    assert client.get("/dispatch/?office=999999").status_code == 404
    # Its forms, loaded when opened, post back to the filtered queues.
    office = units["city"].pk
    lazy = f"/dispatch/op/dispatch/{garbage.reference}/?township=110101015&office={office}"
    assert f'hx-get="{lazy.replace("&", "&amp;")}"' in html
    form = client.get(lazy).content.decode()
    assert f'action="/dispatch/?office={office}#op-dispatch-{garbage.reference}"' in form


def test_the_units_page_costs_the_same_queries_for_more_units(client, whistle_city, units):
    client.force_login(whistle_city.township_chief)
    with CaptureQueriesContext(connection) as few:
        client.get("/township/offices/")
    for n in range(5):
        save_unit(
            whistle_city.township_chief,
            whistle_city.longtan,
            UnitInput(kind=TownshipUnit.Kind.CENTRE, name=f"中心{n}", categories=[]),
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/township/offices/")
    assert len(many) == len(few)


def test_no_personal_data_reaches_the_trail_through_routing(whistle_city, units):
    case = reported_case(
        whistle_city,
        category=whistle_city.street_vending,
        reporter_name="王小明",
        reporter_phone="13812345678",
        lon=OFF_ANY_LANE[0],
        lat=OFF_ANY_LANE[1],
    )
    actions.route_case(whistle_city.dispatcher, case, units["city"])
    for event in Event.objects.filter(case=case):
        text = str(event.data)
        assert "王小明" not in text and "13812345678" not in text
