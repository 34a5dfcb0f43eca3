"""The street office's own units have an English name beside their name: an English reader
reads it on the case page, in the timeline, on the units' pages, in the command centre and in
a message; a Chinese reader reads the name; a unit without an English name reads its name
everywhere. The name stays what identifies a unit."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command
from django.utils import translation

from tests.fixtures_cases import (
    WhistleCity,
    beijing,
    filed_case,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.models import Event
from whistle.desk import timeline
from whistle.desk.forms import RouteForm
from whistle.notifications import texts
from whistle.notifications.models import Channel, Notification
from whistle.organisation.models import TownshipUnit, UnitLogEntry
from whistle.policies.offices import UnitInput, UnitRefused, save_unit

NOW = beijing(2026, 3, 10, 10, 0)
TEAM_EN = "Comprehensive Law Enforcement Team"
CITY_EN = "Urban Management Office"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(name="units")
def units_fixture(whistle_city: WhistleCity) -> dict[str, TownshipUnit]:
    """龙潭街道: the enforcement team (street vending) and the city management office
    (exposed garbage) have English names; the discipline committee has none."""
    c = whistle_city

    def unit(kind: str, name: str, name_en: str, categories, position: int) -> TownshipUnit:
        return save_unit(
            c.township_chief,
            c.longtan,
            UnitInput(
                kind=kind,
                name=name,
                name_en=name_en,
                categories=categories,
                members=[c.dispatcher] if kind == TownshipUnit.Kind.ENFORCEMENT else [],
                position=position,
            ),
        )

    return {
        "team": unit(TownshipUnit.Kind.ENFORCEMENT, "综合执法队", TEAM_EN, [c.street_vending], 8),
        "city": unit(TownshipUnit.Kind.OFFICE, "城市管理办公室", CITY_EN, [c.exposed_garbage], 6),
        "discipline": unit(TownshipUnit.Kind.DISCIPLINE, "纪工委", "", [], 7),
    }


def page(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def office_lines(case, language: str) -> list[str]:
    """The timeline's "Office" lines of the case, as a reader in `language` reads them."""
    events = Event.objects.filter(case=case).select_related("actor", "summons__department")
    with translation.override(language):
        label = translation.gettext("Office")
        return [
            line.value
            for entry in timeline.entries(events.order_by("seq"), case=case)
            for line in entry.lines
            if line.label == label
        ]


def test_a_unit_reads_its_english_name_only_on_english_pages(whistle_city, units):
    team, discipline = units["team"], units["discipline"]
    with translation.override("en"):
        assert team.display_name == TEAM_EN
        assert discipline.display_name == "纪工委"
    with translation.override("zh-hans"):
        assert team.display_name == "综合执法队"
    assert str(team) == "综合执法队"


def test_the_case_page_names_the_office_in_the_readers_language(client, whistle_city, units):
    case = filed_case(whistle_city)
    client.force_login(whistle_city.dispatcher)
    link = f'href="/township/offices/{units["team"].pk}/">'
    english = page(client, f"/cases/{case.reference}/", "en")
    chinese = page(client, f"/cases/{case.reference}/", "zh-hans")
    assert f"{link}{TEAM_EN}</a>" in english
    assert f"{link}综合执法队</a>" in chinese and TEAM_EN not in chinese


def test_the_timeline_names_the_offices_in_the_readers_language(whistle_city, units):
    c = whistle_city
    case = reported_case(c, category=c.street_vending)
    actions.file_case(c.dispatcher, case, category=c.exposed_garbage)
    actions.route_case(c.dispatcher, case, units["discipline"])
    # What is recorded stays the name.
    routed = Event.objects.get(case=case, kind="case.routed")
    assert routed.data["changes"]["office"] == ["城市管理办公室", "纪工委"]
    assert office_lines(case, "en") == [
        TEAM_EN,
        f"{TEAM_EN} → {CITY_EN}",
        # The discipline committee has no English name: its name.
        f"{CITY_EN} → 纪工委",
    ]
    assert office_lines(case, "zh-hans") == [
        "综合执法队",
        "综合执法队 → 城市管理办公室",
        "城市管理办公室 → 纪工委",
    ]


def test_a_unit_renamed_since_reads_as_recorded(whistle_city, units):
    c = whistle_city
    case = reported_case(c, category=c.street_vending)
    save_unit(
        c.township_chief,
        c.longtan,
        UnitInput(
            kind=TownshipUnit.Kind.ENFORCEMENT,
            name="综合行政执法队",
            name_en="Comprehensive Administrative Law Enforcement Team",
            categories=[c.street_vending],
            position=8,
        ),
        unit=units["team"],
    )
    assert office_lines(case, "en") == ["综合执法队"]


