"""The demo city: Dongcheng with its street offices, lanes, centres, categories and logins.

The city is built once for the module, inside a transaction that is rolled back at the
end; each test runs in a savepoint within it, so tests may build again or break things.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from whistle.assessment.actions import record_link
from whistle.assessment.models import Appeal, DepartmentResult, SummonsAssessment
from whistle.cases.models import Case, Event, Summons
from whistle.cases.trail import EventKind
from whistle.cases.verify import verify_database
from whistle.demo import builders, geometry
from whistle.demo.city import DEFAULT_SEED
from whistle.demo.content import fingerprint
from whistle.demo.data import people, places
from whistle.demo.logins import DEMO_LOGINS, demo_login_rows
from whistle.duty.models import Roster
from whistle.notifications.models import Notification
from whistle.organisation import geo
from whistle.organisation.models import (
    CentreMembership,
    Department,
    GridCell,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Sector,
)
from whistle.organisation.scoping import visible_lanes
from whistle.policies.calendar import calendar_for, local_today, to_local
from whistle.policies.models import (
    Category,
    CategoryKind,
    DistrictPolicy,
    DurationUnit,
    MajorClass,
    WhistleKind,
    WhistleRule,
)
from whistle.township.stationed import StationedAssessment, StationedAttendance, Stationing
from whistle.township.stationed_rules import OWN_SUMMONS_EVENTS, month_attendance

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The street offices of Dongcheng and their official township codes.
OFFICIAL_TOWNSHIPS = {
    "110101001": "东华门街道",
    "110101002": "景山街道",
    "110101003": "交道口街道",
    "110101004": "安定门街道",
    "110101005": "北新桥街道",
    "110101006": "东四街道",
    "110101007": "朝阳门街道",
    "110101008": "建国门街道",
    "110101009": "东直门街道",
    "110101010": "和平里街道",
    "110101011": "前门街道",
    "110101012": "崇文门外街道",
    "110101013": "东花市街道",
    "110101014": "龙潭街道",
    "110101015": "体育馆路街道",
    "110101016": "天坛街道",
    "110101017": "永定门外街道",
}
STATIONED = {"public_security", "fire", "traffic", "market_regulation", "food_drugs"}


@dataclass
class FirstRun:
    output: str
    fingerprint: str


def seed_demo(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def first_run(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        run = FirstRun(seed_demo("--if-empty"), fingerprint())
        yield run
        transaction.set_rollback(True)


@pytest.fixture
def city(first_run, db):
    return first_run


def longtan() -> Jurisdiction:
    return Jurisdiction.objects.get(name="龙潭街道")


def inside(polygon: dict | None, points: list[list[float]]) -> bool:
    assert polygon is not None
    return all(geo.polygon_contains(polygon, (lon, lat)) for lon, lat in points)


def ring(j: Jurisdiction) -> list[list[float]]:
    assert j.boundary is not None
    return j.boundary["coordinates"][0]


def shrunk(j: Jurisdiction, share: float = 0.001) -> list[list[float]]:
    """The corners of a boundary moved a little towards its centre."""
    corners = ring(j)[:-1]
    lon0 = sum(p[0] for p in corners) / len(corners)
    lat0 = sum(p[1] for p in corners) / len(corners)
    return [[lon + (lon0 - lon) * share, lat + (lat0 - lat) * share] for lon, lat in corners]


def centre(j: Jurisdiction) -> tuple[float, float]:
    assert j.min_lon is not None and j.max_lon is not None
    assert j.min_lat is not None and j.max_lat is not None
    return (j.min_lon + j.max_lon) / 2, (j.min_lat + j.max_lat) / 2


# The first run


def test_the_first_run_loads_the_city_when_the_database_is_empty(city):
    assert "Demo city 东城区 ready (seed 2018" in city.output
    assert "17 townships" in city.output
    assert "0 updated" in city.output
    districts = Jurisdiction.objects.filter(level=Jurisdiction.Level.DISTRICT)
    assert {(d.code, d.name) for d in districts} == {("110101", "东城区"), ("110102", "西城区")}
    for district in districts:
        assert Jurisdiction.objects.filter(code="110000", name="北京市", children=district).exists()


def test_dongcheng_has_its_17_street_offices_with_their_official_codes(city):
    townships = Jurisdiction.objects.filter(
        level=Jurisdiction.Level.TOWNSHIP, parent__code="110101"
    )
    assert {t.code: t.name for t in townships} == OFFICIAL_TOWNSHIPS
    assert {t.form for t in townships} == {Jurisdiction.Form.STREET_OFFICE}
    assert {t.parent_id for t in townships} == {Jurisdiction.objects.get(code="110101").pk}


def test_the_street_offices_tile_the_district_from_north_to_south_without_overlapping(city):
    district = Jurisdiction.objects.get(code="110101")
    townships = list(Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP))
    # Xicheng's street offices lie beside the district, never in it.
    for lon, lat in (centre(t) for t in townships if t.parent_id != district.pk):
        assert not district.contains_point(lon, lat)
    townships = [t for t in townships if t.parent_id == district.pk]
    for township in townships:
        assert inside(district.boundary, shrunk(township)), township.name
    # Every point of a grid over the district lies in exactly one township, or outside.
    assert district.min_lon and district.max_lon and district.min_lat and district.max_lat
    for i, j in itertools.product(range(40), range(80)):
        lon = district.min_lon + (i + 0.5) * (district.max_lon - district.min_lon) / 40
        lat = district.min_lat + (j + 0.5) * (district.max_lat - district.min_lat) / 80
        holders = [t.name for t in townships if t.contains_point(lon, lat)]
        assert len(holders) <= 1, (lon, lat, holders)
        assert bool(holders) == district.contains_point(lon, lat)
    by_name = {t.name: centre(t) for t in townships}
    assert max(by_name, key=lambda n: by_name[n][1]) == "和平里街道"
    assert min(by_name, key=lambda n: by_name[n][1]) == "永定门外街道"
    southern = [n for n, (_, lat) in by_name.items() if lat < by_name["崇文门外街道"][1]]
    assert max(southern, key=lambda n: by_name[n][0]) == "龙潭街道"
    for lon, lat in by_name.values():
        assert 116.38 <= lon <= 116.45 and 39.85 <= lat <= 39.97


def test_every_township_has_communities_inside_it_with_codes_that_start_with_its_own(city):
    for township in Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP):
        communities = list(township.children.all())
        assert len(communities) >= 3, township.name
        for community in communities:
            assert community.level == Jurisdiction.Level.COMMUNITY
            assert len(community.code) == 12 and community.code.startswith(township.code)
            assert community.name.endswith("社区")
            assert inside(township.boundary, ring(community)), community


def test_longtan_has_the_xizhaosi_community(city):
    assert longtan().children.filter(name="夕照寺社区").exists()


def test_every_community_has_grid_cells_with_15_digit_codes(city):
    communities = Jurisdiction.objects.filter(level=Jurisdiction.Level.COMMUNITY)
    for community in communities:
        cells = list(community.grid_cells.all())
        assert cells, community.name
        for cell in cells:
            assert len(cell.code) == 15 and cell.code.startswith(community.code)
    assert GridCell.objects.count() >= communities.count()


def test_there_are_more_than_200_lanes_each_inside_its_community(city):
    lanes = list(Lane.objects.select_related("township", "community"))
    assert len(lanes) >= 200
    for lane in lanes:
        community = lane.community
        assert community is not None and community.parent_id == lane.township_id
        assert inside(community.boundary, lane.centre_line["coordinates"]), lane.name
        assert lane.length_m > 50
    names = {lane.name for lane in lanes}
    assert {"东四六条", "南锣鼓巷", "帽儿胡同", "史家胡同"} <= names


def test_renmin_market_east_lane_is_204_metres_long_in_xizhaosi(city):
    lane = Lane.objects.get(name="人民市场东巷")
    assert lane.township.name == "龙潭街道"
    assert lane.community is not None and lane.community.name == "夕照寺社区"
    assert abs(lane.length_m - 204) <= 1
    assert abs(geo.line_length_m(lane.centre_line) - 204) <= 1


def test_every_lane_has_a_chief_and_a_steward(city):
    chiefs = set(
        RoleAssignment.objects.filter(role__in=[Role.LANE_CHIEF, Role.STREET_CHIEF]).values_list(
            "lane_id", flat=True
        )
    )
    stewards = set(
        RoleAssignment.objects.filter(role=Role.STEWARD).values_list("lane_id", flat=True)
    )
    lane_ids = set(Lane.objects.values_list("pk", flat=True))
    assert lane_ids <= chiefs
    assert lane_ids <= stewards


def test_the_demo_signboards_give_every_chief_a_public_number_and_some_stewards(city):
    posts = RoleAssignment.objects.filter(lane__isnull=False)
    chiefs = posts.filter(role__in=[Role.LANE_CHIEF, Role.STREET_CHIEF])
    stewards = posts.filter(role=Role.STEWARD)

    assert not chiefs.filter(public_phone="").exists()
    assert 0 < stewards.exclude(public_phone="").count() < stewards.count()
    # A published number is never the person's own mobile.
    assert not posts.exclude(public_phone="").filter(public_phone=F("person__phone")).exists()


def test_the_people_of_the_article_work_where_the_article_says(city):
    renmin = Lane.objects.get(name="人民市场东巷")
    liu = Person.objects.get(name="刘跃明")
    assert liu.roles.filter(role=Role.LANE_CHIEF, lane=renmin).exists()
    liang = Person.objects.get(name="梁萍")
    steward_lanes = Lane.objects.filter(
        role_assignments__person=liang, role_assignments__role=Role.STEWARD
    )
    assert {lane.community.name for lane in steward_lanes if lane.community} == {"夕照寺社区"}
    assert steward_lanes.filter(name="夕照寺西里").exists()


# Departments and the 1+5+N centres


def test_the_district_has_its_functional_departments_and_sectors(city):
    sectors = set(Sector.objects.values_list("name", flat=True))
    assert {
        "城市管理",
        "公安",
        "消防",
        "交通",
        "市场监管",
        "食品药品",
        "房屋管理",
        "规划国土",
    } <= sectors
    assert {
        "园林绿化",
        "文化",
        "水务",
        "生态环境",
        "住建",
        "供电",
        "燃气",
        "热力",
        "通信",
    } <= sectors
    functional = set(
        Department.objects.filter(kind=Department.Kind.FUNCTIONAL).values_list("name", flat=True)
    )
    assert {
        "东城区城管执法局",
        "东城区公安分局",
        "东城区消防救援支队",
        "东城区房管局",
    } <= functional


def test_dispatched_agencies_serve_the_townships_they_are_named_after(city):
    for township in Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP):
        short = township.name.removesuffix("街道")
        served_by = {d.name: d for d in township.served_by.all()}
        for name in (f"{short}派出所", f"{short}市场监管所", f"{short}街道城管执法队"):
            assert list(served_by[name].serves.all()) == [township], name
        fire = [d for d in served_by.values() if d.sector.code == "fire"]
        traffic = [d for d in served_by.values() if d.sector.code == "traffic"]
        assert len(fire) == 1 and len(traffic) == 1, township.name


def test_every_township_has_a_1_plus_5_plus_n_enforcement_centre(city):
    for township in Jurisdiction.objects.filter(level=Jurisdiction.Level.TOWNSHIP):
        members = list(
            CentreMembership.objects.filter(township=township).select_related("department__sector")
        )
        core = [m for m in members if m.role == CentreMembership.Role.CORE]
        assert len(core) == 1
        assert core[0].department.kind == Department.Kind.TOWNSHIP_TEAM
        assert core[0].department.sector.code == "urban_management"
        stationed = [m for m in members if m.role == CentreMembership.Role.STATIONED]
        assert {m.department.sector.code for m in stationed} == STATIONED
        assert len(stationed) == 5
        for member in stationed:
            assert 1 <= member.people.count() <= 2
            assert township in member.department.serves.all()
        short = township.name.removesuffix("街道")
        names = {m.department.name for m in stationed}
        assert {f"{short}派出所", f"{short}市场监管所"} <= names
        on_call = [m for m in members if m.role == CentreMembership.Role.ON_CALL]
        assert {"housing", "planning_land", "parks", "culture", "water"} <= {
            m.department.sector.code for m in on_call
        }
        for member in on_call:
            people = list(member.people.all())
            assert people and all(p.name for p in people)
            assert all(p.roles.filter(department=member.department).exists() for p in people)


# Categories and rules


def test_there_are_40_categories_covering_every_major_class_of_both_kinds(city):
    majors = MajorClass.objects.all()
    assert {(m.kind, m.code) for m in majors} == {
        (kind, f"{n:02d}") for kind in CategoryKind.values for n in range(1, 7)
    }
    assert {m.name for m in majors.filter(kind=CategoryKind.EVENT)} == {
        "市容环境",
        "宣传广告",
        "施工管理",
        "突发事件",
        "街面秩序",
        "扩展事件",
    }
    assert Category.objects.count() >= 40
    for major in majors:
        assert major.categories.exists(), major
    for category in Category.objects.prefetch_related("responsible_sectors"):
        assert category.keywords and "," in category.keywords, category
        assert category.responsible_sectors.all(), category


def test_categories_carry_realistic_time_limits(city):
    def limit(name: str) -> tuple[int, str]:
        category = Category.objects.get(name=name, major__district__code="110101")
        return category.resolve_within, category.resolve_unit

    assert limit("道路不洁") == (2, DurationUnit.WORKING_HOURS)
    assert limit("暴露垃圾") == (4, DurationUnit.WORKING_HOURS)
    assert limit("违法建设") == (4, DurationUnit.WORKING_HOURS)
    for emergency in Category.objects.filter(major__code="04", major__kind=CategoryKind.EVENT):
        assert emergency.acknowledge_unit == DurationUnit.NATURAL_MINUTES
        assert emergency.resolve_unit == DurationUnit.NATURAL_HOURS
    names = set(Category.objects.values_list("name", flat=True))
    assert {"上水井盖", "路灯", "无照经营游商", "占道经营", "乱堆物料", "非法小广告"} <= names
    assert {"施工扰民", "共享单车乱停放", "犬只粪便", "消防设施缺失或过期", "破墙开店"} <= names
    assert "架空线缆凌乱" in names


def test_the_district_has_a_policy_and_a_rule_for_each_whistle_kind(city):
    district = Jurisdiction.objects.get(code="110101")
    assert DistrictPolicy.objects.filter(district=district).exists()
    rules = {r.kind: r for r in WhistleRule.objects.filter(district=district)}
    assert set(rules) == set(WhistleKind.values)
    assert {k: r.acknowledge_within for k, r in rules.items()} == {
        WhistleKind.ROUTINE: 10,
        WhistleKind.TOUGH: 10,
        WhistleKind.EMERGENCY: 5,
    }
    for rule in rules.values():
        assert (rule.arrive_within, rule.arrive_unit) == (30, DurationUnit.NATURAL_MINUTES)
        assert rule.acknowledge_unit == DurationUnit.NATURAL_MINUTES


# People and logins


def test_every_role_has_a_demo_login_that_can_sign_in(city, settings):
    assert {login.role for login in DEMO_LOGINS} == set(Role.values)
    for login in DEMO_LOGINS:
        person = authenticate(username=login.username, password=settings.WHISTLE_DEMO_PASSWORD)
        assert person is not None, login.username
        assert person.roles.filter(role=login.role).exists(), login.username
        assert person.name == login.name


def test_every_role_is_held_by_someone_in_its_usual_scope(city):
    for role in Role.values:
        assignments = RoleAssignment.objects.filter(role=role)
        assert assignments.exists(), role
        for assignment in assignments[:3]:
            assignment.full_clean()


def test_the_demo_logins_work_in_longtan_and_its_lanes(city):
    township = longtan()
    for login in DEMO_LOGINS:
        if login.username.startswith("xicheng-"):
            continue
        person = Person.objects.get(username=login.username)
        for assignment in person.roles.select_related("lane", "department", "jurisdiction"):
            if assignment.lane is not None:
                assert assignment.lane.township == township
            elif assignment.department is not None:
                served = list(assignment.department.serves.all())
                assert not served or township in served, login.username
            elif assignment.jurisdiction is not None:
                assert assignment.jurisdiction in (township, township.parent)
    renmin = Lane.objects.get(name="人民市场东巷")
    for username in ("steward", "lane-chief", "street-chief"):
        assert RoleAssignment.objects.filter(person__username=username, lane=renmin).exists()


def test_the_department_head_heads_the_team_the_demo_summons_most_and_finds_its_work(city, client):
    head = Person.objects.get(username="department-head")
    (team,) = Department.objects.filter(
        role_assignments__person=head, role_assignments__role=Role.DEPARTMENT_HEAD
    )
    summoned = Summons.objects.filter(case__district__code="110101")
    busiest = max(
        set(summoned.values_list("department", flat=True)),
        key=lambda pk: summoned.filter(department=pk).count(),
    )
    assert team.pk == busiest and team.name == "龙潭街道城管执法队"
    # Its records and scores, its appeal with the district's ruling, and the messages.
    assert SummonsAssessment.objects.filter(department=team, settled=True).exists()
    assert DepartmentResult.objects.filter(department=team, total__isnull=False).exists()
    appeal = Appeal.objects.get(department=team, filed_by=head)
    assert appeal.status == Appeal.Status.REJECTED and appeal.ruling_note
    inbox = Notification.objects.filter(recipient=head)
    assert inbox.filter(kind="summons.created").count() >= 5
    assert inbox.filter(kind="summons.appeal_rejected").exists()
    client.force_login(head)
    link = record_link(SummonsAssessment.objects.get(summons=appeal.summons), appeal.summons)
    page = client.get(link.split("#")[0], headers={"accept-language": "zh-hans"})
    html = page.content.decode()
    assert "龙潭街道城管执法队" in html and appeal.ruling_note in html
    assert "本期没有考核记录" not in html
    # The team's own roster is the head's to keep; the bureau keeps its own head.
    assert Roster.objects.filter(department=team, township__isnull=True).exists()
    # Its desk says in one line who is on duty now, though two rosters stand behind it.
    desk = client.get("/department/", headers={"accept-language": "zh-hans"}).content.decode()
    duty = desk[desk.index("data-duty-now") : desk.index('id="incoming-title"')]
    assert duty.count('class="duty-row') == 1
    bureau = Department.objects.get(code="dc-cgzfj")
    assert bureau.role_assignments.filter(role=Role.DEPARTMENT_HEAD).exclude(person=head).exists()


def test_the_stationed_officers_signed_in_on_every_working_day_so_their_assessment_agrees(city):
    township = longtan()
    stationings = list(Stationing.objects.filter(membership__township=township))
    assert {s.person.username for s in stationings} == {"officer-urban", "officer-police"}
    today = local_today()
    calendar = calendar_for(township)
    for stationing in stationings:
        month = stationing.started_on
        while month <= today:
            attendance = month_attendance([stationing], month, today)[stationing.pk]
            assert attendance.absent == [], (stationing, month)
            month = (month + timedelta(days=32)).replace(day=1)
        # Every sign-in is on a working morning before the build, through the actions.
        for row in stationing.attendance.all():
            assert calendar.is_working_day(row.day) and to_local(row.signed_at).date() == row.day
            assert to_local(row.signed_at).hour < 10
    kept = StationedAttendance.objects.filter(stationing__in=stationings)
    assert kept.filter(how=StationedAttendance.How.KEEPER).count() == 1
    assert kept.filter(how=StationedAttendance.How.SELF).count() == kept.count() - 1
    # The assessment rests on a month without absence, published on the first working
    # morning after it, and its messages are dated then.
    (assessment,) = StationedAssessment.objects.filter(stationing__in=stationings)
    assert assessment.stationing.person.username == "officer-urban"
    facts = assessment.facts
    assert facts["working_days"] == facts["signed"] > 15 and facts["absent"] == 0
    published = to_local(assessment.published_at)
    next_month = (assessment.month + timedelta(days=32)).replace(day=1)
    first_working = next_month
    while not calendar.is_working_day(first_working):
        first_working += timedelta(days=1)
    assert published.date() == first_working and published.hour == 9
    told = Notification.objects.filter(kind="township.stationed_assessed")
    assert told.exists()
    assert set(told.values_list("created_at", flat=True)) == {assessment.published_at}


def test_the_stationed_officers_signed_in_on_the_days_they_answered_summonses(city):
    township = longtan()
    calendar = calendar_for(township)
    today = local_today()
    # Which days an officer answered on depends on the hour the demo is made at; over all
    # of them there are always some before today.
    every_worked: set[date] = set()
    for stationing in Stationing.objects.filter(membership__township=township):
        answered = {
            to_local(at).date()
            for at in Event.objects.filter(
                actor=stationing.person, kind__in=OWN_SUMMONS_EVENTS
            ).values_list("at", flat=True)
        }
        worked = {d for d in answered if calendar.is_working_day(d) and d < today}
        every_worked |= worked
        signed = set(stationing.attendance.values_list("day", flat=True))
        assert worked <= signed, (stationing.person.username, sorted(worked - signed))
    assert every_worked


def test_a_department_declining_a_street_vendor_case_names_the_team_responsible(city):
    declined = Event.objects.filter(
        kind=EventKind.DECLINED, case__district__code="110101"
    ).select_related("case__category", "summons__department")
    assert declined.count() == 2
    for event in declined:
        assert event.case.category is not None and event.summons is not None
        assert event.case.category.name == "无照经营游商"
        assert event.summons.department.name == "龙潭市场监管所"
        reason = event.data["reason"]
        assert "龙潭街道城管执法队" in reason and "市场监管" not in reason


def test_no_department_late_or_leaving_residents_unsatisfied_is_praised_in_its_rating(city):
    rated = SummonsAssessment.objects.filter(rating__isnull=False).select_related("summons", "case")
    faulted = [
        r
        for r in rated
        if r.summons.acknowledge_overdue_at
        or r.summons.arrive_overdue_at
        or r.summons.resolve_overdue_at
        or r.case.resident_satisfied is False
    ]
    assert faulted and len(faulted) < len(rated)
    for record in faulted:
        assert record.rating is not None and record.rating <= 3
        assert not any(w in record.rating_comment for w in ("迅速", "按时", "群众满意"))


def test_district_level_logins_may_open_the_admin_and_admin_is_a_superuser(city):
    staff = set(Person.objects.filter(is_staff=True).values_list("username", flat=True))
    assert {"district-chief", "district-assessor", "chiefs-office", "admin"} <= staff
    assert "dispatcher" not in staff and "resident" not in staff
    assert list(Person.objects.filter(is_superuser=True).values_list("username", flat=True)) == [
        "admin"
    ]
    assessor = Person.objects.get(username="district-assessor")
    assert assessor.has_perm("organisation.view_lane")
    assert assessor.has_perm("policies.view_category")
    assert not assessor.has_perm("policies.change_category")


def test_the_district_staff_group_reads_in_the_admin_exactly_what_the_admin_shows_staff(
    city, client
):
    assessor = Person.objects.get(username="district-assessor")
    # Kept for superusers by the admin (docs/security.md, "The admin").
    for kept in ("notifications.view_notification", "organisation.view_person"):
        assert not assessor.has_perm(kept)
    client.force_login(assessor)
    group = Group.objects.get(name=people.DISTRICT_STAFF_GROUP)
    granted = list(group.permissions.select_related("content_type"))
    assert granted
    for permission in granted:
        model = permission.content_type.model_class()
        assert model is not None
        meta = model._meta
        page = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(page).status_code == 200, page


def demo_logins(language: str = "en") -> list[str]:
    out = StringIO()
    with translation.override(language):
        call_command("demo_logins", stdout=out)
    return out.getvalue().splitlines()


def test_the_demo_logins_command_prints_the_table_and_where_to_sign_in(city, settings):
    settings.SITE_URL = "http://127.0.0.1:8101"
    lines = demo_logins()
    assert lines[0] == "Demo logins:"
    text = "\n".join(lines)
    for login in DEMO_LOGINS:
        assert login.username in text
    assert "lane chief" in text and "龙潭街道 · 人民市场东巷" in text
    assert lines[-1] == "Sign in at http://127.0.0.1:8101/"


def test_right_after_seeding_the_demo_logins_heading_says_they_are_ready_in_chinese(city):
    assert demo_logins("zh-hans")[0] == "演示账号："


def test_the_demo_logins_heading_names_the_logins_that_cannot_sign_in_here(city):
    Person.objects.filter(username="resident").update(is_active=False)
    Person.objects.filter(username="lane-chief").update(username="liu-yueming")
    assert demo_logins()[0] == (
        "Demo logins (missing or deactivated here: lane-chief, resident; "
        "whistle seed-demo creates them again):"
    )


def test_the_demo_logins_command_can_print_a_markdown_table_for_the_readme():
    out = StringIO()
    with translation.override("en"):
        call_command("demo_logins", "--markdown", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "| role | role (English) | username | password | scope |"
    assert len(lines) == 2 + len(DEMO_LOGINS)
    assert "| 巷长 | lane chief | `lane-chief` |" in lines[3]


def test_the_demo_login_rows_name_each_role_in_chinese_and_english(settings):
    rows = {row.username: row for row in demo_login_rows()}
    assert (rows["lane-chief"].role_zh, rows["lane-chief"].role_en) == ("巷长", "lane chief")
    assert rows["officer-police"].scope == "龙潭派出所"
    assert {row.password for row in rows.values()} == {settings.WHISTLE_DEMO_PASSWORD}


# The second district


def xicheng() -> Jurisdiction:
    return Jurisdiction.objects.get(code="110102")


def test_xicheng_has_three_street_offices_with_official_codes_west_of_dongcheng(city):
    district = xicheng()
    townships = {t.code: t for t in district.children.all()}
    assert {c: t.name for c, t in townships.items()} == {
        "110102001": "西长安街街道",
        "110102003": "新街口街道",
        "110102007": "月坛街道",
    }
    dongcheng = Jurisdiction.objects.get(code="110101")
    assert dongcheng.min_lon is not None
    for township in townships.values():
        assert township.max_lon is not None and township.max_lon < dongcheng.min_lon
        assert inside(district.boundary, shrunk(township)), township.name
        assert Lane.objects.filter(township=township).exists(), township.name


def test_xicheng_has_its_own_departments_policy_rules_and_categories(city):
    district = xicheng()
    departments = Department.objects.filter(district=district)
    assert "西城区城管执法局" in {d.name for d in departments}
    assert all(d.code.startswith("xc-") for d in departments)
    assert not Department.objects.filter(district=district, serves__parent__code="110101")
    assert DistrictPolicy.objects.filter(district=district).exists()
    assert {r.kind for r in WhistleRule.objects.filter(district=district)} == set(
        WhistleKind.values
    )
    own = Category.objects.filter(major__district=district)
    assert own.count() == Category.objects.filter(major__district__code="110101").count()
    assert own.filter(name="暴露垃圾").exists()


def test_the_xicheng_dispatcher_finds_none_of_dongchengs_cases_or_lanes(city, client):
    dispatcher = Person.objects.get(username="xicheng-dispatcher")
    place = dispatcher.roles.get().jurisdiction
    assert place is not None and place.name == "西长安街街道"
    client.force_login(dispatcher)
    dongcheng_cases = Case.objects.filter(township__parent__code="110101")
    assert dongcheng_cases.exists()
    for case in dongcheng_cases[:3]:
        assert client.get(reverse("case:detail", args=[case.reference])).status_code == 404
        assert client.get(reverse("dispatch:whistle", args=[case.reference])).status_code == 404
    lanes = visible_lanes(dispatcher)
    assert lanes.exists()
    assert set(lanes.values_list("township__code", flat=True)) == {"110102001"}


def test_xicheng_has_a_lived_in_case_history_in_its_own_street_offices(city):
    cases = Case.objects.filter(district=xicheng())
    assert cases.count() == 8
    # Every case in 西城's townships and lanes, by its own people and departments.
    assert set(cases.values_list("township__parent__code", flat=True)) == {"110102"}
    assert set(cases.values_list("lane__township__parent__code", flat=True)) == {"110102"}
    assert set(cases.values_list("township__name", flat=True)) == {
        "西长安街街道",
        "新街口街道",
        "月坛街道",
    }
    summonses = Summons.objects.filter(case__in=cases)
    assert set(summonses.values_list("department__district__code", flat=True)) == {"110102"}
    assert set(cases.values_list("source", flat=True)) >= {
        Case.Source.STEWARD,
        Case.Source.RESIDENT,
        Case.Source.HOTLINE,
    }
    assert set(cases.values_list("status", flat=True)) >= {
        Case.Status.REPORTED,
        Case.Status.WHISTLED,
        Case.Status.CLOSED,
        Case.Status.EVALUATED,
    }
    late = Event.objects.filter(
        case__in=cases, kind=EventKind.CHECK_IN_ACCEPTED, data__on_time=False
    )
    assert [e.data["minutes_late"] for e in late] == [11]
    actors = set(Event.objects.filter(case__in=cases).values_list("actor__username", flat=True))
    assert "xicheng-dispatcher" in actors
    assert not Person.objects.filter(
        username__in=actors, roles__lane__township__parent__code="110101"
    )
    references = list(cases.values_list("reference", flat=True))
    assert verify_database(references=references).ok


def test_the_xicheng_dispatchers_command_centre_shows_its_cases_and_dongcheng_none(city, client):
    open_here = Case.objects.filter(
        township__code="110102001", status__in=[Case.Status.REPORTED, Case.Status.WHISTLED]
    )
    assert open_here.count() == 2
    client.force_login(Person.objects.get(username="xicheng-dispatcher"))
    html = client.get(reverse("dispatch:home")).content.decode()
    for case in open_here:
        assert case.reference in html
    for reference in Case.objects.filter(district__code="110101").values_list(
        "reference", flat=True
    ):
        assert reference not in html
    # And the reverse: 东城's dispatcher and officers find none of 西城's cases.
    client.force_login(Person.objects.get(username="dispatcher"))
    html = client.get(reverse("dispatch:home")).content.decode()
    for case in Case.objects.filter(district=xicheng()):
        assert case.reference not in html
        for name in ("dispatcher", "officer-urban", "district-chief"):
            client.force_login(Person.objects.get(username=name))
            assert client.get(reverse("case:detail", args=[case.reference])).status_code == 404


def test_the_xicheng_administrator_sees_and_changes_only_xicheng_in_the_admin(city, client):
    administrator = Person.objects.get(username="xicheng-admin")
    assert administrator.is_staff and not administrator.is_superuser
    client.force_login(administrator)
    places = client.get(reverse("admin:organisation_jurisdiction_changelist"))
    assert places.status_code == 200
    codes = {j.code for j in places.context["cl"].queryset}
    assert "110102" in codes and all(c.startswith("110102") for c in codes)
    own = DistrictPolicy.objects.get(district=xicheng())
    other = DistrictPolicy.objects.get(district__code="110101")
    page = client.get(reverse("admin:policies_districtpolicy_change", args=[own.pk]))
    assert page.status_code == 200 and page.context["has_change_permission"]
    page = client.get(reverse("admin:policies_districtpolicy_change", args=[other.pk]))
    assert page.status_code == 404
    categories = client.get(reverse("admin:policies_category_changelist"))
    districts = {c.major.district.code for c in categories.context["cl"].queryset}
    assert districts == {"110102"}


def test_running_again_changes_nothing_in_either_district(city):
    def held() -> dict[str, tuple[int, ...]]:
        return {
            code: (
                Jurisdiction.objects.filter(code__startswith=code).count(),
                Lane.objects.filter(township__parent__code=code).count(),
                Department.objects.filter(district__code=code).count(),
                Category.objects.filter(major__district__code=code).count(),
                RoleAssignment.objects.filter(jurisdiction__code__startswith=code).count(),
            )
            for code in ("110101", "110102")
        }

    before = held()
    assert all(before["110102"])
    assert "0 rows created, 0 updated" in seed_demo()
    assert held() == before
    assert fingerprint() == city.fingerprint


# Running again


def test_running_again_changes_nothing(city):
    counts = {m: m.objects.count() for m in (Jurisdiction, Lane, GridCell, Person, RoleAssignment)}
    output = seed_demo()
    assert "0 rows created, 0 updated" in output
    assert {m: m.objects.count() for m in counts} == counts
    assert fingerprint() == city.fingerprint


def test_running_again_on_an_older_demo_moves_the_department_heads_role_to_the_team(city):
    head = Person.objects.get(username="department-head")
    team = Department.objects.get(name="龙潭街道城管执法队")
    bureau = Department.objects.get(code="dc-cgzfj")

    def headed() -> list[Department]:
        return list(
            Department.objects.filter(
                role_assignments__person=head, role_assignments__role=Role.DEPARTMENT_HEAD
            )
        )

    # An older demo made her the head of the district's bureau.
    RoleAssignment.objects.filter(person=head, role=Role.DEPARTMENT_HEAD, department=team).update(
        department=bureau
    )
    assert headed() == [bureau]
    seed_demo()
    assert headed() == [team]
    # A database already run again before kept both: the bureau's goes.
    RoleAssignment.objects.create(person=head, role=Role.DEPARTMENT_HEAD, department=bureau)
    seed_demo()
    assert headed() == [team]
    assert "0 rows created, 0 updated" in seed_demo()


def test_the_district_chiefs_office_has_a_second_member_who_rules_on_a_later_appeal(city):
    # Whoever rejected an appeal of a record does not rule on the department's next appeal
    # of it: the office's second member does.
    office = set(
        Person.objects.filter(
            roles__role=Role.CHIEFS_OFFICE, roles__jurisdiction__code=places.DISTRICT_CODE
        ).values_list("username", flat=True)
    )
    assert office == {"chiefs-office", "chiefs-office-2"}
    second = Person.objects.get(username="chiefs-office-2")
    assert second.is_staff and not second.is_superuser
    # An older demo database had one member: running again adds the second.
    second.delete()
    seed_demo()
    assert Person.objects.filter(
        username="chiefs-office-2",
        roles__role=Role.CHIEFS_OFFICE,
        roles__jurisdiction__code=places.DISTRICT_CODE,
    ).exists()


@pytest.mark.slow  # redraws every shape and name twice: about 2 s on SQLite, more on PostgreSQL
def test_the_same_seed_draws_the_same_city_and_another_seed_another(city):
    seed_demo("--seed", "7")
    assert fingerprint() != city.fingerprint
    assert Lane.objects.get(name="人民市场东巷").length_m == pytest.approx(204, abs=1)
    seed_demo("--seed", str(DEFAULT_SEED))
    assert fingerprint() == city.fingerprint


def test_if_empty_on_the_demo_city_says_it_is_already_loaded(city):
    output = seed_demo("--if-empty")
    assert output.strip() == "The demo city is already loaded: nothing was changed."
    assert fingerprint() == city.fingerprint


def test_if_empty_leaves_another_district_alone_and_says_the_demo_was_not_loaded(city):
    for login in DEMO_LOGINS:
        Person.objects.filter(username=login.username).update(username=f"real-{login.username}")
    output = seed_demo("--if-empty")
    assert output.strip() == "A district already exists: the demo city was not loaded."
    assert not Person.objects.filter(username="steward").exists()


def test_a_password_changed_by_hand_survives_a_rerun_unless_reset_is_asked(city, settings):
    steward = Person.objects.get(username="steward")
    steward.set_password("liang-ping-own-password")
    steward.save(update_fields=["password"])
    seed_demo()
    assert authenticate(username="steward", password="liang-ping-own-password")
    seed_demo("--reset-passwords")
    assert authenticate(username="steward", password=settings.WHISTLE_DEMO_PASSWORD)


# Extra builders


def reporting_builder(city) -> str:
    return f"extra step saw {city.demo_lane.name} in {city.demo_community.name}"


def failing_builder(city) -> None:
    Sector.objects.create(code="half-written", name="不该留下")
    raise ValueError("the history could not be written")


def test_extra_builders_run_after_the_city_and_report_a_line(city, monkeypatch):
    monkeypatch.setattr(builders, "BUILDERS", [f"{__name__}.reporting_builder"])
    output = seed_demo()
    assert "extra step saw 人民市场东巷 in 夕照寺社区" in output


def test_a_failing_extra_builder_leaves_no_trace_of_the_run(city, monkeypatch):
    monkeypatch.setattr(builders, "BUILDERS", [f"{__name__}.failing_builder"])
    with pytest.raises(CommandError, match="nothing was changed: the history could not"):
        seed_demo()
    assert not Sector.objects.filter(code="half-written").exists()
    assert fingerprint() == city.fingerprint


# Geometry


def test_a_partition_tiles_its_extent_without_gaps_or_overlaps():
    extent = (116.432, 39.860, 116.450, 39.888)
    blocks = geometry.partition(extent, 10, geometry.rng(1, "test"))
    assert len(blocks) == 10
    area = sum((e - w) * (n - s) for w, s, e, n in blocks)
    assert math.isclose(area, (extent[2] - extent[0]) * (extent[3] - extent[1]))
    for a, b in itertools.combinations(blocks, 2):
        overlap_w = min(a[2], b[2]) - max(a[0], b[0])
        overlap_h = min(a[3], b[3]) - max(a[1], b[1])
        assert overlap_w <= 1e-12 or overlap_h <= 1e-12


def test_shapes_depend_on_the_seed_only():
    extent = (116.4, 39.9, 116.41, 39.91)
    names = ["甲胡同", "乙胡同", "丙路"]

    def draw(seed: int) -> object:
        rand = geometry.rng(seed, "x")
        return geometry.partition(extent, 5, rand), geometry.lane_lines(extent, names, rand, {})

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


def test_the_outline_of_two_touching_extents_is_one_polygon():
    outline = geometry.outline([(0.0, 0.0, 2.0, 1.0), (1.0, 1.0, 2.0, 2.0)])
    assert outline["coordinates"][0] == [
        [0.0, 0.0],
        [2.0, 0.0],
        [2.0, 2.0],
        [1.0, 2.0],
        [1.0, 1.0],
        [0.0, 1.0],
        [0.0, 0.0],
    ]
