"""The language switch brings the person back to a page that opens: the page itself when it
was opened by a link, and after a sent form's answer (an error shown at an address that
takes forms only) the page the form belongs to, however often the form was sent again from
its own answer. Switching needs no session: a visitor signed out switches on every page open
to all without being told of an ended session, and a person whose session lapsed is told so
in the language chosen."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.conftest import make_person
from tests.fixtures_cases import beijing, whistle_city_fixture  # noqa: F401
from tests.fixtures_street import MORNING, street_fixture  # noqa: F401
from tests.test_sign_in import ENDED_EN, ENDED_ZH
from tests.test_street_residents import closed_report
from whistle.organisation.models import Role
from whistle.web.chrome import language_return

pytestmark = pytest.mark.django_db

HOTLINE = "/dispatch/hotline/"
IMPORT = "/dispatch/hotline/import/"


def switch_target(html: str) -> str:
    form = re.search(r'<form class="language-switch".*?</form>', html, re.S)
    assert form, "no language switch on the page"
    found = re.search(r'name="next" value="([^"]*)"', form.group(0))
    assert found
    return found.group(1).replace("&amp;", "&")


def switch_to_english(client: Client, target: str) -> str:
    """Press the switch's English button; where it leads."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code == 302
    return response["Location"]


def test_after_a_refused_import_the_switch_returns_to_the_hotline_page(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        refused = client.post(
            IMPORT + "?township=110101015",
            {"export": SimpleUploadedFile("export.pdf", b"%PDF-1.4 not a table")},
            HTTP_REFERER="http://testserver" + HOTLINE + "?township=110101015",
        )
        assert refused.status_code == 200
        assert 'class="form-errors"' in refused.content.decode()
        target = switch_target(refused.content.decode())
        assert target == HOTLINE + "?township=110101015"
        landed = switch_to_english(client, target)
        assert landed == target
        page = client.get(landed)
    assert page.status_code == 200
    assert "Work orders" in page.content.decode()


def test_after_a_refused_import_sent_again_from_its_answer_the_switch_returns_to_the_hotline_page(
    client, whistle_city
):
    client.force_login(whistle_city.dispatcher)
    answer = "http://testserver" + IMPORT + "?township=110101015"
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        for referer in ("http://testserver" + HOTLINE + "?township=110101015", answer, answer):
            refused = client.post(
                IMPORT + "?township=110101015",
                {"export": SimpleUploadedFile("export.pdf", b"%PDF-1.4 not a table")},
                HTTP_REFERER=referer,
            )
            assert refused.status_code == 200
            assert 'class="form-errors"' in refused.content.decode()
        landed = switch_to_english(client, switch_target(refused.content.decode()))
        page = client.get(landed)
    assert page.status_code == 200
    assert "Work orders" in page.content.decode()
    assert client.get(IMPORT + "?township=110101015").status_code == 405


def test_after_a_refused_appointment_sent_again_the_switch_returns_to_the_chiefs_page(
    client, small_city
):
    office = make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan)
    client.force_login(office)
    appoint = reverse("lanes:appoint", args=[small_city.renmin_lane.pk])
    page = reverse("lanes:appointments", args=[small_city.renmin_lane.pk])
    bad = {"username": "nobody", "role": "lane_chief", "starts_on": "2026-08-16"}
    refused = client.post(appoint, bad, HTTP_REFERER="http://testserver" + page)
    refused = client.post(appoint, bad, HTTP_REFERER="http://testserver" + appoint)
    assert refused.status_code == 400
    target = switch_target(refused.content.decode())
    assert target == page
    assert client.get(switch_to_english(client, target)).status_code == 200


def test_the_switch_returns_to_the_form_page_the_view_names_else_the_referer_else_home(
    whistle_city,
):
    def sent(referer: str = "") -> HttpRequest:
        """A form sent to an address that takes forms only, from the page `referer` names."""
        headers = {"Referer": referer} if referer else {}
        return RequestFactory().post(IMPORT, headers=headers)

    elsewhere = "https://example.com/dispatch/hotline/"
    assert language_return(sent(elsewhere), HOTLINE + "?township=1") == HOTLINE + "?township=1"
    assert language_return(sent(), "https://example.com/") == "/"
    assert language_return(sent(elsewhere), "//example.com/x") == "/"
    assert language_return(sent("http://testserver/duty/"), "") == "/duty/"
    assert language_return(sent(elsewhere)) == "/"
    assert language_return(sent()) == "/"
    opened = RequestFactory().get(HOTLINE, {"township": "1"})
    assert language_return(opened, "/duty/") == HOTLINE + "?township=1"


def test_on_a_page_opened_by_a_link_the_switch_returns_to_it(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        page = client.get(HOTLINE, {"township": "110101015"})
        target = switch_target(page.content.decode())
        assert target == HOTLINE + "?township=110101015"
        assert switch_to_english(client, target) == target


def test_after_a_refused_rating_sent_again_the_switch_returns_to_the_case_page(client, street):
    with time_machine.travel(MORNING, tick=False):
        report = closed_report(street)
        follow = f"/report/follow/{report.case.reference}/"
        for referer in (f"{follow}?key=not-the-key", f"{follow}rate/"):
            refused = client.post(
                follow + "rate/",
                {"rating": "1", "key": "not-the-key"},
                HTTP_REFERER=f"http://testserver{referer}",
            )
            assert refused.status_code == 403
        target = switch_target(refused.content.decode())
        assert target == f"{follow}?key=not-the-key"
        assert client.get(switch_to_english(client, target)).status_code == 200
        # The address of the refused form itself takes forms only.
        assert client.get(follow + "rate/").status_code == 405


def switched_page(client: Client, address: str) -> str:
    """Open `address` (in Chinese), press the switch's English button, and follow it."""
    target = switch_target(client.get(address).content.decode())
    landed = switch_to_english(client, target)
    assert landed == target
    page = client.get(landed)
    assert page.status_code == 200
    return page.content.decode()


def test_a_visitor_never_signed_in_switches_language_on_every_public_page_untold_of_a_session(
    client, street
):
    with time_machine.travel(MORNING, tick=False):
        report = closed_report(street)
        follow = f"/report/follow/{report.case.reference}/?key={report.rating_key}"
        for address, english in (
            ("/accounts/login/", "Sign in"),
            ("/accounts/login/?next=/inbox/", "Sign in"),
            ("/report/", "Report a problem"),
            ("/report/follow/", "Follow"),
            (follow, "Follow"),
        ):
            client.cookies["django_language"] = "zh-hans"
            page = switched_page(client, address)
            assert 'lang="en"' in page, address
            assert english in page, address
            assert ENDED_EN not in page and ENDED_ZH not in page, address


def test_a_person_whose_session_lapsed_is_told_so_in_the_language_switched_to(client, whistle_city):
    client.force_login(whistle_city.dispatcher)
    with time_machine.travel(beijing(2026, 5, 12, 9, 0), tick=False):
        target = switch_target(client.get(HOTLINE).content.decode())
        # The browser dropped the session's cookie when the session lapsed.
        del client.cookies["sessionid"]
        sign_in = client.get(switch_to_english(client, target))
        assert sign_in.status_code == 302
        page = client.get(sign_in["Location"]).content.decode()
    assert page.count(ENDED_EN) == 1
    assert ENDED_ZH not in page