def test_the_units_pages_name_the_units_in_the_readers_language(client, whistle_city, units):
    client.force_login(whistle_city.township_chief)
    english = page(client, "/township/offices/", "en")
    chinese = page(client, "/township/offices/", "zh-hans")
    assert TEAM_EN in english and CITY_EN in english and "纪工委" in english
    assert "综合执法队" not in english
    assert "综合执法队" in chinese and TEAM_EN not in chinese
    team = f"/township/offices/{units['team'].pk}/"
    assert TEAM_EN in page(client, team, "en") and "综合执法队" not in page(client, team, "en")
    assert "综合执法队" in page(client, team, "zh-hans")
    edit = page(client, f"{team}edit/", "en")
    assert f"Edit {TEAM_EN}" in edit
    # The form keeps both names for editing.
    assert 'value="综合执法队"' in edit and f'value="{TEAM_EN}"' in edit
    discipline = page(client, f"/township/offices/{units['discipline'].pk}/", "en")
    assert "纪工委" in discipline


def test_the_command_centre_names_the_offices_in_the_readers_language(client, whistle_city, units):
    case = filed_case(whistle_city)
    client.force_login(whistle_city.dispatcher)
    english = page(client, "/dispatch/", "en")
    assert f">{TEAM_EN}</option>" in english and f">{CITY_EN}</option>" in english
    assert f'<span class="office-name">{TEAM_EN}</span>' in english
    chinese = page(client, "/dispatch/", "zh-hans")
    assert ">综合执法队</option>" in chinese and TEAM_EN not in chinese
    with translation.override("en"):
        form = RouteForm(target=case)
        choices = str(form["office"])
    for label in (TEAM_EN, CITY_EN, "纪工委"):
        assert f">{label}</option>" in choices


def test_the_people_of_the_unit_read_the_routing_in_their_language(whistle_city, units):
    c = whistle_city
    case = filed_case(c, category=c.exposed_garbage)
    actions.route_case(c.dispatcher, case, units["team"])
    told = Notification.objects.get(
        recipient=c.dispatcher, kind="case.routed", channel=Channel.INBOX
    )
    # What leaves the system is written once, in the deployment's language.
    assert "综合执法队" in told.subject and TEAM_EN not in told.subject
    with translation.override("en"):
        assert TEAM_EN in texts.subject_of(told.payload, "")
        assert TEAM_EN in texts.body_of(told.payload, "")
    with translation.override("zh-hans"):
        assert "综合执法队" in texts.body_of(told.payload, "")


def test_the_english_name_is_logged_and_an_overlong_one_refused(whistle_city, units):
    c = whistle_city
    created = UnitLogEntry.objects.get(unit=units["team"], action="unit.created")
    assert created.changes["name_en"] == [None, TEAM_EN]
    data = UnitInput(
        kind=TownshipUnit.Kind.DISCIPLINE,
        name="纪工委",
        name_en="  Discipline   Inspection Work Committee ",
        position=7,
    )
    saved = save_unit(c.township_chief, c.longtan, data, unit=units["discipline"])
    assert saved.name_en == "Discipline Inspection Work Committee"
    entry = UnitLogEntry.objects.filter(unit=saved).latest("pk")
    assert entry.changes == {"name_en": ["", "Discipline Inspection Work Committee"]}
    with pytest.raises(UnitRefused) as refused:
        save_unit(
            c.township_chief,
            c.longtan,
            UnitInput(kind="centre", name="综治中心", name_en="x" * 101),
        )
    assert refused.value.field == "name_en"
    assert not TownshipUnit.objects.filter(name="综治中心").exists()


def test_the_chief_gives_a_unit_its_english_name_through_the_form(client, whistle_city, units):
    c = whistle_city
    client.force_login(c.township_chief)
    url = f"/township/offices/{units['discipline'].pk}/edit/"
    response = client.post(
        url,
        {
            "kind": "discipline",
            "name": "纪工委",
            "name_en": "Discipline Inspection Work Committee",
            "position": "7",
            "is_active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    unit = TownshipUnit.objects.get(pk=units["discipline"].pk)
    assert unit.name == "纪工委" and unit.name_en == "Discipline Inspection Work Committee"


def test_the_import_takes_the_english_names_and_keeps_them_without_the_column(
    whistle_city, units, tmp_path
):
    path = tmp_path / "offices.csv"
    path.write_text(
        "街乡代码,类型,名称,英文名称,问题类别,顺序\n"
        "110101015,中心,综治中心,Comprehensive Governance Centre,,12\n"
        "110101015,综合执法队,综合执法队,,0501,8\n",
        encoding="utf-8",
    )
    call_command("import", "offices", str(path))
    centre = TownshipUnit.objects.get(township=whistle_city.longtan, name="综治中心")
    assert centre.name_en == "Comprehensive Governance Centre"
    # An empty cell empties it.
    assert TownshipUnit.objects.get(pk=units["team"].pk).name_en == ""
    path.write_text(
        "街乡代码,类型,名称,问题类别,顺序\n110101015,中心,综治中心,,11\n", encoding="utf-8"
    )
    call_command("import", "offices", str(path))
    centre.refresh_from_db()
    assert centre.position == 11 and centre.name_en == "Comprehensive Governance Centre"


def test_every_demo_unit_has_its_official_english_name():
    from whistle.demo.offices import UNITS

    names = {name: name_en for _kind, name, name_en, _duties, _routed in UNITS}
    assert len(names) == 12 and all(names.values())
    assert names["综合执法队"] == TEAM_EN
    assert names["网格化服务管理中心"] == "Grid Service Management Centre"
    assert names["纪工委"] == "Discipline Inspection Work Committee"
