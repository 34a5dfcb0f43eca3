"""A lane's public page on a 360 × 740 phone, and its signboard on screen and printed: the QR
code read from the screen opens the lane's page, each size prints on one sheet of its paper.
The lane's chiefs page on a phone, where the chiefs' office records the appointment of a chief
given the post in the administration."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image

from tests.browser.conftest import PHONE, sign_in
from tests.browser.test_street import fits_the_phone
from tests.conftest import make_person
from tests.fixtures_street import street_fixture  # noqa: F401
from whistle.organisation.models import Role, RoleAssignment
from whistle.patrols.models import ChiefAppointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# PDF page sizes in points (1/72 inch): A4 is 210 × 297 mm, A3 297 × 420 mm.
PAPER_POINTS = {"a4": (595.3, 841.9), "a3": (841.9, 1190.6)}


def publish_numbers(street) -> None:
    RoleAssignment.objects.filter(person=street.lane_chief).update(public_phone="010-6711 2345")
    RoleAssignment.objects.filter(person=street.street_chief).update(public_phone="010-6711 2300")
    for person, name in ((street.lane_chief, "刘强"), (street.street_chief, "陈静")):
        person.name = name
        person.save(update_fields=["name"])


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The width and height of each page of a PDF Chromium printed."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_anyone_opens_a_lane_on_a_phone_and_reports_a_problem_in_it(new_page, shots, street):
    publish_numbers(street)
    page = new_page(PHONE)

    page.goto(street.lane.get_absolute_url())

    assert page.locator("h1").inner_text() == "人民市场东巷"
    holders = page.locator(".lane-holders").inner_text()
    assert "巷长" in holders and "刘强" in holders and "010-6711 2345" in holders
    assert page.locator(".lane-standards li").count() == 13
    fits_the_phone(page)
    shots(page, "1-lane-page")
    shots(page, "2-lane-page-whole", full_page=True)

    page.click("[data-report-lane]")
    page.wait_for_function(
        "() => document.querySelector('[data-place-chosen]').textContent.includes('人民市场东巷')"
    )
    assert page.locator("[data-place-chosen]").inner_text() == "将上报至：龙潭街道 · 人民市场东巷。"
    page.locator("#report-map").scroll_into_view_if_needed()
    shots(page, "3-report-form-on-the-lane")


@pytest.mark.parametrize("size", ["a4", "a3"])
def test_the_signboards_qr_code_read_from_the_screen_opens_the_lane_page(
    new_page, shots, street, live_server, settings, size
):
    settings.SITE_URL = live_server.url
    publish_numbers(street)
    page = new_page({"width": 1280, "height": 1800})
    page.goto(f"/lanes/{street.lane.pk}/signboard/{size}/")

    path = shots(page, f"1-signboard-{size}", full_page=True)

    read = zxingcpp.read_barcodes(Image.open(path))
    assert [r.text for r in read] == [f"{live_server.url}/lanes/{street.lane.pk}/"]
    page.goto(read[0].text)
    assert page.locator("h1").inner_text() == "人民市场东巷"


@pytest.mark.parametrize("size", ["a4", "a3"])
def test_the_signboard_prints_on_one_sheet_of_its_paper(new_page, shots, street, size):
    publish_numbers(street)
    page = new_page({"width": 1280, "height": 1800})
    page.goto(f"/lanes/{street.lane.pk}/signboard/{size}/")
    # Its button prints.
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.click("button[data-print]")
    assert page.evaluate("() => window.printed") == 1
    page.emulate_media(media="print")
    assert not page.locator(".signboard-tools").is_visible()
    shots(page, f"1-printed-{size}", full_page=True)

    pdf = page.pdf(prefer_css_page_size=True, print_background=True)

    pages = pdf_pages(pdf)
    assert len(pages) == 1
    width, height = pages[0]
    assert (width, height) == pytest.approx(PAPER_POINTS[size], abs=1.0)


def test_the_signboard_shows_whole_on_a_phone(new_page, shots, street):
    page = new_page(PHONE)
    page.goto(f"/lanes/{street.lane.pk}/signboard/a4/")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, "1-signboard-phone", full_page=True)


def test_the_lanes_and_their_signboard_links_fit_a_finger_on_a_phone(new_page, shots, street):
    for username in ("wang-fang", "liu-qiang"):
        page = new_page(PHONE)
        sign_in(page, username)
        page.goto("/lanes/")
        sizes = page.locator(f"a[href='/lanes/{street.lane.pk}/signboard/a4/']")
        assert sizes.inner_text() == "A4"
        fits_the_phone(page)
        shots(page, username, full_page=True)


def test_the_chiefs_office_records_an_appointment_on_the_lanes_chiefs_page_on_a_phone(
    new_page, shots, street
):
    township = street.city.longtan
    township.name_en = "Longtan Subdistrict"
    township.save(update_fields=["name_en"])
    make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=township)
    page = new_page(PHONE, locale="en-GB")
    sign_in(page, "longtan-office")

    page.goto(f"/lanes/{street.lane.pk}/chiefs/")

    held = page.locator("[data-held] > p")
    assert held.all_inner_texts() == [
        "liu-qiang · Lane chief · given in the administration, not by appointment",
        "chen-jing · Street chief · given in the administration, not by appointment",
    ]
    # The separator stays on the line of the link after it: one line box for both.
    link = page.locator("[data-public-link]")
    assert link.inner_text() == "· Public page and signboard"
    assert link.evaluate("(el) => el.getClientRects().length") == 1
    assert page.locator(".lead").inner_text().startswith("Longtan Subdistrict")
    fits_the_phone(page)
    shots(page, "1-chiefs-page", full_page=True)

    row = page.locator("[data-held]").filter(has_text="liu-qiang")
    row.locator("summary").click()
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".message-success")

    assert ChiefAppointment.objects.get(person=street.lane_chief).ends_on is None
    assert "liu-qiang" in page.locator("[data-running] > li:not([data-held])").inner_text()
    assert page.locator("[data-held] > p").all_inner_texts() == [
        "chen-jing · Street chief · given in the administration, not by appointment"
    ]
    fits_the_phone(page)
    shots(page, "2-appointment-recorded", full_page=True)
