"""Two-factor sign-in (TOTP, RFC 6238): required of assessors, the chiefs' offices and
administrators, open to everyone else; set up with a QR code, proven after the password,
with one-time recovery codes."""

from __future__ import annotations

import re
from binascii import unhexlify
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.checks import run_checks
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import make_person
from tests.fixtures_web import assessor_fixture, steward_fixture  # noqa: F401  (fixtures)
from tests.totp import totp
from whistle.accounts.models import RecoveryCode
from whistle.organisation.models import Person, Role

PASSWORD = "pw-123456"
NOON = datetime(2026, 9, 14, 4, 0, 5, tzinfo=UTC)
REQUIRED = ["township_assessor", "district_assessor", "chiefs_office", "administrator"]


@pytest.fixture(autouse=True)
def _the_roles_that_require_it(settings):
    settings.WHISTLE_TWO_FACTOR_ROLES = REQUIRED
    settings.WHISTLE_DEMO_MODE = False


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def sign_in(client, person: Person):
    return client.post("/accounts/login/", {"username": person.username, "password": PASSWORD})


def code_of(device: TOTPDevice, moment: datetime) -> str:
    return totp(unhexlify(device.key), moment.timestamp())


def enrol(client, person: Person, moment: datetime) -> list[str]:
    """Set up the authenticator through the pages; the recovery codes shown."""
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    html = client.post("/accounts/two-factor/", {"code": code_of(device, moment)}).content.decode()
    return re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", html)


# RFC 6238, appendix B: the SHA-1 rows, 8 digits, key "12345678901234567890".
RFC_6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "expected"), RFC_6238_SHA1)
def test_the_tests_totp_gives_the_rfc_6238_codes(at, expected):
    assert totp(b"12345678901234567890", at, digits=8) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("at", "expected"), RFC_6238_SHA1[:4])
def test_the_server_accepts_the_rfc_6238_code_of_its_moment_and_no_other(at, expected, steward):
    device = TOTPDevice.objects.create(
        user=steward, key=b"12345678901234567890".hex(), digits=8, tolerance=0, confirmed=True
    )
    with time_machine.travel(at, tick=False):
        assert not device.verify_token(str((int(expected) + 1) % 10**8).zfill(8))
    with time_machine.travel(at + 60, tick=False):
        assert not device.verify_token(expected)
    with time_machine.travel(at + 60 + 3600, tick=False):
        # After the failures' back-off, the right code of the moment still works.
        device.refresh_from_db()
        fresh = totp(b"12345678901234567890", at + 3660, digits=8)
        assert device.verify_token(fresh)


def test_an_assessor_who_has_not_set_it_up_is_sent_to_set_it_up_before_any_page(
    client, assessor, clock
):
    response = sign_in(client, assessor)
    assert response.status_code == 302
    for url in ("/", "/assessment/", "/admin/", "/accounts/security/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/two-factor/?next="), url
    html = client.get("/accounts/two-factor/").content.decode()
    assert "您的角色要求登录时进行第二步验证" in html
    # The QR code is drawn on the server, and the key is there to type.
    assert "<svg" in html and "<path" in html
    device = TOTPDevice.objects.get(user=assessor, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/Whistle%3Ali-na?secret=")
    assert 'id="totp-secret"' in html


def test_setting_up_needs_the_apps_first_code_and_gives_ten_recovery_codes_once(
    client, assessor, clock
):
    sign_in(client, assessor)
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=assessor, confirmed=False)
    refused = client.post("/accounts/two-factor/", {"code": "000000"})
    assert "验证码不正确" in refused.content.decode()
    assert client.get("/").status_code == 302

    clock.shift(timedelta(seconds=30))
    response = client.post(
        "/accounts/two-factor/", {"code": code_of(device, NOON + timedelta(seconds=30))}
    )
    html = response.content.decode()
    codes = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "只显示这一次" in html
    assert response["Cache-Control"].startswith("max-age=0")
    # Only salted digests are stored.
    stored = list(RecoveryCode.objects.values_list("digest", flat=True))
    assert len(stored) == 10
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)
    assert client.get("/").status_code == 200


def test_after_the_password_a_page_opens_only_with_the_code_of_the_moment(client, assessor, clock):
    sign_in(client, assessor)
    enrol(client, assessor, NOON)
    client.post("/accounts/logout/")
    device = TOTPDevice.objects.get(user=assessor, confirmed=True)

    clock.shift(timedelta(minutes=5))
    now = NOON + timedelta(minutes=5)
    response = sign_in(client, assessor)
    assert client.get("/").status_code == 302
    assert client.get("/")["Location"] == "/accounts/verify/?next=%2F"
    key_before = client.session.session_key
    response = client.post(
        "/accounts/verify/", {"code": code_of(device, now), "next": "/assessment/"}
    )
    assert response.status_code == 302 and response["Location"] == "/assessment/"
    assert client.session.session_key != key_before
    assert client.get("/").status_code == 200

    # The same code does not sign in a second time.
    client.post("/accounts/logout/")
    sign_in(client, assessor)
    refused = client.post("/accounts/verify/", {"code": code_of(device, now)})
    assert refused.status_code == 200
    assert "验证码不正确，或已经用过" in refused.content.decode()


