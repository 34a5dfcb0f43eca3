"""A resident changes their mobile phone on a phone: from the settings page to the code sent
to the new number, which the page takes, with the page fitting the screen throughout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in, submit
from tests.conftest import make_person
from tests.gateways import RECORDING_SMS, RecordingSms
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
    settings.WHISTLE_SMS_BACKEND = RECORDING_SMS
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
    other = box(page, "#contact-phone details.contact-other > summary")
    assert min(b["height"] for b in (confirm, again, keep, other)) >= 44
    assert again["y"] - (confirm["y"] + confirm["height"]) >= 12
    assert keep["y"] - (again["y"] + again["height"]) >= 12
    assert other["y"] - (keep["y"] + keep["height"]) >= 24
    # One flow while the code waits: another number's form stays folded until asked for.
    expect(page.locator("#id_phone-address")).to_be_hidden()
    expect(page.locator("#contact-phone form[action$='/give-up/'] button")).to_have_text(
        "保留原号码"
    )
    page.click("#contact-phone details.contact-other > summary")
    expect(page.locator("#id_phone-address")).to_be_visible()
    assert fits_the_screen(page)
    shots(page, "another-number", full_page=True)
    code = re.search(r"\d{6}", RecordingSms.sent[-1].text)[0]  # type: ignore[index]
    page.fill("#id_phone-code-code", code)
    submit(page, "#contact-phone form[action$='/confirm/'] button")
    expect(page.locator("body")).to_contain_text("今后本系统将通过 13812345678 联系您。")
    assert fits_the_screen(page)
    shots(page, "changed", full_page=True)
    assert Person.objects.get(pk=resident.pk).phone == "13812345678"
    RecordingSms.sent.clear()


def test_in_the_demo_a_resident_with_no_number_yet_reads_the_code_on_the_page(
    settings, new_page, shots
):
    settings.WHISTLE_DEMO_MODE = True
    settings.WHISTLE_SMS_BACKEND = "console"
    resident = make_person("first-number", Role.RESIDENT)
    page = new_page(PHONE)
    sign_in(page, "first-number")
    page.goto("/accounts/contact/")
    expect(page.locator("#contact-phone")).to_contain_text("资料中还没有手机号码。")
    page.fill("#id_phone-address", "13812345678")
    submit(page, "#contact-phone form[action$='/send/'] button")
    notice = page.locator(".message-warning")
    expect(notice).to_contain_text("演示模式：短信未真正发出，验证码为")
    expect(page.locator(".message-success")).to_contain_text("本系统不会向您发送短信")
    expect(page.locator("#contact-phone form[action$='/give-up/'] button")).to_have_text("取消更改")
    assert fits_the_screen(page)
    shots(page, "demo-code", full_page=True)
    code = re.search(r"\d{6}", notice.inner_text())[0]  # type: ignore[index]
    page.fill("#id_phone-code-code", code)
    submit(page, "#contact-phone form[action$='/confirm/'] button")
    expect(page.locator("body")).to_contain_text("今后本系统将通过 13812345678 联系您。")
    assert Person.objects.get(pk=resident.pk).phone == "13812345678"
