"""Forms that take several photos, in a real browser: the officer's result on a 390 × 844
phone and the township's check on the desk choose them with the page's own button, in the
page's language, and show how many, which, and a preview of each that can be taken out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_menu, sign_in, standing_at, submit
from tests.fixtures_cases import (
    ON_THE_LANE,
    officer_on_site,
    png_bytes,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.models import Event
from whistle.cases.trail import EventKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}

WORDS = {
    "zh-CN": {
        "button": "拍照或选择照片",
        "more": "继续添加照片",
        "browser": "选择文件",
        "two": "已选 2 张照片",
        "three": "已选 3 张照片",
        "remove": "移除",
    },
    "en-US": {
        "button": "Take or choose photos",
        "more": "Add more photos",
        "browser": "Choose Files",
        "two": "2 photos chosen",
        "three": "3 photos chosen",
        "remove": "Remove",
    },
}


def photo(name: str, color: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes((320, 240), color)}


def in_english(page, locale: str) -> None:
    """A browser asking for English gets the pages in English; the switch is there too."""
    if locale == "en-US" and page.evaluate("document.documentElement.lang") != "en":
        open_menu(page)
        submit(page, ".language-switch button[value=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose_and_take_out(page, form, words: dict[str, str], label: str, shot) -> None:
    """The field shows the page's button, not the browser's; two photos and then a third
    are chosen (the third adds to them), the second is taken out."""
    field = form.locator(".photo-field")
    button = field.locator("label.photo-button")
    assert button.inner_text().strip() == words["button"]
    assert button.is_visible()
    assert words["browser"] not in form.inner_text()
    file_input = field.locator("input[type=file]")
    assert file_input.evaluate("el => el.multiple && getComputedStyle(el).opacity") == "0"
    # The input is named by the field's title and its button, and labelled by the button.
    assert file_input.evaluate("el => el.labels[0].textContent.trim()") == words["button"]
    named = file_input.evaluate(
        "el => el.getAttribute('aria-labelledby').split(' ')"
        ".map((id) => document.getElementById(id).textContent.trim()).join(' ')"
    )
    assert named == f"{label} {words['button']}"
    file_input.focus()
    assert button.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    field.scroll_into_view_if_needed()
    shot("1-empty")

    file_input.set_input_files([photo("before.png", "red"), photo("after.png", "green")])
    status = field.locator("[data-photo-name]")
    expect(status).to_have_text(words["two"], use_inner_text=True)
    items = field.locator(".photo-item")
    expect(items).to_have_count(2)
    page.wait_for_function(
        "(field) => [...field.querySelectorAll('.photo-item img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)",
        arg=field.element_handle(),
    )
    assert button.inner_text().strip() == words["more"]
    # A third photo (a phone's camera gives one at a time) adds to the two.
    file_input.set_input_files([photo("sign.png", "blue")])
    expect(status).to_have_text(words["three"], use_inner_text=True)
    expect(items.locator(".photo-item-name")).to_have_text(
        ["before.png", "after.png", "sign.png"], use_inner_text=True
    )
    assert file_input.evaluate("el => el.files.length") == 3
    for box in items.locator(".photo-remove").all():
        assert box.inner_text() == words["remove"]
        assert box.bounding_box()["height"] >= 44
    field.scroll_into_view_if_needed()
    assert no_sideways_scroll(page)
    shot("2-three-chosen")

    items.nth(1).locator(".photo-remove").click()
    expect(status).to_have_text(words["two"], use_inner_text=True)
    expect(items.locator(".photo-item-name")).to_have_text(
        ["before.png", "sign.png"], use_inner_text=True
    )
    assert file_input.evaluate("el => [...el.files].map((f) => f.name)") == [
        "before.png",
        "sign.png",
    ]
    # The focus goes to the next photo's button, not back to the top of the page.
    assert page.evaluate("document.activeElement.closest('.photo-item') !== null")
    shot("3-one-taken-out")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_officer_s_result_takes_several_photos_with_the_page_s_own_button(
    new_page, shots, whistle_city, locale
):
    city = whistle_city
    case, summons = officer_on_site(city)
    page = new_page(
        PHONE_390,
        locale=locale,
        **standing_at(ON_THE_LANE),
    )
    sign_in(page, "urban-officer")
    in_english(page, locale)
    page.goto(f"/cases/{case.reference}/")
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    form = page.locator(f"#op-result-{summons.uuid.hex}")
    label = "处置结果照片" if locale == "zh-CN" else "Photos of the result"
    choose_and_take_out(
        page, form, WORDS[locale], label, lambda step: shots(page, f"result-{step}")
    )

    form.locator("textarea").fill("游商已劝离，巷口已清理")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".message-success")
    result = Event.objects.get(summons=summons, kind=EventKind.RESULT)
    assert len(result.data["photos"]) == 2


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_the_township_s_check_takes_several_photos_with_the_page_s_own_button(
    new_page, shots, whistle_city, locale
):
    city = whistle_city
    case, summons = officer_on_site(city)
    actions.report_result(city.urban_officer, summons, result="游商已劝离")
    actions.mark_handled(city.dispatcher, case)
    page = new_page(DESK, locale=locale)
    sign_in(page, "longtan-dispatcher")
    in_english(page, locale)
    page.goto(f"/cases/{case.reference}/")
    form = page.locator(f"#op-check_passed-{case.reference}")
    label = "核查照片" if locale == "zh-CN" else "Photos of the check"
    choose_and_take_out(page, form, WORDS[locale], label, lambda step: shots(page, f"check-{step}"))

    form.locator("button[type=submit]").click()
    page.wait_for_selector(".message-success")
    checked = Event.objects.get(case=case, kind=EventKind.CHECK_PASSED)
    assert len(checked.data["photos"]) == 2
