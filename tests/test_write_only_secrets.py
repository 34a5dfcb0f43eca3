"""Secrets are written, shown once, and never read back: webhook signing secrets (kept as
they are, because every delivery is signed with them), group robots' keys and API tokens
(of which only a digest is kept)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from whistle.api import tokens
from whistle.api.models import ApiToken
from whistle.notifications.models import GroupRobot, WebhookEndpoint

LIST = "/admin/notifications/webhookendpoint/"


def _endpoint() -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="区网格化中心", url="https://grid.example/h")


def test_a_new_webhook_secret_is_shown_once_on_the_page_after_saving(db, admin_client):
    response = admin_client.post(
        f"{LIST}add/",
        {
            "name": "区网格化中心",
            "url": "https://grid.example/h",
            "is_active": "on",
            "event_kinds": "[]",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    endpoint = WebhookEndpoint.objects.get()
    html = response.content.decode()
    assert response.status_code == 200 and len(endpoint.secret) >= 40
    assert endpoint.secret in html and "不会再显示" in html
    assert "no-store" in response["Cache-Control"]
    for url in (LIST, f"{LIST}{endpoint.pk}/change/"):
        assert endpoint.secret not in admin_client.get(url).content.decode(), url


def test_the_webhook_change_page_offers_no_field_to_read_or_type_the_secret(db, admin_client):
    endpoint = _endpoint()
    page = admin_client.get(f"{LIST}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page
    assert 'name="secret"' not in page
    before = endpoint.secret
    admin_client.post(
        f"{LIST}{endpoint.pk}/change/",
        {"name": "新名字", "url": "https://grid.example/h", "event_kinds": "[]", "secret": "mine"},
    )
    endpoint.refresh_from_db()
    assert endpoint.name == "新名字" and endpoint.secret == before


def test_renewing_a_webhook_secret_shows_the_new_one_once(db, admin_client):
    endpoint = _endpoint()
    old = endpoint.secret
    response = admin_client.post(
        LIST, {"action": "renew_secret", "_selected_action": [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    html = response.content.decode()
    assert endpoint.secret != old
    assert endpoint.secret in html and old not in html
    assert "no-store" in response["Cache-Control"]
    assert endpoint.secret not in admin_client.get(f"{LIST}{endpoint.pk}/change/").content.decode()


def test_the_robot_list_never_shows_a_key_or_a_secret(admin_client, small_city):
    robot = GroupRobot.objects.create(
        name="龙潭派出所指挥群",
        platform=GroupRobot.Platform.DINGTALK,
        department=small_city.police,
        key="robot-token-4711",
        secret="SEC-robot-secret-0815",
    )
    for url in (
        "/admin/notifications/grouprobot/",
        f"/admin/notifications/grouprobot/{robot.pk}/change/",
    ):
        html = admin_client.get(url).content.decode()
        assert "robot-token-4711" not in html and "robot-secret-0815" not in html, url


def test_a_service_tokens_secret_and_digest_never_appear_in_the_admin(
    admin_client, admin_user, small_city
):
    issued = tokens.issue_token(admin_user, person=admin_user, name="区平台")
    token: ApiToken = issued.token
    for url in ("/admin/api/apitoken/", f"/admin/api/apitoken/{token.pk}/change/"):
        html = admin_client.get(url).content.decode()
        assert issued.secret not in html and token.digest not in html, url
    assert token.prefix == issued.secret[: len(token.prefix)]


def test_no_form_made_from_the_webhook_model_carries_its_secret():
    assert not WebhookEndpoint._meta.get_field("secret").editable


def test_a_new_service_token_is_shown_once_on_the_page_after_saving_and_only_its_digest_kept(
    admin_client, admin_user, small_city
):
    response = admin_client.post(
        "/admin/api/apitoken/add/",
        {
            "name": "区城市运行平台",
            "person": admin_user.pk,
            "expires_at_0": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "expires_at_1": "00:00:00",
        },
    )
    token = ApiToken.objects.get(name="区城市运行平台")
    html = response.content.decode()
    secret = html.split("<code>", 1)[1].split("</code>", 1)[0]
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert tokens.digest_of(secret) == token.digest
    assert secret not in response.cookies.get("messages", "")
    for url in ("/admin/api/apitoken/", f"/admin/api/apitoken/{token.pk}/change/"):
        assert secret not in admin_client.get(url).content.decode(), url
