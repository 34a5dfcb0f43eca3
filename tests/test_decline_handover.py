"""A department that declines names who should come; the township upholds the decline and
summons that department in one step. Departments never hand a case over themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from tests.fixtures_cases import (
    beijing,
    device_fix,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
    whistled_case,
)
from tests.fixtures_desk import case_url, op_data, post_op
from whistle.assessment.engine import facts_of
from whistle.assessment.models import Acted, Came
from whistle.cases import actions
from whistle.cases.actions import summoning
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.notifications.models import Notification
from whistle.organisation.models import Department

NOW = beijing(2026, 3, 10, 10, 0)
S = Summons.Status


def minutes(n: int):
    return NOW + timedelta(minutes=n)


def declined_naming(city, department, *, at: int = 3):
    """A whistle for urban management and the police; the police decline and name
    `department` as responsible."""
    case, whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(
        city.police_officer,
        summonses[city.police.pk],
        reason="消防通道占用，不属治安",
        named_department=department,
        now=minutes(at),
    )
    return case, whistle, police


def kinds_of(case) -> list[str]:
    return list(Event.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))


# The decline names a department ----------------------------------------------------------


def test_a_decline_keeps_the_department_it_names_and_tells_the_dispatchers(whistle_city):
    city = whistle_city
    city.fire.name_en = "Tiantan Fire and Rescue Station"
    city.fire.save(update_fields=["name_en"])
    _case, _whistle, police = declined_naming(city, city.fire)
    police.refresh_from_db()
    assert (police.status, police.named_department) == (S.DECLINED, city.fire)
    declined = Event.objects.get(summons=police, kind=EventKind.DECLINED)
    assert declined.data["named_department"] == {
        "id": city.fire.pk,
        "code": "dc-xfz-tiantan",
        "name": "天坛消防救援站",
        "name_en": "Tiantan Fire and Rescue Station",
    }
    told = Notification.objects.get(
        kind=EventKind.DECLINED, recipient=city.dispatcher, channel="inbox"
    )
    assert told.body == (
        f"龙潭派出所认为案件 {police.case.reference} 不属于本部门职责：消防通道占用，不属治安。"
        "所指应负责部门：天坛消防救援站。请作出裁定。"
    )


def test_a_decline_naming_nobody_keeps_its_message_and_trail_as_before(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(city.police_officer, summonses[city.police.pk], reason="不属治安")
    assert police.named_department is None
    declined = Event.objects.get(summons=police, kind=EventKind.DECLINED)
    assert "named_department" not in declined.data
    told = Notification.objects.get(
        kind=EventKind.DECLINED, recipient=city.dispatcher, channel="inbox"
    )
    assert "所指" not in told.body


def _refused_decline(city, named, language="zh-hans"):
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = summonses[city.police.pk]
    with translation.override(language):
        with pytest.raises(actions.InvalidInput) as refused:
            actions.decline(
                city.police_officer,
                police,
                reason="不属治安",
                named_department=named,
                now=minutes(3),
            )
        message = str(refused.value)
    police.refresh_from_db()
    assert (police.status, police.named_department, police.acknowledged_at) == (
        S.SUMMONED,
        None,
        None,
    )
    assert not Event.objects.filter(summons=police, kind=EventKind.DECLINED).exists()
    assert not Notification.objects.filter(kind=EventKind.DECLINED).exists()
    assert refused.value.field == "named_department"
    return message


def test_a_department_cannot_name_itself(whistle_city):
    assert _refused_decline(whistle_city, whistle_city.police) == (
        "龙潭派出所不能指定本部门，请指定应负责的部门。"
    )


def test_a_department_cannot_name_one_no_longer_active(whistle_city):
    Department.objects.filter(pk=whistle_city.fire.pk).update(is_active=False)
    whistle_city.fire.refresh_from_db()
    assert _refused_decline(whistle_city, whistle_city.fire, "en") == (
        "天坛消防救援站 is no longer active."
    )


def test_a_department_cannot_name_one_that_does_not_serve_the_township(whistle_city):
    city = whistle_city
    elsewhere = Department.objects.create(
        code="dc-dongsi-only",
        name="东四房管所",
        kind="dispatched",
        sector=city.housing.sector,
        district=city.district,
    )
    elsewhere.serves.add(city.city.dongsi)
    assert _refused_decline(city, elsewhere) == "东四房管所不负责龙潭街道。"


def test_a_department_cannot_name_one_already_summoned_on_the_case(whistle_city):
    assert _refused_decline(whistle_city, whistle_city.urban, "en") == (
        "Already summoned on this case: 东城区城管执法局."
    )


def test_a_department_cannot_name_something_that_is_no_department(whistle_city):
    assert _refused_decline(whistle_city, "dc-xfz-tiantan", "en") == (
        "Choose departments from the list."
    )


# Uphold and summon the department named ---------------------------------------------------


def test_upholding_and_summoning_the_named_department_summons_it_on_the_whistle(whistle_city):
    city = whistle_city
    case, whistle, police = declined_naming(city, city.fire)
    police = actions.rule_on_decline(
        city.dispatcher, police, uphold=True, summon_named=True, note="请消防到场", now=minutes(5)
    )
    assert (police.status, police.ruling) == (S.RELEASED, "upheld")
    fire = Summons.objects.get(case=case, department=city.fire)
    # Its own deadlines, from the moment of the ruling.
    assert (fire.whistle, fire.status, fire.summoned_at) == (whistle, S.SUMMONED, minutes(5))
    assert (fire.acknowledge_due_at, fire.arrive_due_at) == (minutes(15), minutes(35))
    assert kinds_of(case)[-3:] == [
        EventKind.DECLINED,
        EventKind.DECLINE_UPHELD,
        EventKind.SUMMONED,
    ]
    summoned = Event.objects.get(summons=fire, kind=EventKind.SUMMONED)
    assert (summoned.actor, summoned.data["note"]) == (city.dispatcher, "请消防到场")
    assert Notification.objects.filter(
        kind=EventKind.SUMMONED, recipient=city.fire_officer
    ).exists()
    assert Notification.objects.filter(
        kind=EventKind.DECLINE_UPHELD, recipient=city.police_officer
    ).exists()


def test_upholding_and_summoning_on_a_routine_dispatch_dispatches_the_named_department(
    whistle_city,
):
    city = whistle_city
    case = filed_case(city, at=NOW, category=city.exposed_garbage)
    first = actions.dispatch_case(city.dispatcher, case, department=city.police, now=NOW)
    actions.decline(
        city.police_officer,
        first,
        reason="非治安问题",
        named_department=city.urban,
        now=minutes(5),
    )
    actions.rule_on_decline(city.dispatcher, first, uphold=True, summon_named=True, now=minutes(6))
    urban = Summons.objects.get(case=case, department=city.urban)
    assert (urban.whistle, urban.summoned_at, urban.arrive_due_at) == (None, minutes(6), None)
    assert kinds_of(case).count(EventKind.DISPATCHED) == 1
    assert kinds_of(case)[-2:] == [EventKind.DECLINE_UPHELD, EventKind.SUMMONED]


def _nothing_of_the_ruling(case, police) -> None:
    police.refresh_from_db()
    assert (police.status, police.ruling, police.released_at) == (S.DECLINED, "", None)
    assert kinds_of(case)[-1] == EventKind.DECLINED
    assert not Notification.objects.filter(kind=EventKind.DECLINE_UPHELD).exists()
    assert not Summons.objects.filter(case=case, department=police.named_department).exists()


def test_when_the_summons_is_refused_nothing_of_the_uphold_is_written(whistle_city):
    city = whistle_city
    case, _whistle, police = declined_naming(city, city.fire)
    # The department named was closed down before the ruling.
    Department.objects.filter(pk=city.fire.pk).update(is_active=False)
    with translation.override("en"):
        with pytest.raises(actions.InvalidInput) as refused:
            actions.rule_on_decline(
                city.dispatcher, police, uphold=True, summon_named=True, now=minutes(5)
            )
        assert str(refused.value) == "天坛消防救援站 is no longer active."
    _nothing_of_the_ruling(case, police)


def test_when_the_summons_fails_after_writing_nothing_of_either_is_kept(whistle_city, monkeypatch):
    city = whistle_city
    case, _whistle, police = declined_naming(city, city.fire)
    written = summoning.record

    def record_then_fail(*args, **kwargs):
        event = written(*args, **kwargs)
        if event.kind == EventKind.SUMMONED:
            raise RuntimeError("the database went away")
        return event

    monkeypatch.setattr(summoning, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        actions.rule_on_decline(
            city.dispatcher, police, uphold=True, summon_named=True, now=minutes(5)
        )
    _nothing_of_the_ruling(case, police)


def test_only_a_decline_that_names_a_department_and_is_upheld_summons_it(whistle_city):
    city = whistle_city
    _case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(city.police_officer, summonses[city.police.pk], reason="不属治安")
    with translation.override("en"):
        with pytest.raises(actions.InvalidInput) as refused:
            actions.rule_on_decline(city.dispatcher, police, uphold=True, summon_named=True)
        assert str(refused.value) == "The decline names no department to summon."
    with translation.override("zh-hans"):
        with pytest.raises(actions.InvalidInput) as refused:
            actions.rule_on_decline(
                city.dispatcher, police, uphold=False, summon_named=True, note="须配合"
            )
        assert refused.value.field == "summon_named"
        assert str(refused.value) == "只有同意退回时才能召集所指定的部门。"
    police.refresh_from_db()
    assert (police.status, police.ruling) == (S.DECLINED, "")


def test_the_new_summons_is_assessed_on_its_own_deadlines(whistle_city):
    city = whistle_city
    case, _whistle, police = declined_naming(city, city.fire)
    # Ruled on 40 minutes in: the whistle's own arrival deadline (30 minutes) has passed.
    police = actions.rule_on_decline(
        city.dispatcher, police, uphold=True, summon_named=True, now=minutes(40)
    )
    fire = Summons.objects.get(case=case, department=city.fire)
    actions.acknowledge(city.fire_officer, fire, now=minutes(45))
    actions.check_in(city.fire_officer, fire, **device_fix(at=minutes(60)), now=minutes(60))
    assert (facts_of(police).acted, facts_of(police).excused) == (Acted.DECLINE_UPHELD, True)
    fire_facts = facts_of(fire)
    # Measured against the whistle's first deadline it would be 30 minutes late.
    assert fire_facts.came == Came.ON_TIME


# The pages --------------------------------------------------------------------------------


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _decline_form(html: str, summons) -> str:
    start = html.index(f'id="op-decline-{summons.uuid.hex}"')
    return html[start : html.index("</form>", start)]


@pytest.mark.parametrize(
    ("language", "label", "suggested", "others"),
    [
        ("zh-hans", "应负责的部门（选填）", "建议的部门", "服务本街乡的其他部门"),
        (
            "en",
            "Department responsible (optional)",
            "Suggested for this case",
            "Other departments serving the township",
        ),
    ],
)
def test_the_departments_decline_form_offers_the_suggestions_first(
    client, whistle_city, language, label, suggested, others
):
    city = whistle_city
    city.street_vending.responsible_sectors.add(city.fire.sector)
    case, _whistle, summonses = whistled_case(city, at=NOW)
    police = summonses[city.police.pk]
    client.force_login(city.police_officer)
    form = _decline_form(html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE=language)), police)
    assert label in form
    # The category's departments in the centre first, then the others serving the township;
    # never the declining department itself.
    assert form.index(suggested) < form.index("天坛消防救援站") < form.index(others)
    assert form.index(others) < form.index("东城区房管局")
    assert "龙潭派出所" not in form
    response = post_op(
        client,
        case_url(case),
        "decline",
        police,
        reason="消防通道占用",
        named_department=str(city.fire.pk),
    )
    assert response.status_code == 302
    police.refresh_from_db()
    assert (police.status, police.named_department) == (S.DECLINED, city.fire)


def test_the_decline_form_says_in_the_readers_language_why_a_department_cannot_be_named(
    client, whistle_city
):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    police = summonses[city.police.pk]
    client.force_login(city.police_officer)
    # Urban management is listed (serving the township) but already summoned on the case.
    html = html_of(
        post_op(
            client,
            case_url(case),
            "decline",
            police,
            reason="消防通道占用",
            named_department=str(city.urban.pk),
        )
    )
    assert "以下部门已被召集办理本案：东城区城管执法局。" in _decline_form(html, police)
    police.refresh_from_db()
    assert (police.status, police.named_department) == (S.SUMMONED, None)
    # One that is not on the list at all.
    html = html_of(
        client.post(
            case_url(case),
            op_data(
                "decline",
                police,
                reason="消防通道占用",
                named_department=str(city.police.pk),
            ),
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )
    assert "Select a valid choice." in _decline_form(html, police)


@pytest.mark.parametrize(
    ("language", "button", "named", "said"),
    [
        (
            "zh-hans",
            "同意退回并召集天坛消防救援站",
            "所指应负责部门",
            "已召集天坛消防救援站处置案件",
        ),
        (
            "en",
            "Uphold and summon Tiantan Fire Station",
            "Department named as responsible",
            "Tiantan Fire Station is summoned to case",
        ),
    ],
)
def test_the_desk_rules_uphold_and_summon_in_one_step(
    client, whistle_city, language, button, named, said
):
    city = whistle_city
    Department.objects.filter(pk=city.fire.pk).update(name_en="Tiantan Fire Station")
    case, whistle, police = declined_naming(city, city.fire)
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE=language))
    assert button in html and named in html
    # The dispatcher's queue of declines offers it too.
    queue = html_of(client.get("/dispatch/", HTTP_ACCEPT_LANGUAGE=language))
    assert button in queue
    response = client.post(
        case_url(case),
        op_data("rule", police, decision="uphold_summon", note="请消防到场"),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302
    # Told of both: the ruling, and the department summoned with it.
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(told) == 2 and f"{said} {case.reference}" in told[1], told
    police.refresh_from_db()
    assert (police.status, police.ruling) == (S.RELEASED, "upheld")
    fire = Summons.objects.get(case=case, department=city.fire)
    assert (fire.whistle, fire.status) == (whistle, S.SUMMONED)


def test_a_decline_naming_nobody_offers_no_uphold_and_summon(client, whistle_city):
    city = whistle_city
    case, _whistle, summonses = whistled_case(city, at=NOW)
    police = actions.decline(city.police_officer, summonses[city.police.pk], reason="不属治安")
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case)))
    assert "同意退回并召集" not in html and "同意退回" in html
    html = html_of(post_op(client, case_url(case), "rule", police, decision="uphold_summon"))
    assert "该退回申请未指定应召集的部门。" in html
    police.refresh_from_db()
    assert police.status == S.DECLINED


def test_the_trail_names_the_department_named(client, whistle_city):
    city = whistle_city
    case, _whistle, _police = declined_naming(city, city.fire)
    client.force_login(city.dispatcher)
    html = html_of(client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en"))
    assert "<dt>Department named as responsible</dt><dd>天坛消防救援站</dd>" in html
