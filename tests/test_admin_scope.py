"""The admin, held to the district: district staff read only their own district's policy
and places there, a district's administrator changes only their own district's rows, and
nobody but a superuser opens personal data or the operational record in it
(whistle.organisation.admin_scope, docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.conftest import make_person, square
from tests.fixtures_cases import (
    ON_THE_LANE,
    WhistleCity,
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.models import Case
from whistle.notifications.models import WebhookEndpoint
from whistle.organisation.models import Jurisdiction, Person, Role
from whistle.policies.models import (
    CalendarDay,
    CalendarYear,
    CategoryKind,
    DistrictPolicy,
    MajorClass,
)

NOW = beijing(2026, 3, 10, 9)

# What a district's staff may read in the admin, and what its administrator may change.
READS = ("organisation", "policies", "assessment", "cases", "notifications", "patrols", "api")
CHANGES = ("organisation", "policies", "assessment")


@dataclass
class TwoDistricts:
    city: WhistleCity
    xicheng: Jurisdiction
    xicheng_policy: DistrictPolicy
    xicheng_major: MajorClass
    dongcheng_major: MajorClass
    national_year: CalendarYear
    district_chief: Person
    chiefs_office: Person
    district_assessor: Person
    dongcheng_admin: Person
    xicheng_admin: Person


def _staff(person: Person, *, changes: bool = False) -> Person:
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    allowed = Permission.objects.filter(
        content_type__app_label__in=READS, codename__startswith="view_"
    )
    if changes:
        allowed = allowed | Permission.objects.filter(content_type__app_label__in=CHANGES)
    person.user_permissions.set(allowed)
    return person


@pytest.fixture
def two_districts(whistle_city: WhistleCity) -> TwoDistricts:
    small = whistle_city.city
    xicheng = Jurisdiction.objects.create(
        level="district",
        code="110102",
        name="西城区",
        parent=small.city,
        boundary=square(116.30, 39.85, 0.08),
    )
    Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110102001",
        name="西长安街街道",
        parent=xicheng,
        boundary=square(116.35, 39.90),
    )
    return TwoDistricts(
        city=whistle_city,
        xicheng=xicheng,
        xicheng_policy=DistrictPolicy.objects.create(district=xicheng),
        xicheng_major=MajorClass.objects.create(
            district=xicheng, kind=CategoryKind.EVENT, code="07", name="西城街巷秩序"
        ),
        dongcheng_major=MajorClass.objects.get(district=small.district, code="05"),
        national_year=CalendarYear.objects.create(year=2031, district=None, source="国务院办公厅"),
        district_chief=_staff(whistle_city.district_chief),
        chiefs_office=_staff(whistle_city.district_office),
        district_assessor=_staff(
            make_person("dongcheng-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=small.district)
        ),
        dongcheng_admin=_staff(
            make_person("dongcheng-admin", Role.ADMINISTRATOR, jurisdiction=small.district),
            changes=True,
        ),
        xicheng_admin=_staff(
            make_person("xicheng-admin", Role.ADMINISTRATOR, jurisdiction=xicheng), changes=True
        ),
    )


def _client(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _hotline_case(city: WhistleCity) -> Case:
    return actions.report_case(
        city.dispatcher,
        description="12345 市民反映夜间施工扰民",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        source=Case.Source.HOTLINE,
        reporter_name="王小明",
        reporter_phone="13912345678",
        external_id="12345-20260310-0001",
        now=NOW,
    )


STAFF = ["district_chief", "chiefs_office", "district_assessor", "dongcheng_admin"]


@pytest.mark.parametrize("persona", STAFF)
def test_district_staff_cannot_open_people_notifications_or_webhooks_in_the_admin(
    two_districts, persona
):
    endpoint = WebhookEndpoint.objects.create(name="区平台", url="https://hooks.example.cn/in")
    client = _client(getattr(two_districts, persona))
    for url in (
        "/admin/organisation/person/",
        f"/admin/organisation/person/{two_districts.city.dispatcher.pk}/change/",
        "/admin/notifications/notification/",
        f"/admin/notifications/webhookendpoint/{endpoint.pk}/change/",
        "/admin/patrols/patrol/",
        "/admin/api/apitoken/",
    ):
        assert client.get(url).status_code == 403, url
    index = client.get("/admin/").content.decode()
    assert "/admin/organisation/person/" not in index
    assert "/admin/notifications/webhookendpoint/" not in index
    assert "/admin/policies/districtpolicy/" in index


@pytest.mark.parametrize("persona", STAFF)
def test_district_staff_see_their_districts_cases_in_the_admin_with_the_caller_masked(
    two_districts, persona
):
    case = _hotline_case(two_districts.city)
    client = _client(getattr(two_districts, persona))
    assert case.reference in client.get("/admin/cases/case/").content.decode()
    page = client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert "139****5678" in page and "13912345678" not in page and "王小明" not in page


def test_an_administrator_of_another_district_finds_no_case_of_this_district(two_districts):
    case = _hotline_case(two_districts.city)
    event = case.events.get(seq=1)
    client = _client(two_districts.xicheng_admin)
    assert case.reference not in client.get("/admin/cases/case/").content.decode()
    assert case.reference not in client.get("/admin/cases/event/").content.decode()
    for url in (
        f"/admin/cases/case/{case.pk}/change/",
        f"/admin/cases/event/{event.pk}/change/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", STAFF)
def test_district_staff_read_only_their_own_districts_policy(two_districts, persona):
    client = _client(getattr(two_districts, persona))
    listing = client.get("/admin/policies/majorclass/").content.decode()
    assert "街面秩序" in listing and "西城街巷秩序" not in listing
    other = f"/admin/policies/districtpolicy/{two_districts.xicheng_policy.pk}/change/"
    assert client.get(other).status_code == 404
    own = client.get(f"/admin/policies/districtpolicy/{two_districts.city.policy.pk}/change/")
    assert own.status_code == 200
    saves = 'name="_save"' in own.content.decode()
    assert saves == (persona == "dongcheng_admin")


def test_an_administrator_of_another_district_gets_no_rows_and_404(two_districts):
    client = _client(two_districts.xicheng_admin)
    dongcheng = two_districts.dongcheng_major
    assert "街面秩序" not in client.get("/admin/policies/majorclass/").content.decode()
    assert "龙潭街道" not in client.get("/admin/organisation/jurisdiction/").content.decode()
    for url in (
        f"/admin/policies/majorclass/{dongcheng.pk}/change/",
        f"/admin/policies/majorclass/{dongcheng.pk}/delete/",
        f"/admin/policies/districtpolicy/{two_districts.city.policy.pk}/change/",
        f"/admin/organisation/department/{two_districts.city.fire.pk}/change/",
    ):
        assert client.get(url).status_code == 404, url
    renamed = {"district": two_districts.xicheng.pk, "kind": "event", "code": "05", "name": "改"}
    response = client.post(f"/admin/policies/majorclass/{dongcheng.pk}/change/", renamed)
    assert response.status_code == 404
    dongcheng.refresh_from_db()
    assert dongcheng.name == "街面秩序" and dongcheng.district == two_districts.city.city.district


def test_a_district_administrator_changes_their_own_districts_rows(two_districts):
    client = _client(two_districts.xicheng_admin)
    major = two_districts.xicheng_major
    response = client.post(
        f"/admin/policies/majorclass/{major.pk}/change/",
        {"district": two_districts.xicheng.pk, "kind": "event", "code": "07", "name": "街巷秩序"},
    )
    assert response.status_code == 302
    major.refresh_from_db()
    assert major.name == "街巷秩序"


def test_a_district_administrator_cannot_save_a_row_into_another_district(two_districts):
    client = _client(two_districts.xicheng_admin)
    dongcheng = two_districts.city.city.district
    form = client.get("/admin/policies/majorclass/add/").content.decode()
    assert f'value="{two_districts.xicheng.pk}"' in form
    assert f'value="{dongcheng.pk}"' not in form
    category_form = client.get("/admin/policies/category/add/").content.decode()
    assert "西城街巷秩序" in category_form and "街面秩序" not in category_form
    response = client.post(
        "/admin/policies/majorclass/add/",
        {"district": dongcheng.pk, "kind": "event", "code": "09", "name": "越界"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    moved = client.post(
        f"/admin/policies/majorclass/{two_districts.xicheng_major.pk}/change/",
        {"district": dongcheng.pk, "kind": "event", "code": "07", "name": "西城街巷秩序"},
    )
    assert moved.status_code == 200
    assert not MajorClass.objects.filter(name="越界").exists()
    assert (
        MajorClass.objects.get(pk=two_districts.xicheng_major.pk).district == two_districts.xicheng
    )


def test_a_district_administrator_reads_the_national_calendar_but_cannot_change_it(
    two_districts,
):
    client = _client(two_districts.xicheng_admin)
    national = two_districts.national_year
    assert "2031" in client.get("/admin/policies/calendaryear/").content.decode()
    page = client.get(f"/admin/policies/calendaryear/{national.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/policies/calendaryear/{national.pk}/delete/").status_code == 403
    # Empty would mean every district: a district's administrator must name theirs.
    response = client.post("/admin/policies/calendaryear/add/", {"year": 2032, "source": "x"})
    assert response.status_code == 200
    assert not CalendarYear.objects.filter(year=2032).exists()
    CalendarDay.objects.create(
        district=two_districts.xicheng, date=date(2032, 1, 1), is_workday=False
    )
    added = client.post(
        "/admin/policies/calendaryear/add/",
        {"year": 2032, "source": "区政府", "district": two_districts.xicheng.pk},
    )
    assert added.status_code == 302
    assert CalendarYear.objects.get(year=2032).district == two_districts.xicheng


def test_a_district_administrators_only_district_is_chosen_and_the_help_says_no_empty(
    two_districts, admin_client
):
    client = _client(two_districts.xicheng_admin)
    for model in ("calendarday", "calendaryear", "whistlerule", "majorclass"):
        page = client.get(f"/admin/policies/{model}/add/", HTTP_ACCEPT_LANGUAGE="en")
        form = page.context["adminform"].form
        assert form["district"].value() == two_districts.xicheng.pk, model
        assert "every district" not in str(form.fields["district"].help_text), model
        # Their district is the only choice: no empty one beside it.
        offered = [value for value, _label in form.fields["district"].widget.choices]
        assert offered == [two_districts.xicheng.pk], model
        assert "---------" not in str(form["district"]), model
    day_form = client.get("/admin/policies/calendarday/add/").context["adminform"].form
    assert day_form.fields["district"].help_text == "仅适用于所选的区。"
    # A superuser, who has every district to choose from, gets none chosen.
    page = admin_client.get("/admin/policies/whistlerule/add/")
    assert page.context["adminform"].form["district"].value() is None
    assert '<option value="" selected>---------</option>' in str(
        page.context["adminform"].form["district"]
    )


def test_a_superuser_is_told_before_and_after_saving_that_no_district_means_every_district(
    two_districts, admin_client
):
    page = admin_client.get("/admin/policies/calendarday/add/", HTTP_ACCEPT_LANGUAGE="en")
    help_text = str(page.context["adminform"].form.fields["district"].help_text)
    assert help_text == (
        "Leave empty only for what applies to every district; choose a district for that "
        "district alone."
    )
    national = admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2031-10-08", "name": "国庆节", "district": ""},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    said = [str(m) for m in national.context["messages"]]
    assert (
        "The calendar day “2031-10-08 rest day 国庆节” applies to every district: "
        "no district was chosen."
    ) in said
    assert CalendarDay.objects.get(date=date(2031, 10, 8)).district is None
    own = admin_client.post(
        "/admin/policies/calendarday/add/",
        {"date": "2031-10-09", "name": "国庆节", "district": two_districts.xicheng.pk},
        follow=True,
    )
    assert not [m for m in own.context["messages"] if "适用于所有区" in str(m)]
    # Policies whose district cannot be empty neither offer nor announce every district.
    rule_form = admin_client.get("/admin/policies/whistlerule/add/").context["adminform"].form
    assert rule_form.fields["district"].required
    assert "所有区" not in str(rule_form.fields["district"].help_text)


def test_a_superuser_still_sees_every_district(two_districts, admin_client):
    listing = admin_client.get("/admin/policies/majorclass/").content.decode()
    assert "街面秩序" in listing and "西城街巷秩序" in listing


def test_a_choice_of_several_districts_names_each_ones_district(two_districts, admin_client):
    """Two districts' major classes can read alike ("事件 05 街面秩序"): a superuser, who sees
    both, is told which district each belongs to; a district's administrator, who sees one,
    gets the plain names."""
    MajorClass.objects.create(
        district=two_districts.xicheng, kind=CategoryKind.EVENT, code="05", name="街面秩序"
    )
    dongcheng = two_districts.city.city.district.name
    form = admin_client.get("/admin/policies/category/add/").content.decode()
    assert f">{dongcheng} · 事件 05 街面秩序</option>" in form
    assert ">西城区 · 事件 05 街面秩序</option>" in form
    own = _client(two_districts.xicheng_admin).get("/admin/policies/category/add/")
    assert ">事件 05 街面秩序</option>" in own.content.decode()


def _filters(client: Client, url: str) -> str:
    """The list's filter sidebar; none when no filter has a choice to offer."""
    html = client.get(url).content.decode()
    start = html.find('id="changelist-filter"')
    if start == -1:
        return ""
    return html[start : html.index("</nav>", start)]