def test_a_session_waiting_for_its_code_cannot_set_up_another_authenticator(
    client, assessor, clock
):
    sign_in(client, assessor)
    enrol(client, assessor, NOON)
    client.post("/accounts/logout/")
    sign_in(client, assessor)
    response = client.get("/accounts/two-factor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/")
    assert TOTPDevice.objects.filter(user=assessor).count() == 1


def test_a_recovery_code_signs_in_once(client, assessor, clock):
    sign_in(client, assessor)
    codes = enrol(client, assessor, NOON)
    client.post("/accounts/logout/")

    sign_in(client, assessor)
    response = client.post("/accounts/verify/", {"code": codes[3].lower()})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")

    clock.shift(timedelta(minutes=1))
    sign_in(client, assessor)
    assert client.post("/accounts/verify/", {"code": codes[3]}).status_code == 200
    assert client.get("/").status_code == 302


def test_wrong_codes_count_as_failed_sign_ins_and_lock_out(client, assessor, clock, settings):
    settings.WHISTLE_LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 3
    sign_in(client, assessor)
    enrol(client, assessor, NOON)
    client.post("/accounts/logout/")
    sign_in(client, assessor)
    for _ in range(2):
        clock.shift(timedelta(minutes=2))  # past the device's own back-off
        assert client.post("/accounts/verify/", {"code": "123456"}).status_code == 200
    clock.shift(timedelta(minutes=2))
    response = client.post("/accounts/verify/", {"code": "123456"})
    assert response.status_code == 429
    assert "登录已暂停" in response.content.decode()
    # The half-signed-in session is gone.
    assert "_auth_user_id" not in client.session


def test_a_steward_signs_in_with_a_password_and_may_choose_a_second_factor(client, steward, clock):
    sign_in(client, steward)
    assert client.get("/").status_code == 200
    html = client.get("/accounts/security/").content.decode()
    assert "设置两步验证" in html
    codes = enrol(client, steward, NOON)
    assert len(codes) == 10
    client.post("/accounts/logout/")
    sign_in(client, steward)
    assert client.get("/")["Location"].startswith("/accounts/verify/")


def test_only_those_it_is_not_required_of_may_turn_it_off(client, steward, assessor, clock):
    sign_in(client, steward)
    enrol(client, steward, NOON)
    client.post("/accounts/security/two-factor-off/")
    assert not TOTPDevice.objects.filter(user=steward).exists()
    client.post("/accounts/logout/")

    clock.shift(timedelta(minutes=1))
    sign_in(client, assessor)
    enrol(client, assessor, NOON + timedelta(minutes=1))
    response = client.post("/accounts/security/two-factor-off/", follow=True)
    assert "您的角色要求两步验证，不能关闭" in response.content.decode()
    assert TOTPDevice.objects.filter(user=assessor, confirmed=True).exists()


def test_every_superuser_and_each_listed_role_must_use_it(small_city):
    from whistle.accounts.twofactor import required

    admin = Person.objects.create_superuser("root", password=PASSWORD)
    chiefs = make_person("wang-hy", Role.CHIEFS_OFFICE, jurisdiction=small_city.district)
    township = make_person("zhao-j", Role.TOWNSHIP_ASSESSOR, jurisdiction=small_city.longtan)
    dispatcher = make_person("sun-xw", Role.DISPATCHER, jurisdiction=small_city.longtan)
    assert [required(p) for p in (admin, chiefs, township, dispatcher)] == [
        True,
        True,
        True,
        False,
    ]


def test_demo_mode_waives_it_for_the_demo_logins_only(small_city, settings):
    from whistle.accounts.twofactor import required

    demo = make_person(
        "district-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district
    )
    other = make_person("li-na", Role.DISTRICT_ASSESSOR, jurisdiction=small_city.district)
    assert required(demo) and required(other)
    settings.WHISTLE_DEMO_MODE = True
    assert not required(demo)
    assert required(other)


def test_check_deploy_warns_while_demo_mode_is_on(settings):
    assert "whistle.W002" not in [m.id for m in run_checks(include_deployment_checks=True)]
    settings.WHISTLE_DEMO_MODE = True
    assert "whistle.W002" in [m.id for m in run_checks(include_deployment_checks=True)]
