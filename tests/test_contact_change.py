"""A person changes their own mobile phone and e-mail address: the new one counts only once the
code sent to it comes back, within ten minutes and five tries, with codes rate-limited; the
old one stays until then, and the code is kept nowhere readable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from tests.conftest import make_person
from tests.fixtures_cases import assert_the_database_keeps
from tests.gateways import (
    RECORDING_SMS,
    REFUSING_SMS,
    RecordingSms,
    recording_gateways_fixture,  # noqa: F401  (fixture)
)
from tests.test_admin_language import ALLOWED, CHINESE, WORD, headings
from whistle.accounts import contact
from whistle.accounts.models import ContactLogEntry, PendingContact
from whistle.cases.actions.personal_data import erase_private_person
from whistle.organisation.models import Person, Role

PAGE = "/accounts/contact/"
START = datetime.fromisoformat("2026-03-10T09:00:00+08:00")

pytestmark = pytest.mark.usefixtures("recording_gateways")


class RecordingMail(locmem.EmailBackend):
    """A mail server as far as the product can tell: what it takes is still in the outbox."""


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
    assert "验证码已通过短信发送至 138****5678，请在 09:10 前在此输入" in page
    assert "本系统的短信仍发送至原号码" in page
    settings_page = html_of(client.get("/settings/"))
    assert "13900000001" in settings_page and "有新的号码或地址正在等待验证" in settings_page

    response = client.post(f"{PAGE}phone/confirm/", {"phone-code-code": last_code()})
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.phone == "13812345678"
    assert not PendingContact.objects.filter(person=resident).exists()
    assert steps(resident) == ["code_sent", "changed"]
    assert "今后本系统将通过 13812345678 联系您。" in html_of(client.get(PAGE))


def demo_code_on(page: str) -> str | None:
    found = re.search(r"(?:验证码为|The code is) (\d{6})", page)
    return found[1] if found else None


def test_in_the_demo_without_a_gateway_the_page_shows_the_code_and_it_works(
    client, settings, resident, clock, capsys
):
    settings.WHISTLE_DEMO_MODE = True
    settings.WHISTLE_SMS_BACKEND = "console"
    client.force_login(resident)
    client.post(f"{PAGE}phone/send/", {"phone-address": "13812345678"})
    page = html_of(client.get(PAGE))
    assert (
        "演示模式：短信未真正发出，验证码为" in page and 'class="message message-warning"' in page
    )
    code = demo_code_on(page)
    assert code is not None and f"验证码为 {code}" in capsys.readouterr().out
    client.post(f"{PAGE}phone/confirm/", {"phone-code-code": code})
    resident.refresh_from_db()
    assert resident.phone == "13812345678"
    clock.shift(timedelta(minutes=1))
    client.post(
        f"{PAGE}email/send/", {"email-address": "me@example.com"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    english = html_of(client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en"))
    # Django's in-memory mail backend delivers nothing either.
    assert "Demo mode: no e-mail was really sent. The code is" in english
    shown = demo_code_on(english)
    assert shown is not None and shown in str(mail.outbox[-1].body)


@pytest.mark.parametrize(
    ("demo", "sms_backend", "email_backend"),
    [
        (True, RECORDING_SMS, "tests.test_contact_change.RecordingMail"),
        (False, "console", "django.core.mail.backends.locmem.EmailBackend"),
    ],
    ids=["a real gateway in the demo", "no gateway outside the demo"],
)
def test_the_page_never_shows_the_code_with_a_real_gateway_or_outside_the_demo(
    client, settings, resident, clock, capsys, demo, sms_backend, email_backend
):
    settings.WHISTLE_DEMO_MODE = demo
    settings.WHISTLE_SMS_BACKEND = sms_backend
    settings.EMAIL_BACKEND = email_backend
    assert contact.send_code(resident, "phone", "13812345678").demo_code == ""
    client.force_login(resident)
    clock.shift(timedelta(minutes=1))
    client.post(f"{PAGE}phone/again/")
    sent = RecordingSms.sent[-1].text if RecordingSms.sent else capsys.readouterr().out
    codes = [re.findall(r"\b(\d{6})\b", sent)[-1]]
    clock.shift(timedelta(minutes=1))
    client.post(f"{PAGE}email/send/", {"email-address": "me@example.com"})
    codes += re.findall(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    for language in ("zh-hans", "en"):
        page = html_of(client.get(PAGE, HTTP_ACCEPT_LANGUAGE=language))
        assert "演示模式" not in page and "Demo mode" not in page
        assert not any(code in page for code in codes)


def sent_then_given_up(client, kind: str, address: str, language: str) -> tuple[str, str]:
    """The contact page in `language` once a code is sent to the new `address`, and again
    once that change is given up."""
    client.post(f"{PAGE}{kind}/send/", {f"{kind}-address": address}, HTTP_ACCEPT_LANGUAGE=language)
    page = html_of(client.get(PAGE, HTTP_ACCEPT_LANGUAGE=language))
    client.post(f"{PAGE}{kind}/give-up/", HTTP_ACCEPT_LANGUAGE=language)
    return page, html_of(client.get(PAGE, HTTP_ACCEPT_LANGUAGE=language))


@pytest.mark.parametrize(
    ("language", "words", "not_words"),
    [
        (
            "zh-hans",
            [
                "资料中还没有手机号码。",
                "验证码已通过短信发送至 138****5678，请在 09:10 前在此输入。在此之前，"
                "本系统不会向您发送短信，消息可在“消息通知”中查看。",
                "发送至新号码的验证码",
                "取消更改",
                "改用其他号码",
                "资料中尚无的，可在“消息通知”中查看。",
            ],
            ["资料中现有", "资料中没有", "保留原", "原号码", "新号码或地址的验证码"],
        ),
        (
            "en",
            [
                "No mobile phone on your profile yet.",
                "The code was sent by SMS to 138****5678. Enter it here before 09:10; until "
                "then Whistle sends you no text messages: its messages are in your notifications.",
                "Code sent to the new number",
                "Cancel the change",
                "Use another number instead",
                "or, without one, to your notifications in Whistle.",
            ],
            ["On your profile:", "Keep my earlier", "earlier number", "new address"],
        ),
    ],
)
def test_a_first_phone_number_is_worded_as_a_first_with_nothing_earlier_to_keep(
    client, db, clock, language, words, not_words
):
    person = make_person("contact-first", Role.RESIDENT)
    client.force_login(person)
    page, told = sent_then_given_up(client, "phone", "13812345678", language)
    phone_card = page[page.index('id="contact-phone"') : page.index('id="contact-email"')]
    for word in words:
        assert word in page, word
    for word in not_words:
        assert word not in phone_card, word
    assert (
        "已取消更改，资料中仍没有手机号码。"
        if language == "zh-hans"
        else "The change is cancelled; your profile still has no mobile phone."
    ) in told


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "zh-hans",
            [
                "验证码已通过电子邮件发送至 n***@example.com，请在 09:10 前在此输入。在此之前，"
                "本系统的电子邮件仍发送至原邮箱地址。",
                "发送至新邮箱地址的验证码",
                "保留原邮箱地址",
                "改用其他邮箱地址",
            ],
        ),
        (
            "en",
            [
                "The code was sent by e-mail to n***@example.com. Enter it here before 09:10; "
                "until then Whistle&#x27;s e-mails still go to your earlier address.",
                "Code sent to the new address",
                "Keep my earlier address",
                "Use another address instead",
            ],
        ),
    ],
)
def test_a_new_email_address_is_worded_for_e_mail_with_the_earlier_address_kept(
    client, resident, clock, language, words
):
    resident.email = "old@example.com"
    resident.save(update_fields=["email"])
    client.force_login(resident)
    page, told = sent_then_given_up(client, "email", "new@example.com", language)
    for word in words:
        assert word in page, word
    assert (
        "已放弃新邮箱地址，资料中仍为原邮箱地址。"
        if language == "zh-hans"
        else "The new address is forgotten; your earlier address stays on your profile."
    ) in told


def test_while_a_code_waits_the_form_for_another_number_is_folded_until_it_is_needed(
    client, resident, clock
):
    client.force_login(resident)
    page = html_of(client.get(PAGE))
    # Nothing waits: the form for a new number is the page's one step.
    assert "contact-other" not in page and 'id="id_phone-address"' in page
    client.post(f"{PAGE}phone/send/", {"phone-address": "13812345678"})
    page = html_of(client.get(PAGE))
    folded = re.search(
        r'<details class="contact-other">\s*<summary>改用其他号码</summary>(.*?)</details>',
        page,
        re.S,
    )
    assert folded is not None and 'id="id_phone-address"' in folded[1]
    assert page.count('id="id_phone-address"') == 1 and "保留原号码" in page
    # A refused number opens it, with the reason.
    response = client.post(f"{PAGE}phone/send/", {"phone-address": "12812345678"})
    assert '<details class="contact-other" open>' in html_of(response)
    assert "以 13 至 19 开头" in html_of(response)
    client.post(f"{PAGE}phone/give-up/")
    assert "已放弃新号码，资料中仍为原号码。" in html_of(client.get(PAGE))


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
    settings.WHISTLE_SMS_BACKEND = REFUSING_SMS
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


def log_rows() -> list[tuple]:
    return list(ContactLogEntry.objects.order_by("pk").values_list())


def test_the_database_refuses_to_change_or_remove_an_entry_of_the_contact_log(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    contact.confirm(resident, "phone", last_code())
    assert_the_database_keeps(ContactLogEntry)
    assert steps(resident) == ["code_sent", "changed"]


def test_erasing_a_resident_the_log_names_leaves_the_log_as_it_was(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    contact.confirm(resident, "phone", last_code())
    clock.shift(timedelta(minutes=1))
    contact.send_code(resident, "email", "new@example.com")
    contact.give_up(resident, "email")
    clock.shift(timedelta(minutes=1))
    contact.send_code(resident, "phone", "13812345679")
    before = log_rows()
    erase_private_person(resident)
    resident.refresh_from_db()
    assert (resident.phone, resident.email, resident.is_active) == ("", "", False)
    assert not PendingContact.objects.filter(person=resident).exists()
    assert log_rows() == before


def test_an_account_the_log_names_is_kept_and_one_it_does_not_can_be_deleted(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    before = log_rows()
    with pytest.raises(ProtectedError), transaction.atomic():
        resident.delete()
    assert Person.objects.filter(pk=resident.pk).exists() and log_rows() == before
    nobody = make_person("contact-unlogged", Role.RESIDENT)
    nobody.delete()
    assert not Person.objects.filter(pk=nobody.pk).exists() and log_rows() == before


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


def test_erasing_by_phone_erases_the_number_waiting_for_its_code_but_not_who_typed_it(
    resident, clock
):
    contact.send_code(resident, "phone", "13812345678")
    clock.shift(timedelta(minutes=1))
    contact.send_code(resident, "email", "new@example.com")
    other = make_person("contact-other", Role.RESIDENT)
    contact.send_code(other, "phone", "13812345679")
    out = StringIO()
    call_command("erase_personal_data", "--phone", "+86 138-1234-5678", stdout=out)
    assert not PendingContact.objects.filter(person=resident, kind="phone").exists()
    # Whoever typed the number may not be its owner: their account and other addresses stay.
    resident.refresh_from_db()
    assert (resident.phone, resident.is_active) == ("13900000001", True)
    assert PendingContact.objects.filter(person=resident, kind="email").exists()
    assert PendingContact.objects.filter(person=other, kind="phone").exists()
    assert "另删除了 1 条其他个人信息记录（小巷管家报名、待验证的新号码）" in out.getvalue()
    entry = ContactLogEntry.objects.get(person=resident, step="erased")
    assert (entry.kind, entry.actor_id, entry.actor_role) == ("phone", None, "system")
    again = StringIO()
    call_command("erase_personal_data", "--phone", "13812345678", stdout=again)
    assert "没有人留过电话号码 13812345678" in again.getvalue()
    assert steps(resident) == ["code_sent", "code_sent", "erased"]


def test_a_waiting_address_goes_a_day_after_its_code_expired_and_not_a_moment_sooner(
    resident, clock
):
    contact.send_code(resident, "phone", "13812345678")
    later = make_person("contact-later", Role.RESIDENT)
    clock.shift(timedelta(hours=1))
    contact.send_code(later, "email", "later@example.com")
    # The code expired at 09:10; a day later the address still shows why it did not change.
    clock.move_to(START + timedelta(minutes=10) + contact.FORGOTTEN_AFTER)
    assert contact.sweep(timezone.now(), batch=10) == 0
    assert PendingContact.objects.filter(person=resident).exists()
    clock.shift(timedelta(seconds=1))
    assert contact.sweep(timezone.now(), batch=10) == 1
    assert not PendingContact.objects.filter(person=resident).exists()
    assert PendingContact.objects.filter(person=later).exists()
    entry = ContactLogEntry.objects.get(person=resident, step="expired")
    assert (entry.at, entry.actor_id, entry.actor_role) == (timezone.now(), None, "system")
    # Safe to run twice, and by two workers at once: nothing more goes, nothing more is logged.
    assert contact.sweep(timezone.now(), batch=10) == 0
    assert steps(resident) == ["code_sent", "expired"]


def test_the_sweep_leaves_an_address_given_again_since_it_was_found(resident, clock):
    contact.send_code(resident, "phone", "13812345678")
    clock.shift(contact.FORGOTTEN_AFTER + timedelta(hours=1))
    found = list(PendingContact.objects.values_list("pk", "person_id", "kind"))
    cutoff = timezone.now() - contact.FORGOTTEN_AFTER
    contact.send_again(resident, "phone")
    step = ContactLogEntry.Step.EXPIRED
    assert contact._forget(found, step, timezone.now(), expires_at__lt=cutoff) == 0
    assert PendingContact.objects.get(person=resident).expires_at > timezone.now()


def test_the_worker_sweeps_a_batch_at_a_time(db, settings, clock):
    assert "whistle.accounts.contact.sweep" in settings.WHISTLE_WORKER_SWEEPS
    for n in range(3):
        person = make_person(f"contact-batch-{n}", Role.RESIDENT)
        contact.send_code(person, "phone", f"1381234567{n}")
    clock.shift(contact.FORGOTTEN_AFTER + timedelta(minutes=11))
    # A full batch: the worker's next pass starts at once and takes the rest.
    assert contact.sweep(timezone.now(), batch=2) == 2
    assert contact.sweep(timezone.now(), batch=2) == 1
    assert not PendingContact.objects.exists()
    assert ContactLogEntry.objects.filter(step="expired").count() == 3


@pytest.fixture
def waiting(resident, clock) -> PendingContact:
    contact.send_code(resident, "phone", "13812345678")
    contact.give_up(resident, "phone")
    clock.shift(timedelta(minutes=1))
    contact.send_code(resident, "phone", "13812345678")
    return PendingContact.objects.get(person=resident)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["待验证的新号码或地址", "138****5678", "等待验证码", "已放弃更改", "手机"]),
        ("en", ["new address waiting for its code", "138****5678", "change given up"]),
    ],
)
def test_an_administrator_reads_the_waiting_addresses_masked_and_the_log_in_their_language(
    admin_client, waiting, language, words
):
    pending_list = admin_client.get(
        "/admin/accounts/pendingcontact/", HTTP_ACCEPT_LANGUAGE=language
    )
    log_list = admin_client.get("/admin/accounts/contactlogentry/", HTTP_ACCEPT_LANGUAGE=language)
    detail = admin_client.get(
        f"/admin/accounts/pendingcontact/{waiting.pk}/change/", HTTP_ACCEPT_LANGUAGE=language
    )
    pages = html_of(pending_list) + html_of(log_list) + html_of(detail)
    for word in words:
        assert word in pages, word
    assert "13812345678" not in pages and waiting.digest not in pages
    for url in ("/admin/accounts/pendingcontact/", "/admin/accounts/contactlogentry/"):
        named = " | ".join(headings(admin_client, url, language))
        if language == "en":
            assert not CHINESE.search(named), url
        else:
            assert set(WORD.findall(named)) - ALLOWED == set(), url


def test_nobody_adds_changes_or_deletes_them_in_the_admin_and_only_superusers_read_them(
    client, admin_client, waiting
):
    entry = ContactLogEntry.objects.filter(person=waiting.person).first()
    assert entry is not None
    for base, pk in (("pendingcontact", waiting.pk), ("contactlogentry", entry.pk)):
        url = f"/admin/accounts/{base}/"
        assert admin_client.get(f"{url}add/").status_code == 403
        assert admin_client.post(f"{url}{pk}/delete/", {"post": "yes"}).status_code == 403
        assert admin_client.post(f"{url}{pk}/change/", {}).status_code == 403
        assert "deletelink" not in html_of(admin_client.get(f"{url}{pk}/change/"))
    assert PendingContact.objects.filter(pk=waiting.pk).exists()
    staff = make_person("contact-staff", Role.ADMINISTRATOR)
    Person.objects.filter(pk=staff.pk).update(is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/accounts/pendingcontact/").status_code == 403
