"""Residents' and volunteers' personal data: who sees it, where it is kept, how it is erased
(docs/security.md, "Personal data")."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.conftest import make_person
from tests.fixtures_api import Api, api_city_fixture, secret_for  # noqa: F401  (fixture)
from tests.fixtures_cases import (  # noqa: F401  (fixture)
    ON_THE_LANE,
    beijing,
    png_bytes,
    reported_case,
    whistle_city_fixture,
)
from tests.fixtures_desk import case_url, photo_upload
from whistle.accounts import contact
from whistle.cases import actions, report_limits
from whistle.cases.actions import personal_data as erasure
from whistle.cases.actions.intake import _locate_or_refuse, _open_case
from whistle.cases.export import export_case, verify_document
from whistle.cases.models import Attachment, Case, Event
from whistle.cases.trail import EventKind, record
from whistle.cases.verify import verify_database
from whistle.organisation import personal_data
from whistle.organisation.models import Person, Role

pytestmark = pytest.mark.django_db

NAME, PHONE = "赵磊", "13800138000"
T0 = beijing(2026, 5, 11, 9, 0)
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def resident_report(city, **fields):
    return actions.report_resident_case(
        name=fields.pop("name", NAME),
        phone=fields.pop("phone", PHONE),
        description="楼道里堆满杂物",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        **fields,
    )


def old_style_case(city, name: str = NAME) -> Case:
    """A case reported before the trail held commitments: its first event holds the name."""
    location = _locate_or_refuse(*ON_THE_LANE)
    with actions.atomic():
        case, _event = _open_case(
            actor=None,
            role=Role.RESIDENT,
            source=Case.Source.RESIDENT,
            location=location,
            description="楼道里堆满杂物",
            position=ON_THE_LANE,
            accuracy_m=None,
            address="",
            category=None,
            photos=actions.PhotoBatch(None),
            reporter_name=name,
            reporter_phone=PHONE,
            external_id="",
            now=T0,
            reporter_in_trail={"reporter_name": name},
        )
    return case


def closed_at(city, case: Case) -> datetime:
    """Close the case; when it was closed."""
    actions.file_case(city.dispatcher, case, category=city.street_vending)
    actions.solve_on_spot(city.dispatcher, case, note="已清理")
    actions.check_passed(city.dispatcher, case)
    at = actions.close_case(city.dispatcher, case).closed_at
    assert at is not None
    return at


# Kept out of the trail --------------------------------------------------------------------


def test_a_residents_name_and_phone_stay_on_the_case_and_the_trail_holds_a_salted_commitment(
    whistle_city, clock
):
    case = resident_report(whistle_city).case
    event = Event.objects.get(case=case)
    stored = json.dumps(event.data, ensure_ascii=False)
    assert NAME not in stored and PHONE not in stored
    assert event.data["reporter"] == personal_data.commitment(case.reporter_salt, NAME, PHONE)
    # The same person reporting again is not linkable through the trail.
    again = resident_report(whistle_city).case
    assert Event.objects.get(case=again).data["reporter"] != event.data["reporter"]


def test_a_report_without_name_or_phone_commits_to_nothing(whistle_city, clock):
    case = resident_report(whistle_city, name="", phone="").case
    assert (case.reporter_salt, Event.objects.get(case=case).data["reporter"]) == ("", "")


def test_a_hotline_report_entered_by_the_township_holds_no_name_in_the_trail(whistle_city, clock):
    city = whistle_city
    case = actions.report_case(
        city.dispatcher,
        description="热线：占道经营",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
        source="hotline",
        reporter_name="王先生",
        reporter_phone="13912345678",
    )
    assert case.reporter_name == "王先生"
    assert "王先生" not in json.dumps(Event.objects.get(case=case).data, ensure_ascii=False)


# Who sees what ----------------------------------------------------------------------------


def test_only_the_townships_dispatchers_and_chief_see_a_residents_name_and_phone(
    client, whistle_city, clock
):
    city = whistle_city
    case = resident_report(city).case
    full = {city.dispatcher, city.township_chief}
    for person in (
        city.dispatcher,
        city.township_chief,
        city.township_office,
        city.assessor,
        city.district_office,
        city.district_chief,
        city.steward,
        city.urban_officer,
    ):
        client.force_login(person)
        page = client.get(case_url(case))
        if page.status_code == 404:
            continue
        html = page.content.decode()
        if person in full:
            assert NAME in html and PHONE in html, person.username
        else:
            assert NAME not in html and PHONE not in html, person.username
            assert "赵*" in html and "138****8000" in html, person.username


def test_a_signed_in_residents_account_name_is_masked_for_departments(client, whistle_city, clock):
    city = whistle_city
    city.resident.name = "钱多多"
    city.resident.save(update_fields=["name"])
    case = resident_report(city, name="钱多多", reporter=city.resident).case
    client.force_login(city.district_office)
    html = client.get(case_url(case)).content.decode()
    assert "钱多多" not in html and "钱*" in html


def account_report(city, **fields):
    """A report by the resident signed in with their account (named 钱多多), with a photo."""
    city.resident.name = "钱多多"
    city.resident.save(update_fields=["name"])
    return resident_report(
        city, name="钱多多", reporter=city.resident, photos=[png_bytes()], **fields
    ).case


def test_the_api_trail_names_a_resident_as_the_case_page_does(api_city, clock):
    city = api_city
    case = account_report(city.city)
    path = f"/cases/{case.reference}/trail"
    for persona, shown in (
        ("dispatcher", "钱多多"),
        ("urban_officer", "钱*"),
        ("district_office", "钱*"),
        ("district_chief", "钱*"),
        ("assessor", "钱*"),
    ):
        answer = city.as_(persona).get(path)
        assert answer.status_code == 200, (persona, answer.content)
        first = answer.json()["events"][0]
        assert (first["role"], first["actor_name"]) == ("resident", shown), persona
        assert "钱多多" not in answer.content.decode() or shown == "钱多多", persona


def test_a_photo_a_resident_uploaded_names_them_as_the_trail_does(client, whistle_city, clock):
    city = whistle_city
    case = account_report(city)
    assert case.attachments.get().uploaded_by == city.resident
    for person in (city.urban_officer, city.district_office, city.district_chief, city.steward):
        client.force_login(person)
        page = client.get(case_url(case))
        if page.status_code == 404:
            continue
        html = page.content.decode()
        assert "钱多多" not in html and "钱*" in html, person.username
    client.force_login(city.dispatcher)
    assert "钱多多" in client.get(case_url(case)).content.decode()


def test_a_resident_reads_through_the_api_only_the_timeline_of_the_follow_page(api_city, clock):
    city = api_city
    case = account_report(city.city)
    closed_at(city.city, case)
    actions.record_resident_rating(case, rating=2, comment="楼下还堆着", person=city.resident)
    resident = city.as_("resident")
    refused = resident.get(f"/cases/{case.reference}/trail")
    assert refused.status_code == 403, refused.content
    assert f"/api/v1/cases/{case.reference}/timeline" in refused.json()["message"]
    answer = resident.get(f"/cases/{case.reference}/timeline")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["case"] == case.reference and body["status"] == "closed"
    texts = [entry["text"] for entry in body["entries"]]
    assert texts[0] == "问题已上报" and "已结案" in texts
    assert set(body["entries"][0]) == {"at", "text"}
    text = answer.content.decode()
    for secret in (city.dispatcher.display_name, "已清理", "楼下还堆着", "钱"):
        assert secret not in text
    # Staff who see the case read its trail, and may read its timeline too.
    assert city.as_("dispatcher").get(f"/cases/{case.reference}/trail").status_code == 200
    assert city.as_("dispatcher").get(f"/cases/{case.reference}/timeline").status_code == 200


FOLLOWED_FIELDS = {
    "reference",
    "status",
    "category",
    "place",
    "reported_at",
    "resolve_due_at",
    "merged_into",
    "timeline",
    "result_photos",
    "rating",
    "description",
    "report_photos",
}


def whistled_account_report(city):
    """The resident's report, taken up by the township, which blew the whistle with a meeting
    point and a note and sent the department a supervision notice."""
    case = account_report(city.city)
    actions.file_case(city.dispatcher, case, category=city.street_vending)
    whistle = actions.blow_whistle(
        city.dispatcher,
        case,
        kind="routine",
        departments=[city.urban],
        meeting_point="东四北大街12号门口",
        note="带上切割机",
    )
    notice = actions.issue_supervision_notice(
        city.township_office,
        case,
        department=city.urban,
        text="请尽快到场处置",
        due_at=T0 + DAY,
    )
    return case, whistle, notice


SECRETS = ("东四北大街12号门口", "带上切割机", "请尽快到场处置", "钱多多", "楼道里堆满杂物")


def test_a_resident_reads_their_case_through_the_api_as_its_follow_page_shows_it(api_city, clock):
    city = api_city
    case, _whistle, _notice = whistled_account_report(city)
    resident = city.as_("resident")
    answer = resident.get(f"/cases/{case.reference}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert set(body) == FOLLOWED_FIELDS
    assert (
        body["status"] == "whistled" and body["category"]["code"] == city.street_vending.full_code
    )
    assert body["place"] == {"township": case.township.name, "lane": case.lane.name}
    texts = [entry["text"] for entry in body["timeline"]]
    assert texts[0] == "问题已上报" and texts[-1] == "已召集东城区城管执法局"
    assert body["rating"] == {"open": False, "rated": False, "called_back": False}
    # What they reported is theirs to read back, as the follow page shows it to them.
    assert body["description"] == "楼道里堆满杂物"
    photo = case.attachments.get(purpose="report")
    assert body["report_photos"] == [f"/api/v1/cases/{case.reference}/photos/{photo.sha256}"]
    text = json.dumps({**body, "description": None}, ensure_ascii=False)
    for secret in (*SECRETS, city.dispatcher.display_name, city.urban.code):
        assert secret not in text, secret
    # The list gives the resident their report the same way.
    listed = resident.get("/cases")
    assert listed.status_code == 200, listed.content
    assert listed.json()["items"] == [body]
    # Staff who see the case read it whole.
    whole = city.as_("dispatcher").get(f"/cases/{case.reference}").json()
    assert whole["whistles"][0]["meeting_point"] == "东四北大街12号门口"
    staff_list = city.as_("dispatcher").get("/cases").json()["items"]
    assert {"description", "uuid"} <= set(staff_list[0])


def test_a_residents_token_reaches_no_summons_whistle_notice_or_record_of_their_case(
    api_city, clock
):
    city = api_city
    case, whistle, notice = whistled_account_report(city)
    summons = whistle.summonses.get()
    resident = city.as_("resident")
    for path in (
        f"/summonses/{summons.uuid}",
        f"/whistles/{whistle.uuid}",
        f"/supervision-notices/{notice.uuid}",
        f"/assessment/records/{summons.uuid}",
    ):
        answer = resident.get(path)
        assert answer.status_code == 404, (path, answer.content)
    for path in (
        "/summonses",
        "/supervision-notices",
        "/assessment/records",
        "/assessment/appeals",
    ):
        answer = resident.get(path)
        assert answer.status_code in (200, 403), (path, answer.content)
        text = answer.content.decode()
        for secret in (*SECRETS, str(summons.uuid), str(notice.uuid)):
            assert secret not in text, (path, secret)
    # Every action on the case is refused and gives nothing of it away.
    for path in ("file", "close", "rework", "escalation", "backlog", "callback", "evaluation"):
        answer = resident.post(f"/cases/{case.reference}/{path}", {"reason": "x", "note": "x"})
        assert answer.status_code in (403, 409, 422), (path, answer.content)
        assert "东四北大街12号门口" not in answer.content.decode(), path


def test_only_the_reporters_own_token_or_session_reads_what_they_reported_until_it_is_erased(
    api_city, clock
):
    city = api_city
    case = account_report(city.city)
    photo = case.attachments.get(purpose="report")
    address = f"/api/v1/cases/{case.reference}/photos/{photo.sha256}"
    resident = city.as_("resident")
    body = resident.get(f"/cases/{case.reference}").json()
    assert (body["description"], body["report_photos"]) == ("楼道里堆满杂物", [address])
    listed = resident.get("/cases").json()["items"]
    assert [(c["description"], c["report_photos"]) for c in listed] == [
        ("楼道里堆满杂物", [address])
    ]
    # The address gives the owner's token the photo as the follow page gives it: re-encoded.
    fetched = resident.client.get(address, headers=resident.headers())
    assert fetched.status_code == 200, fetched.content
    assert fetched["Content-Type"] == "image/jpeg"
    assert fetched["Cache-Control"] == "private, max-age=3600"
    shown = Image.open(io.BytesIO(fetched.content))
    assert shown.format == "JPEG" and not shown.getexif()
    # The API names a photo by its digest, never by its database id.
    by_id = f"/api/v1/cases/{case.reference}/photos/{photo.pk}"
    assert resident.client.get(by_id, headers=resident.headers()).status_code == 422
    # The owner's session too, at that address and at the follow page's.
    browser = Client()
    browser.force_login(city.resident)
    assert browser.get(address).content == fetched.content
    page_photo = f"/report/follow/{case.reference}/photos/{photo.pk}/"
    assert browser.get(page_photo).content == fetched.content
    # Another resident, by token or session, finds neither the case nor the photo.
    other = make_person("resident-2", Role.RESIDENT)
    other_api = Api(secret_for(other))
    assert other_api.get(f"/cases/{case.reference}").status_code == 404
    assert other_api.client.get(address, headers=other_api.headers()).status_code == 404
    browser.force_login(other)
    assert browser.get(address).status_code == 404
    assert browser.get(page_photo).status_code == 404
    # Without a token the API answers nothing.
    anonymous = city.as_("anonymous")
    assert anonymous.get(f"/cases/{case.reference}").status_code == 401
    assert anonymous.client.get(address).status_code == 401
    # Staff read the case whole on its page, not the report's photo at the follow page's
    # addresses.
    dispatcher = city.as_("dispatcher")
    assert dispatcher.client.get(address, headers=dispatcher.headers()).status_code == 404
    # Once the case's personal data is erased, the reporter reads none of it back.
    erasure.erase_reporter_data(case.pk, reason="request")
    after = resident.get(f"/cases/{case.reference}")
    assert after.status_code == 200, after.content
    assert (after.json()["description"], after.json()["report_photos"]) == (None, None)
    assert "楼道里堆满杂物" not in resident.get("/cases").content.decode()
    assert resident.client.get(address, headers=resident.headers()).status_code == 404


def test_a_resident_who_reports_or_rates_through_the_api_gets_the_follow_page_back(api_city, clock):
    city = api_city
    city.resident.name = "钱多多"
    city.resident.save(update_fields=["name"])
    resident = city.as_("resident")
    answer = resident.post(
        "/cases/resident-reports",
        {
            "name": "钱多多",
            "phone": PHONE,
            "description": "楼道里堆满杂物",
            "lon": ON_THE_LANE[0],
            "lat": ON_THE_LANE[1],
        },
    )
    assert answer.status_code == 201, answer.content
    assert set(answer.json()["case"]) == FOLLOWED_FIELDS
    assert answer.json()["case"]["description"] == "楼道里堆满杂物"
    assert answer.json()["case"]["report_photos"] == []
    case = Case.objects.get(reference=answer.json()["case"]["reference"])
    closed_at(city.city, case)
    rated = resident.post(f"/cases/{case.reference}/resident-rating", {"rating": 5})
    assert rated.status_code == 200, rated.content
    assert set(rated.json()) == FOLLOWED_FIELDS
    assert rated.json()["rating"] == {"open": True, "rated": True, "called_back": False}
    assert rated.json()["description"] == "楼道里堆满杂物"
    assert "已清理" not in rated.content.decode()


def test_the_trail_on_the_page_never_shows_a_reporters_name(client, whistle_city, clock):
    city = whistle_city
    case = old_style_case(city, "孙丽")
    client.force_login(city.district_office)
    html = client.get(case_url(case)).content.decode()
    assert "孙丽" not in html and "孙*" in html


def test_the_api_masks_the_name_an_old_event_holds_and_drops_it_once_erased(api_city, clock):
    city = api_city
    case = old_style_case(city.city, "孙丽")
    path = f"/cases/{case.reference}/trail"

    def first_name(persona: str) -> str:
        answer = city.as_(persona).get(path)
        assert answer.status_code == 200, answer.content
        return answer.json()["events"][0]["data"]["reporter_name"]

    assert first_name("dispatcher") == "孙丽"
    assert first_name("district_office") == "孙*"
    erasure.erase_reporter_data(case.pk, reason="request")
    assert first_name("dispatcher") == ""
    # The event itself is untouched: the chain still verifies.
    assert verify_database(references=[case.reference]).ok


def test_open311_answers_hold_no_name_phone_or_email(api_city, clock):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    filed = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": secret_for(api_city.dispatcher),
            "service_code": "event-0501",
            "lat": str(ON_THE_LANE[1]),
            "long": str(ON_THE_LANE[0]),
            "description": "人民市场东巷有游商占道",
            "first_name": "女士",
            "last_name": "王",
            "phone": "13800138000",
            "email": "wang@example.cn",
        },
    )
    assert filed.status_code == 201, filed.content
    reference = filed.json()[0]["service_request_id"]
    assert Case.objects.get(reference=reference).reporter_name == "王女士"
    for url in (
        f"/open311/v2/requests/{reference}.json?extensions=true",
        "/open311/v2/requests.json?extensions=true",
    ):
        answer = client.get(url).content.decode()
        assert reference in answer
        for secret in ("王女士", "13800138000", "wang@example.cn"):
            assert secret not in answer, url


def staff_viewer(person: Person) -> Person:
    """The person allowed into the admin to look at cases and their trail."""
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    for codename in ("view_case", "view_event"):
        person.user_permissions.add(Permission.objects.get(codename=codename))
    return Person.objects.get(pk=person.pk)


def test_the_admin_masks_a_reporter_as_the_pages_do(client, whistle_city, clock):
    city = whistle_city
    fresh = resident_report(city).case
    old = old_style_case(city, "孙丽")
    urls = (
        f"/admin/cases/case/{fresh.pk}/change/",
        f"/admin/cases/case/{old.pk}/change/",
        f"/admin/cases/event/{old.events.get(seq=1).pk}/change/",
    )
    client.force_login(staff_viewer(city.district_office))
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        html = answer.content.decode()
        assert NAME not in html and PHONE not in html and "孙丽" not in html, url
    assert "赵*" in client.get(urls[0]).content.decode()
    # Nor can a name be found by searching for it.
    listing = client.get("/admin/cases/case/", {"q": NAME}).content.decode()
    assert fresh.reference not in listing
    client.force_login(staff_viewer(city.dispatcher))
    assert NAME in client.get(urls[0]).content.decode()
    assert "孙丽" in client.get(urls[2]).content.decode()


def test_the_signed_export_masks_the_reporter_and_still_verifies(whistle_city, clock):
    city = whistle_city
    case = resident_report(city, name="钱多多", reporter=city.resident).case
    document = export_case(case)
    text = json.dumps(document, ensure_ascii=False)
    assert "钱多多" not in text and PHONE not in text
    assert document["case"]["reporter"] == "钱*"
    assert verify_document(document)[0].ok


# Erasure ----------------------------------------------------------------------------------


def test_erasing_a_case_on_request_keeps_the_trail_verifying_and_the_page_says_so(
    client, whistle_city, clock
):
    city = whistle_city
    case = resident_report(city).case
    clock.shift(DAY)
    call_command("erase_personal_data", "--case", case.reference, stdout=_Sink())
    case.refresh_from_db()
    assert (case.reporter_name, case.reporter_phone, case.reporter_salt) == ("", "", "")
    assert case.personal_data_erased_at == T0 + DAY
    last = case.events.latest("seq")
    assert (last.kind, last.data) == (EventKind.PERSONAL_DATA_ERASED, {"erased_because": "request"})
    assert verify_database(references=[case.reference]).ok
    client.force_login(city.dispatcher)
    html = client.get(case_url(case)).content.decode()
    assert NAME not in html and PHONE not in html
    assert "反映人的个人信息已于 2026-05-12 删除" in html
    # Asking again changes nothing.
    length = case.trail_length
    call_command("erase_personal_data", "--case", case.reference, stdout=_Sink())
    case.refresh_from_db()
    assert case.trail_length == length


def test_once_erased_no_role_sees_the_reporting_residents_account_name(client, api_city, clock):
    city = api_city
    case = account_report(city.city)
    erasure.erase_reporter_data(case.pk, reason="request")
    for person in (city.dispatcher, city.township_chief, city.district_office):
        client.force_login(person)
        html = client.get(case_url(case)).content.decode()
        assert "钱多多" not in html and "钱*" not in html, person.username
        assert "反映人的个人信息已于" in html
    for persona in ("dispatcher", "district_office"):
        first = city.as_(persona).get(f"/cases/{case.reference}/trail").json()["events"][0]
        assert (first["role"], first["actor_name"]) == ("resident", None), persona
    document = json.dumps(export_case(case), ensure_ascii=False)
    assert "钱多多" not in document and "钱*" not in document


def test_a_residents_rating_comment_stays_on_the_case_and_erasure_blanks_it(
    client, api_city, clock
):
    city = api_city
    case = account_report(city.city)
    closed_at(city.city, case)
    comment = "我是钱多多，电话13912345678，楼下还堆着"
    actions.record_resident_rating(case, rating=2, comment=comment, person=city.resident)
    case.refresh_from_db()
    assert case.resident_comment == comment
    rated = case.events.get(kind=EventKind.RESIDENT_RATED)
    assert comment not in json.dumps(rated.data, ensure_ascii=False)
    assert rated.data["comment_commitment"] == personal_data.text_commitment(
        case.reporter_salt, comment
    )
    client.force_login(city.dispatcher)
    assert comment in client.get(case_url(case)).content.decode()
    erasure.erase_reporter_data(case.pk, reason="request")
    case.refresh_from_db()
    assert (case.resident_comment, case.reporter_salt) == ("", "")
    assert verify_database(references=[case.reference]).ok
    assert comment not in client.get(case_url(case)).content.decode()
    trail = city.as_("dispatcher").get(f"/cases/{case.reference}/trail")
    assert comment not in trail.content.decode()
    # A rating is still counted as the rating it was.
    assert (case.resident_rating, case.resident_satisfied) == (2, False)


def test_a_rating_comment_an_old_event_holds_is_gone_from_the_pages_once_erased(
    client, api_city, clock
):
    city = api_city
    case = account_report(city.city)
    closed_at(city.city, case)
    comment = "楼下还堆着，电话13912345678"
    # A rating recorded before the comment was kept out of the trail: its event holds it.
    with actions.atomic():
        Case.objects.filter(pk=case.pk).update(
            resident_rating=4,
            resident_satisfied=True,
            resident_rated_at=T0,
            resident_comment=comment,
        )
        record(
            Case.objects.get(pk=case.pk),
            EventKind.RESIDENT_RATED,
            actor=city.resident,
            role=Role.RESIDENT,
            at=T0,
            data={"changes": {"resident_rating": [None, 4]}, "comment": comment},
        )
    client.force_login(city.dispatcher)
    assert comment in client.get(case_url(case)).content.decode()
    erasure.erase_reporter_data(case.pk, reason="request")
    client.force_login(city.dispatcher)
    assert comment not in client.get(case_url(case)).content.decode()
    trail = city.as_("dispatcher").get(f"/cases/{case.reference}/trail")
    assert trail.status_code == 200, trail.content
    assert comment not in trail.content.decode()


def test_a_case_holding_only_a_rating_comment_is_erased_when_its_retention_ends(
    whistle_city, clock
):
    city = whistle_city
    report = resident_report(city, name="", phone="")
    case = report.case
    closed = closed_at(city, case)
    actions.record_resident_rating(
        case, rating=5, comment="谢谢，13912345678", key=report.rating_key
    )
    clock.move_to(closed + timedelta(days=179))
    assert erasure.erase_expired() == 0
    clock.move_to(closed + timedelta(days=180))
    assert erasure.erase_expired() == 1
    case.refresh_from_db()
    assert case.resident_comment == ""


def test_erasing_a_hotline_order_forgets_the_salt_of_its_callers_commitment(whistle_city, clock):
    from tests.test_hotline import take

    case = take(whistle_city).case
    erasure.erase_reporter_data(case.pk, reason="request")
    order = case.hotline_order
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.caller_salt, case.reporter_name, case.reporter_phone) == ("", "", "")
    assert verify_database(references=[case.reference]).ok


@pytest.mark.parametrize(
    ("typed", "normal", "mobile"),
    [
        ("13800138000", "13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000", "13800138000"),
        ("0086 (138) 0013 8000", "13800138000", "13800138000"),
        ("＋８６ １３８ ００１３ ８０００", "13800138000", "13800138000"),
        ("010-65123456", "01065123456", None),
        ("(010) 6512 3456", "01065123456", None),
        ("+86 10 6512 3456", "01065123456", None),
        ("0086 21 6123 4567", "02161234567", None),
        ("0571 8765432", "05718765432", None),
        ("0571-87654321", "057187654321", None),
        ("6512 3456", None, None),
        ("12812345678", None, None),
        ("1380013800", None, None),
        ("138001380001", None, None),
        ("010-0123456", None, None),
        ("138 0013 8000 转 123", None, None),
        ("", None, None),
    ],
)
def test_a_phone_number_has_one_normal_form_however_it_was_typed(typed, normal, mobile):
    assert personal_data.normal_phone(typed) == normal
    assert personal_data.normal_phone(typed, mobile_only=True) == mobile
    if normal is not None:
        # Matched, counted and masked by that form.
        assert personal_data.phone_digits(typed) == normal
        assert report_limits.phone_key(typed) == normal
        assert personal_data.mask_phone(typed) == normal[:3] + "*" * (len(normal) - 7) + normal[-4:]
    # A person's own new number is taken by the same rule, as a mobile only.
    assert contact.mainland_mobile(typed) == mobile


def test_erasing_by_phone_finds_the_number_however_it_was_written(whistle_city, clock):
    city = whistle_city
    spaced = resident_report(city, phone="138 0013 8000").case
    plain = resident_report(city).case
    other = resident_report(city, phone="13912345678").case
    steward = city.steward
    steward.name, steward.phone = "李管家", "+86 138-0013-8000"
    steward.save(update_fields=["name", "phone"])
    output = _Sink()
    call_command("erase_personal_data", "--phone", "13800138000", stdout=output)
    erased = set(
        Case.objects.filter(personal_data_erased_at__isnull=False).values_list("pk", flat=True)
    )
    assert erased == {spaced.pk, plain.pk} and other.pk not in erased
    steward.refresh_from_db()
    assert (steward.name, steward.phone, steward.is_active) == ("", "", False)
    assert not steward.has_usable_password()
    assert "2 个案件和 1 个账号" in output.text


def test_a_staff_members_data_is_not_erased_by_phone(whistle_city, clock):
    city = whistle_city
    city.dispatcher.phone = PHONE
    city.dispatcher.save(update_fields=["phone"])
    errors = _Sink()
    call_command("erase_personal_data", "--phone", PHONE, stdout=_Sink(), stderr=errors)
    city.dispatcher.refresh_from_db()
    assert (city.dispatcher.phone, city.dispatcher.is_active) == (PHONE, True)
    assert city.dispatcher.username in errors.text


def test_the_command_says_which_old_trails_still_hold_a_name(whistle_city, clock):
    case = old_style_case(whistle_city)
    output = _Sink()
    call_command("erase_personal_data", "--case", case.reference, stdout=output)
    assert case.reference in output.text
    assert verify_database(references=[case.reference]).ok


def test_the_command_refuses_without_a_target_and_names_an_unknown_case(whistle_city):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--case"):
        call_command("erase_personal_data")
    with pytest.raises(CommandError, match="X-NOPE"):
        call_command("erase_personal_data", "--case", "X-NOPE")


# Retention --------------------------------------------------------------------------------


def test_the_worker_erases_data_exactly_when_the_districts_retention_period_ends(
    whistle_city, clock
):
    city = whistle_city
    city.policy.personal_data_retention_days = 30
    city.policy.save(update_fields=["personal_data_retention_days"])
    done = resident_report(city).case
    closed = closed_at(city, done)
    still_open = resident_report(city).case
    cache.delete("cases:personal-data-swept")
    clock.move_to(closed - timedelta(microseconds=1) + 30 * DAY)
    assert erasure.sweep(timezone.now(), batch=50) == 0
    cache.delete("cases:personal-data-swept")
    clock.move_to(closed + 30 * DAY)
    assert erasure.sweep(timezone.now(), batch=50) == 1
    done.refresh_from_db()
    still_open.refresh_from_db()
    assert (done.reporter_name, done.personal_data_erased_at) == ("", closed + 30 * DAY)
    # An open case keeps the data for the call-back, however old.
    assert still_open.reporter_name == NAME
    assert done.events.latest("seq").data == {"erased_because": "retention"}
    assert verify_database().ok


def test_a_case_never_closed_counts_its_retention_from_the_report(whistle_city, clock):
    city = whistle_city
    city.policy.personal_data_retention_days = 10
    city.policy.save(update_fields=["personal_data_retention_days"])
    case = resident_report(city).case
    actions.reject_case(city.dispatcher, case, reason="重复反映")
    assert erasure.expired_cases(T0 + 10 * DAY - timedelta(microseconds=1)) == []
    assert erasure.expired_cases(T0 + 10 * DAY) == [case.pk]


def test_the_sweep_runs_once_per_interval(whistle_city, clock, settings):
    settings.WHISTLE_PERSONAL_DATA_SWEEP_SECONDS = 2 * 86400
    city = whistle_city
    city.policy.personal_data_retention_days = 1
    city.policy.save(update_fields=["personal_data_retention_days"])
    first = closed_at(city, resident_report(city).case)
    cache.delete("cases:personal-data-swept")
    clock.move_to(first + DAY)
    assert erasure.sweep(timezone.now(), batch=50) == 1
    second = resident_report(city).case
    second_closed = closed_at(city, second)
    # Claimed for two days: another worker's pass a day later does nothing …
    clock.move_to(second_closed + DAY)
    assert erasure.sweep(timezone.now(), batch=50) == 0
    second.refresh_from_db()
    assert second.reporter_name == NAME
    # … the first pass after the interval does.
    clock.move_to(first + 3 * DAY)
    assert erasure.sweep(timezone.now(), batch=50) == 1


def test_the_worker_runs_the_erasure_sweep_by_default(settings):
    assert "whistle.cases.actions.personal_data.sweep" in settings.WHISTLE_WORKER_SWEEPS


# Uploads ----------------------------------------------------------------------------------


def test_uploads_are_never_served_from_media_even_in_debug_mode(
    client, whistle_city, clock, settings
):
    settings.DEBUG = True
    city = whistle_city
    case = reported_case(city, photos=[photo_upload().read()])
    attachment = Attachment.objects.get(case=case)
    media_url = f"/media/{attachment.file.name}"
    client.force_login(city.dispatcher)
    assert client.get(media_url).status_code == 404
    client.logout()
    assert client.get(media_url).status_code == 404


def test_a_case_photo_is_not_found_for_anonymous_or_out_of_scope_people(
    client, whistle_city, clock
):
    city = whistle_city
    case = reported_case(city, photos=[photo_upload().read()])
    attachment = Attachment.objects.get(case=case)
    url = f"/cases/{case.reference}/photos/{attachment.pk}/"
    assert client.get(url).status_code == 404
    client.force_login(city.dongsi_dispatcher)
    assert client.get(url).status_code == 404
    client.force_login(city.dispatcher)
    assert client.get(url).status_code == 200
    # The report's photo is not one the public follow page publishes.
    client.logout()
    assert client.get(f"/report/follow/{case.reference}/photos/{attachment.pk}/").status_code == 404


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, value: str) -> None:
        self.text += value

    def flush(self) -> None:
        pass


def test_erasure_keeps_what_was_reported_and_the_forms_ask_to_leave_people_out(
    client, whistle_city, clock
):
    city = whistle_city
    case = resident_report(city).case
    clock.shift(DAY)
    assert erasure.erase_reporter_data(case.pk, reason=erasure.ErasureReason.REQUEST)
    case.refresh_from_db()
    # The problem stays, on the case and in the trail's first event; only who reported goes.
    assert case.description == "楼道里堆满杂物" and case.reporter_name == ""
    assert case.events.get(seq=1).data["description"] == "楼道里堆满杂物"
    assert verify_database(references=[case.reference]).ok
    # Those who write the description are asked to leave names and numbers out of it.
    resident_form = Client().get("/report/").content.decode()
    assert "不要写人名和电话号码" in resident_form
    client.force_login(city.dispatcher)
    assert "来电人的姓名和电话填在各自的栏目里" in client.get("/dispatch/hotline/").content.decode()
    english = client.get("/dispatch/hotline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Leave out people&#x27;s names and phone numbers: the caller&#x27;s go" in english
