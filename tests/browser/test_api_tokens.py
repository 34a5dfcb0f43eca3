"""A new API token is shown once with a button that copies it (static/whistle/copy.js)."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import sign_in, submit
from tests.conftest import build_small_city, make_person
from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.organisation.models import Person, Role, RoleAssignment

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


def test_choosing_the_person_offers_only_their_roles_in_the_admin(new_page, live_server):
    city = build_small_city()
    chosen = make_person("hotline-110101", Role.CHIEFS_OFFICE, jurisdiction=city.district)
    other = make_person("hotline-other", Role.DISPATCHER, jurisdiction=city.longtan)
    admin = Person.objects.create_superuser("root", password="pw-123456")
    client = Client()
    client.force_login(admin)
    page = new_page()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/admin/api/apitoken/add/")
    page.fill("#id_name", "12345 平台")
    expect(page.locator("input[name=roles]")).to_have_count(0)
    page.click(".field-person .select2-selection")
    page.keyboard.type("hotline-110101")
    with page.expect_navigation():
        page.locator(".select2-results__option", has_text="hotline-110101").click()
    own = RoleAssignment.objects.get(person=chosen)
    expect(page.locator("input[name=roles]")).to_have_count(1)
    expect(page.locator(f"input[name=roles][value='{own.pk}']")).to_have_count(1)
    assert not RoleAssignment.objects.filter(person=other, pk=own.pk).exists()
    expect(page.locator("#id_name")).to_have_value("12345 平台")