def test_the_lists_filters_offer_only_the_districts_own_places_and_departments(two_districts):
    city = two_districts.city
    xicheng_township = Jurisdiction.objects.get(code="110102001")
    Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110102002",
        name="新街口街道",
        parent=two_districts.xicheng,
        boundary=square(116.37, 39.94),
    )
    _hotline_case(city)
    xicheng = _client(two_districts.xicheng_admin)
    dongcheng = _client(two_districts.dongcheng_admin)
    for url in ("/admin/cases/summons/", "/admin/cases/supervisionnotice/"):
        own, other = _filters(xicheng, url), _filters(dongcheng, url)
        assert city.urban.name in other and city.police.name in other
        assert city.urban.name not in own and city.police.name not in own, url
    own, other = _filters(xicheng, "/admin/cases/case/"), _filters(dongcheng, "/admin/cases/case/")
    assert xicheng_township.name in own
    assert city.longtan.name not in own and city.district.name not in own
    assert city.longtan.name in other and xicheng_township.name not in other
    # The district's own lists, too (lanes by township).
    own = _filters(xicheng, "/admin/organisation/lane/")
    assert xicheng_township.name in own and "新街口街道" in own
    assert city.longtan.name not in own and city.city.dongsi.name not in own


def test_a_superusers_list_filters_offer_every_district(two_districts, admin_client):
    filters = _filters(admin_client, "/admin/cases/case/")
    assert "西长安街街道" in filters and two_districts.city.longtan.name in filters
