"""A person changes their own mobile phone and e-mail address: the new one counts only once the
code sent to it comes back, within ten minutes and five tries, with codes rate-limited; the
old one stays until then, and the code is kept nowhere readable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail

from tests.conftest import make_person
from whistle.accounts import contact
from whistle.accounts.models import ContactLogEntry, PendingContact
from whistle.cases.actions.personal_data import erase_private_person
from whistle.notifications.errors import DeliveryError
from whistle.notifications.sms import SmsMessage
from whistle.organisation.models import Person, Role

PAGE = "/accounts/contact/"
START = datetime.fromisoformat("2026-03-10T09:00:00+08:00")


class RecordingSms:
    sent: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        RecordingSms.sent.append(message)


class RefusingSms:
    def send(self, message: SmsMessage) -> None:
        raise DeliveryError("gateway busy: code 503")


@pytest.fixture(autouse=True)
def _gateways(settings) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WHISTLE_SMS_BACKEND = "tests.test_contact_change.RecordingSms"
    RecordingSms.sent.clear()
    yield
    RecordingSms.sent.clear()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def resident(db) -> Person:
    person = make_person("contact-resident", Role.RESIDENT)
    person.phone = "13900000001"
    person.save(update_fields=["phone"])
    return person


def last_code() -> str:
    found = re.search(r"\b(\d{6})\b", RecordingSms.sent[-1].text)
    assert found is not None
    return found[1]


def html_of(response) -> str:
    return response.content.decode()


def steps(person: Person) -> list[str]:
    return list(
        ContactLogEntry.objects.filter(person=person)
        .order_by("at", "pk")
        .values_list("step", flat=True)
    )


def test_a_resident_changes_their_phone_by_the_code_sent_to_the_new_number(client, resident, clock):
    client.force_login(resident)
    response = client.post(f"{PAGE}phone/send/", {"phone-address": "138 1234 5678"})
    assert response.status_code == 302
    message = RecordingSms.sent[-1]
    assert message.phone == "13812345678"  # the new number, never the old one
    assert message.kind == contact.CODE_KIND and message.payload["code"] == last_code()
    assert "10 分钟内有效" in message.text
    resident.refresh_from_db()
    assert resident.phone == "13900000001"  # the old number stays until the code comes back
    page = html_of(client.get(PAGE))
    assert "验证码已发送至 13812345678" in page and "09:10" in page
    settings_page = html_of(client.get("/settings/"))
    assert "13900000001" in settings_page and "有新的号码或地址正在等待验证" in settings_page

    response = client.post(f"{PAGE}phone/confirm/", {"phone-code-code": last_code()})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.phone == "13812345678"
    assert not PendingContact.objects.filter(person=resident).exists()
    assert steps(resident) == ["code_sent", "changed"]
    assert "今后本系统将通过 13812345678 联系您。" in html_of(client.get(PAGE))


def test_a_staff_members_new_email_is_checked_by_mail_to_the_new_address(db, clock):
    officer = make_person("contact-officer", Role.DEPARTMENT_OFFICER)
    officer.email = "old@cgw.example"
    officer.save(update_fields=["email"])
    sent = contact.send_code(officer, "email", "  New@CGW.Example ")
    assert sent.address == "New@cgw.example"
    assert mail.outbox[-1].to == ["New@cgw.example"]
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))[1]  # type: ignore[index]
    officer.refresh_from_db()
    assert officer.email == "old@cgw.example"
    assert contact.confirm(officer, "email", code) == "New@cgw.example"
    officer.refresh_from_db()
    assert officer.email == "New@cgw.example"


def test_the_code_is_kept_only_as_a_keyed_digest_and_the_log_holds_neither_code_nor_address(
    resident, clock
):
    contact.send_code(resident, "phone", "13812345678")
    code = last_code()
    pending = PendingContact.objects.get(person=resident)
    assert code not in pending.digest and code not in pending.salt
    assert pending.digest == contact.code_digest(pending, code)
    assert pending.expires_at - pending.sent_at == timedelta(minutes=10)
    entry = ContactLogEntry.objects.get(person=resident)
    kept = " ".join(str(getattr(entry, f.attname)) for f in entry._meta.concrete_fields)
    assert code not in kept and "13812345678" not in kept and "13900000001" not in kept


def test_a_wrong_code_counts_and_the_fifth_voids_the_code(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(contact.ContactRefused, match=f"验证码不正确，还可尝试 {left} 次。"):
            contact.confirm(resident, "phone", wrong)
    with pytest.raises(contact.ContactRefused, match="已输错 5 次"):
        contact.confirm(resident, "phone", wrong)
    # Even the right code no longer works.
    with pytest.raises(contact.ContactRefused, match="已输错 5 次"):
        contact.confirm(resident, "phone", code)
    resident.refresh_from_db()
    assert resident.phone == "13900000001"
    assert steps(resident) == ["code_sent", "too_many_tries"]


def test_a_code_works_for_ten_minutes_and_not_a_moment_longer(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    first = last_code()
    clock.shift(timedelta(minutes=10))
    with pytest.raises(contact.ContactRefused, match="验证码已过期"):
        contact.confirm(resident, "phone", first)
    assert PendingContact.objects.get(person=resident).wrong_tries == 0  # expiry is no try
    contact.send_again(resident, "phone")
    clock.shift(timedelta(minutes=9, seconds=59))
    with pytest.raises(contact.ContactRefused, match="不正确"):
        contact.confirm(resident, "phone", first)  # the earlier code stopped working
    assert contact.confirm(resident, "phone", last_code()) == "13812345678"


def test_codes_are_rate_limited_whatever_address_they_go_to(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    with pytest.raises(contact.ContactRefused, match="请 60 秒后再获取"):
        contact.send_code(resident, "email", "me@example.com")
    clock.shift(timedelta(seconds=45))
    with pytest.raises(contact.ContactRefused, match="请 15 秒后再获取"):
        contact.send_again(resident, "phone")
    for _n in range(4):
        clock.shift(timedelta(seconds=60))
        contact.send_again(resident, "phone")
    assert len(RecordingSms.sent) == 5
    clock.shift(timedelta(seconds=60))
    with pytest.raises(contact.ContactRefused, match="一小时内已获取 5 次验证码，请于 10:00 后"):
        contact.send_code(resident, "phone", "13712345678")
    assert len(RecordingSms.sent) == 5
    assert PendingContact.objects.get(person=resident).address == "13812345678"
    clock.move_to(START + timedelta(hours=1, seconds=1))
    contact.send_code(resident, "phone", "13712345678")
    assert RecordingSms.sent[-1].phone == "13712345678"


@pytest.mark.parametrize(
    ("kind", "typed", "kept"),
    [
        ("phone", "+86 138-1234-5678", "13812345678"),
        ("phone", "0086 (138) 1234 5678", "13812345678"),
        ("phone", "12812345678", None),
        ("phone", "1381234567", None),
        ("phone", "138123456789", None),
        ("phone", "010-65123456", None),
        ("email", "name@example.com", "name@example.com"),
        ("email", "name@", None),
        ("email", "name example.com", None),
    ],
)
def test_only_mainland_mobiles_and_real_email_addresses_are_taken(kind, typed, kept):
    if kept is None:
        with pytest.raises(contact.ContactRefused):
            contact.clean_address(kind, typed)
    else:
        assert contact.clean_address(kind, typed) == kept


def test_a_malformed_number_is_refused_on_the_page_in_the_persons_language_and_nothing_kept(
    client, resident, clock
):
    client.force_login(resident)
    response = client.post(f"{PAGE}phone/send/", {"phone-address": "12812345678"})
    assert response.status_code == 400
    assert "请输入中国大陆手机号码：以 13 至 19 开头的 11 位数字" in html_of(response)
    english = client.post(
        f"{PAGE}email/send/", {"email-address": "name@"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Enter an e-mail address such as name@example.com." in html_of(english)
    assert not RecordingSms.sent and not mail.outbox
    assert not PendingContact.objects.exists() and not ContactLogEntry.objects.exists()


def test_wrong_and_expired_codes_are_told_on_the_page(client, resident, clock):
    client.force_login(resident)
    client.post(f"{PAGE}phone/send/", {"phone-address": "13812345678"})
    wrong = f"{(int(last_code()) + 1) % 1_000_000:06d}"
    response = client.post(f"{PAGE}phone/confirm/", {"phone-code-code": wrong})
    assert response.status_code == 400 and "验证码不正确，还可尝试 4 次。" in html_of(response)
    clock.shift(timedelta(minutes=11))
    response = client.post(
        f"{PAGE}phone/confirm/", {"phone-code-code": last_code()}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "This code has expired (after 10 minutes). Ask for a new one." in html_of(response)


def test_the_address_already_on_the_profile_is_refused(resident, clock):
    with pytest.raises(contact.ContactRefused, match="这已是您资料中的号码或地址"):
        contact.send_code(resident, "phone", "139 0000 0001")
    assert not RecordingSms.sent


def test_a_gateway_that_refuses_the_code_leaves_nothing_written(settings, resident, clock):
    settings.WHISTLE_SMS_BACKEND = "tests.test_contact_change.RefusingSms"
    with pytest.raises(contact.ContactRefused, match="验证码暂时无法发送"):
        contact.send_code(resident, "phone", "13812345678")
    assert not PendingContact.objects.exists() and not ContactLogEntry.objects.exists()


def test_giving_up_keeps_the_old_address_and_voids_the_code(client, resident, clock):
    client.force_login(resident)
    client.post(f"{PAGE}phone/send/", {"phone-address": "13812345678"})
    code = last_code()
    assert client.post(f"{PAGE}phone/give-up/").status_code == 302
    response = client.post(f"{PAGE}phone/confirm/", {"phone-code-code": code})
    assert response.status_code == 400 and "没有等待验证的新号码或地址" in html_of(response)
    resident.refresh_from_db()
    assert resident.phone == "13900000001"
    assert steps(resident) == ["code_sent", "cancelled"]


def test_erasing_a_residents_data_erases_the_address_waiting_for_its_code(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    erase_private_person(resident)
    assert not PendingContact.objects.filter(person=resident).exists()
    # The log names no address, so it stays as the record of what was done.
    assert steps(resident) == ["code_sent"]


def test_the_settings_page_offers_the_change_to_everyone_and_says_a_new_address_waits(
    client, resident, clock
):
    client.force_login(resident)
    html = html_of(client.get("/settings/"))
    assert 'href="/accounts/contact/"' in html and "更改手机或电子邮件" in html
    assert "有新的号码或地址正在等待验证" not in html
    contact.send_code(resident, "phone", "13812345678")
    assert "有新的号码或地址正在等待验证" in html_of(client.get("/settings/"))
    english = html_of(client.get("/settings/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Change phone or e-mail" in english and "administrator" not in english


def test_someone_signed_out_is_sent_to_sign_in_and_unknown_steps_are_not_found(client, resident):
    assert client.get(PAGE).status_code == 302
    assert client.post(f"{PAGE}phone/send/", {"phone-address": "13812345678"}).status_code == 302
    client.force_login(resident)
    assert client.post(f"{PAGE}fax/send/").status_code == 404
    assert client.post(f"{PAGE}phone/steal/").status_code == 404
    assert not RecordingSms.sent
