"""A new API token is shown once with a button that copies it (static/whistle/copy.js)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in, submit
from tests.conftest import build_small_city, make_person
from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.organisation.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_copy_button_puts_the_new_token_on_the_clipboard(new_page):
    city = build_small_city()
    make_person("token-owner", Role.DISPATCHER, jurisdiction=city.longtan)
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    sign_in(page, "token-owner")
    page.goto("/settings/api-tokens/")
    page.fill("#id_name", "值班手机")
    submit(page, "form.form button[type=submit]")
    button = page.get_by_role("button", name="复制令牌")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#new-token-secret-copied")).to_have_text("已复制。")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert tokens.digest_of(copied) == ApiToken.objects.get(name="值班手机").digest
