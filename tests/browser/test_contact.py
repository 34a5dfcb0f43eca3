"""A resident changes their mobile phone on a phone: from the settings page to the code sent
to the new number, which the page takes, with the page fitting the screen throughout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in, submit
from tests.conftest import make_person
from tests.test_contact_change import RecordingSms
from whistle.organisation.models import Person, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def box(page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return found


def test_a_resident_changes_their_phone_on_a_phone_by_the_code_sent_to_it(
    settings, new_page, shots
):
    settings.WHISTLE_SMS_BACKEND = "tests.test_contact_change.RecordingSms"
    RecordingSms.sent.clear()
    resident = make_person("phone-resident", Role.RESIDENT)
    resident.phone = "13900000001"
    resident.save(update_fields=["phone"])
    page = new_page(PHONE)
    sign_in(page, "phone-resident")
    page.goto("/settings/")
    submit(page, "#change-contact")
    page.fill("#id_phone-address", "12812345678")
    submit(page, "#contact-phone button[type=submit]")
    expect(page.locator("#contact-phone .field-errors")).to_contain_text("以 13 至 19 开头")
    page.fill("#id_phone-address", "138 1234 5678")
    submit(page, "#contact-phone form[action$='/send/'] button")
    expect(page.locator("#contact-phone")).to_contain_text("待验证： 13812345678")
    assert fits_the_screen(page)
    shots(page, "code-sent", full_page=True)
    # Each button a full touch target, none touching the next or the new number's field.
    confirm = box(page, "#contact-phone form[action$='/confirm/'] button")
    again = box(page, "#contact-phone form[action$='/again/'] button")
    keep = box(page, "#contact-phone form[action$='/give-up/'] button")
    field = box(page, "#contact-phone label[for='id_phone-address']")
    assert min(b["height"] for b in (confirm, again, keep)) >= 44
    assert again["y"] - (confirm["y"] + confirm["height"]) >= 12
    assert keep["y"] - (again["y"] + again["height"]) >= 12
    assert field["y"] - (keep["y"] + keep["height"]) >= 24
    code = re.search(r"\d{6}", RecordingSms.sent[-1].text)[0]  # type: ignore[index]
    page.fill("#id_phone-code-code", code)
    submit(page, "#contact-phone form[action$='/confirm/'] button")
    expect(page.locator("body")).to_contain_text("今后本系统将通过 13812345678 联系您。")
    assert fits_the_screen(page)
    shots(page, "changed", full_page=True)
    assert Person.objects.get(pk=resident.pk).phone == "13812345678"
    RecordingSms.sent.clear()
