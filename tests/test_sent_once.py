"""A report form sent twice (a double tap, a slow network's resend, the back button) files
one case: each form carries a one-time key, claimed in the filing's transaction, and a
second sending of the key leads where the first led (whistle/web/once.py)."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from tests.conftest import make_person
from tests.fixtures_street import (  # noqa: F401
    IN_DONGSI,
    MORNING,
    ON_THE_LANE,
    noisy_jpeg,
    png_bytes,
    street_fixture,
)
from whistle.cases.models import Case
from whistle.organisation.models import Role
from whistle.street import kept
from whistle.web import once
from whistle.web.models import SentForm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

STAFF = "/patrol/report/"
RESIDENT = "/report/"
ON_POSTGRES = "postgresql" in str(settings.DATABASES["default"]["ENGINE"])


@pytest.fixture
def frozen():
    with time_machine.travel(MORNING, tick=False):
        yield


def key_in(html: str) -> str:
    match = re.search(rf'name="{once.FIELD}" value="([^"]*)"', html)
    assert match, "no one-time key in the form"
    return match.group(1)


def place() -> dict[str, str]:
    lon, lat = ON_THE_LANE
    return {"lon": str(lon), "lat": str(lat), "accuracy_m": "8"}


def staff_form(client, **changes) -> dict[str, str]:
    key = key_in(client.get(STAFF).content.decode())
    data = {
        "description": "人民市场东巷有游商摆摊占道",
        "category": "",
        once.FIELD: key,
        **place(),
    }
    data.update(changes)
    return data


def resident_form(client, **changes) -> dict[str, str]:
    key = key_in(client.get(RESIDENT).content.decode())
    data = {
        "description": "夕照寺中街路边堆了很多建筑垃圾",
        "address": "夕照寺中街 12 号门口",
        "name": "",
        "phone": "",
        once.FIELD: key,
        **place(),
    }
    data.update(changes)
    return data


def blind_at_first(filed_under):
    """`once.filed_under` that finds nothing the first time it is asked, as for a sending
    whose first was not yet written when it was checked, and reads the table after that."""
    asked: list[str] = []

    def read(key: str) -> str | None:
        asked.append(key)
        return None if len(asked) == 1 else filed_under(key)

    return read


@pytest.fixture
def zhao(street):
    return make_person("zhao-lei", Role.RESIDENT)


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", noisy_jpeg((800, 600)), content_type="image/jpeg")


def photo_token(html: str) -> str:
    match = re.search(r'name="photo_token" value="([^"]+)"', html)
    assert match, "no photo kept"
    return match.group(1)


# The staff's report ------------------------------------------------------------------------


def test_each_staff_form_carries_a_new_key_and_keeps_it_when_shown_again(client, street):
    client.force_login(street.steward)
    first, second = (key_in(client.get(STAFF).content.decode()) for _ in range(2))
    assert first != second and len(first) == 32
    refused = client.post(STAFF, staff_form(client, description="", **{once.FIELD: first}))
    assert refused.status_code == 200
    assert key_in(refused.content.decode()) == first
    assert not SentForm.objects.exists()


def test_a_staff_report_sent_twice_files_one_case_and_the_second_leads_to_the_first(client, street):
    client.force_login(street.steward)
    data = staff_form(client)
    first = client.post(STAFF, data)
    case = Case.objects.get()
    assert first["Location"] == f"/patrol/reports/{case.reference}/?sent=1"
    second = client.post(STAFF, data)
    assert Case.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    page = client.get(second["Location"]).content.decode()
    assert f"此上报已提交，案件编号 {case.reference}；再次提交不会重复上报同一问题。" in page
    assert "上报成功" in page
    assert SentForm.objects.get().reference == case.reference


def test_a_staff_report_sent_again_after_its_kept_photo_was_used_leads_to_the_first(client, street):
    client.force_login(street.steward)
    refused = client.post(STAFF, {**staff_form(client, description=""), "photo": photo()})
    html = refused.content.decode()
    token = photo_token(html)
    data = staff_form(client, photo_token=token, **{once.FIELD: key_in(html)})
    assert client.post(STAFF, data).status_code == 302
    case = Case.objects.get()
    assert kept.find(refused.wsgi_request, token) is None
    # The second sending's photo is gone: were it not for the key it would be sent back
    # with "the photo chosen earlier has expired".
    again = client.post(STAFF, data)
    assert again["Location"] == f"/patrol/reports/{case.reference}/?sent=1"
    assert Case.objects.count() == 1


def test_a_staff_report_whose_key_is_claimed_meanwhile_leads_to_the_first(
    client, street, monkeypatch
):
    """The second sending passed its checks before the first was written: its claim of the
    key fails on the unique key, and nothing it filed stays."""
    client.force_login(street.steward)
    data = staff_form(client)
    client.post(STAFF, data)
    case = Case.objects.get()
    monkeypatch.setattr(once, "filed_under", blind_at_first(once.filed_under))
    again = client.post(STAFF, data)
    assert again["Location"] == f"/patrol/reports/{case.reference}/?sent=1"
    assert Case.objects.count() == 1


def test_a_staff_report_sent_without_a_key_is_filed_as_before(client, street):
    client.force_login(street.steward)
    data = staff_form(client)
    del data[once.FIELD]
    client.post(STAFF, data)
    client.post(STAFF, data)
    assert Case.objects.count() == 2
    assert not SentForm.objects.exists()


def test_a_refused_filing_leaves_the_key_free_for_the_corrected_form(client, street):
    client.force_login(street.steward)
    # Outside the steward's lanes: the action refuses it.
    lon, lat = IN_DONGSI
    far = staff_form(client, lon=str(lon), lat=str(lat))
    refused = client.post(STAFF, far)
    assert 'class="form-refusal"' in refused.content.decode()
    assert not Case.objects.exists()
    assert not SentForm.objects.exists()
    assert client.post(STAFF, {**far, **place()}).status_code == 302
    assert Case.objects.count() == 1


# The resident's report ---------------------------------------------------------------------


def test_a_residents_report_sent_twice_files_one_case_and_shows_the_first_reference(
    client, street, zhao
):
    client.force_login(zhao)
    data = resident_form(client)
    assert client.post(RESIDENT, data)["Location"] == "/report/thanks/"
    case = Case.objects.get()
    again = client.post(RESIDENT, data)
    assert Case.objects.count() == 1
    assert again["Location"] == f"/report/thanks/?sent={data[once.FIELD]}"
    html = client.get(again["Location"]).content.decode()
    assert case.reference in html
    assert f"此上报已提交，案件编号 {case.reference}；再次提交不会重复上报同一问题。" in html
    # The follow link with its key is in the session of the first answer, not yet shown.
    assert f'href="/report/follow/{case.reference}/?key=' in html


def test_the_thanks_page_of_a_second_sending_says_the_follow_link_went_with_the_first(
    client, street
):
    """The first answer never reached the browser and its session was not kept: the
    second's thanks page (asked before the question is checked) has the reference, and
    says why the follow link is missing."""
    data = resident_form(client, captcha="7")
    key = data[once.FIELD]
    SentForm.objects.create(key=key, sent_at=timezone.now(), reference="ABC234XYZ7")
    again = client.post(RESIDENT, data)
    assert again["Location"] == f"/report/thanks/?sent={key}"
    html = client.get(again["Location"]).content.decode()
    assert "ABC234XYZ7" in html and "?key=" not in html
    assert "跟进链接随第一次提交的回复给出" in html
    assert 'data-form-sent="/report/"' in html


def test_a_residents_report_failing_because_the_first_used_its_photo_leads_to_thanks(
    client, street, zhao
):
    client.force_login(zhao)
    refused = client.post(RESIDENT, {**resident_form(client, description=""), "photo": photo()})
    html = refused.content.decode()
    token = photo_token(html)
    data = resident_form(client, photo_token=token, **{once.FIELD: key_in(html)})
    assert client.post(RESIDENT, data).status_code == 302
    case = Case.objects.get()
    again = client.post(RESIDENT, data)
    assert again["Location"] == f"/report/thanks/?sent={data[once.FIELD]}"
    assert case.reference in client.get(again["Location"]).content.decode()
    assert Case.objects.count() == 1


def test_a_residents_report_whose_key_is_claimed_meanwhile_leads_to_thanks(
    client, street, zhao, monkeypatch
):
    client.force_login(zhao)
    data = resident_form(client)
    client.post(RESIDENT, data)
    monkeypatch.setattr(once, "filed_under", blind_at_first(once.filed_under))
    again = client.post(RESIDENT, data)
    assert again["Location"] == f"/report/thanks/?sent={data[once.FIELD]}"
    assert Case.objects.count() == 1


def test_a_key_that_filed_nothing_shows_the_thanks_page_of_nothing(client, street):
    response = client.get(f"/report/thanks/?sent={'a' * 32}")
    assert response["Location"] == "/report/"


def test_the_report_forms_are_guarded_in_the_browser_and_their_answers_name_them(
    client, street, zhao
):
    client.force_login(zhao)
    assert "data-submit-once" in client.get(RESIDENT).content.decode()
    client.post(RESIDENT, resident_form(client))
    assert 'data-form-sent="/report/"' in client.get("/report/thanks/").content.decode()
    client.force_login(street.steward)
    assert "data-submit-once" in client.get(STAFF).content.decode()
    sent = client.post(STAFF, staff_form(client))["Location"]
    assert 'data-form-sent="/patrol/report/"' in client.get(sent).content.decode()


# Keeping the keys --------------------------------------------------------------------------


def keys_a_week_old() -> tuple[SentForm, SentForm]:
    old = SentForm.objects.create(
        key="o" * 32, sent_at=timezone.now() - once.KEPT - timedelta(minutes=1), reference="X"
    )
    recent = SentForm.objects.create(
        key="r" * 32, sent_at=timezone.now() - once.KEPT + timedelta(minutes=1), reference="Y"
    )
    return old, recent


def test_a_claim_drawn_to_prune_removes_the_keys_older_than_a_week_and_keeps_the_others(
    client, street, monkeypatch
):
    old, recent = keys_a_week_old()
    monkeypatch.setattr(once.secrets, "randbelow", lambda n: 0)
    client.force_login(street.steward)
    client.post(STAFF, staff_form(client))
    assert not SentForm.objects.filter(pk=old.pk).exists()
    assert SentForm.objects.filter(pk=recent.pk).exists()
    assert SentForm.objects.count() == 2


def test_the_other_claims_leave_the_old_keys_for_a_later_one(client, street, monkeypatch):
    old, recent = keys_a_week_old()
    drawn: list[int] = []

    def never_zero(n: int) -> int:
        drawn.append(n)
        return n - 1

    monkeypatch.setattr(once.secrets, "randbelow", never_zero)
    client.force_login(street.steward)
    client.post(STAFF, staff_form(client))
    assert drawn == [once.PRUNE_EVERY]
    assert SentForm.objects.filter(pk__in=[old.pk, recent.pk]).count() == 2
    assert SentForm.objects.count() == 3


# Two sendings at once, on PostgreSQL ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_sending_racing_the_first_waits_for_it_and_leads_to_its_reference():
    key = once.new_key()
    claimed, release = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        try:
            with once.filing(key) as filed:
                claimed.set()
                release.wait(10)
                filed.reference = "FIRST23456"
        finally:
            connection.close()

    def second(name: str, ask) -> None:
        try:
            seen[name] = ask()
        except once.AlreadySent as already:
            seen[name] = already.reference
        finally:
            connection.close()

    def claim_again() -> None:
        with once.filing(key) as filed:
            filed.reference = "SECOND2345"

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert claimed.wait(10)
    threads += [
        threading.Thread(target=second, args=("claim", claim_again)),
        threading.Thread(target=second, args=("look", lambda: once.first_reference(key))),
    ]
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.5)
    # Both wait on the first's transaction.
    assert seen == {}
    release.set()
    for thread in threads:
        thread.join(10)
    assert seen == {"claim": "FIRST23456", "look": "FIRST23456"}
    assert list(SentForm.objects.values_list("reference", flat=True)) == ["FIRST23456"]
