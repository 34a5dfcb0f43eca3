"""Opinions on major matters (重大事项意见建议权): the district registers a matter and asks
some of its townships; each files its opinion and proposals by the deadline; the district
responds to each; overdue opinions and responses show; every step is logged and the people
concerned are told in their inbox."""

from __future__ import annotations

import pytest
import time_machine

from tests.fixtures_township import bj, powers_fixture, register_market_plan  # noqa: F401
from whistle.notifications.models import Notification
from whistle.township import actions
from whistle.township.errors import InvalidTownshipInput, TownshipRefused
from whistle.township.models import MatterOpinion, TownshipLogEntry
from whistle.township.permissions import visible_matters

State = MatterOpinion.State
Action = TownshipLogEntry.Action

pytestmark = pytest.mark.django_db


def opinion_of(matter, township) -> MatterOpinion:
    return MatterOpinion.objects.get(matter=matter, township=township)


def test_registering_a_matter_asks_each_township_and_tells_its_chief_in_the_inbox(powers):
    matter = register_market_plan(powers)
    townships = set(matter.opinions.values_list("township__name", flat=True))
    assert townships == {"龙潭街道", "东四街道"}
    told = Notification.objects.filter(kind="township.matter", channel="inbox")
    assert set(told.values_list("recipient__username", flat=True)) == {
        "li-longtan-chief",
        "zhou-longtan-office",
        "xun-dongsi-chief",
    }
    longtan = told.get(recipient=powers.longtan_chief)
    assert "光明楼农贸市场搬迁规划" in longtan.subject
    assert longtan.link == f"/township/matters/{opinion_of(matter, powers.city.longtan).pk}/"
    entry = TownshipLogEntry.objects.get(matter=matter)
    assert (entry.action, entry.actor, entry.actor_role) == (
        Action.MATTER_REGISTERED,
        powers.district_office,
        "chiefs_office",
    )


def test_a_township_files_its_opinion_and_the_district_responds(powers):
    matter = register_market_plan(powers)
    opinion = opinion_of(matter, powers.city.longtan)
    with time_machine.travel(bj(10, 18), tick=False):
        actions.file_opinion(
            powers.longtan_chief, opinion, text="同意搬迁，但需保障早市。", proposals="增设临时摊位"
        )
    opinion.refresh_from_db()
    assert (opinion.filed_by, opinion.filed_late) == (powers.longtan_chief, False)
    assert opinion.state(bj(10, 18, 1)) == State.FILED
    assert Notification.objects.filter(
        kind="township.opinion", recipient=powers.district_office
    ).exists()
    with time_machine.travel(bj(12, 9), tick=False):
        actions.respond_to_opinion(powers.district_chief, opinion, response="采纳，增设临时摊位。")
    opinion.refresh_from_db()
    assert opinion.state(bj(30, 9)) == State.RESPONDED
    assert opinion.responded_late is False
    assert Notification.objects.filter(
        kind="township.response", recipient=powers.longtan_chief
    ).exists()
    assert list(opinion.log.order_by("at").values_list("action", flat=True)) == [
        Action.OPINION_FILED,
        Action.OPINION_RESPONDED,
    ]


def test_an_opinion_one_minute_after_the_deadline_is_kept_as_late(powers):
    matter = register_market_plan(powers)
    opinion = opinion_of(matter, powers.city.longtan)
    assert opinion.state(bj(10, 18)) == State.AWAITED
    assert opinion.state(bj(10, 18, 1)) == State.OPINION_OVERDUE
    with time_machine.travel(bj(10, 18, 1), tick=False):
        actions.file_opinion(powers.longtan_office, opinion, text="同意。")
    opinion.refresh_from_db()
    assert opinion.filed_late is True
    assert opinion.log.get().data["late"] is True


def test_the_district_sees_overdue_opinions_and_overdue_responses_from_their_boundaries(powers):
    matter = register_market_plan(powers)
    longtan = opinion_of(matter, powers.city.longtan)
    with time_machine.travel(bj(5, 10), tick=False):
        actions.file_opinion(powers.longtan_chief, longtan, text="同意。")
    opinions = MatterOpinion.objects.filter(matter=matter)
    assert list(opinions.overdue_opinions(bj(10, 18))) == []
    assert [o.township.name for o in opinions.overdue_opinions(bj(10, 18, 1))] == ["东四街道"]
    assert list(opinions.overdue_responses(bj(20, 18))) == []
    assert [o.township.name for o in opinions.overdue_responses(bj(20, 18, 1))] == ["龙潭街道"]


def test_it_refuses_an_opinion_from_another_township_or_a_dispatcher(powers):
    matter = register_market_plan(powers)
    opinion = opinion_of(matter, powers.city.longtan)
    with time_machine.travel(bj(5, 10), tick=False):
        for person in (powers.dongsi_chief, powers.longtan_dispatcher, powers.district_chief):
            with pytest.raises(TownshipRefused):
                actions.file_opinion(person, opinion, text="同意。")
    opinion.refresh_from_db()
    assert opinion.filed_at is None
    assert not opinion.log.exists()


def test_it_refuses_a_second_filing_and_a_response_before_the_opinion(powers):
    matter = register_market_plan(powers)
    opinion = opinion_of(matter, powers.city.longtan)
    with time_machine.travel(bj(5, 10), tick=False):
        with pytest.raises(TownshipRefused, match="尚未提交意见"):
            actions.respond_to_opinion(powers.district_chief, opinion, response="好")
        actions.file_opinion(powers.longtan_chief, opinion, text="同意。")
        with pytest.raises(TownshipRefused, match="意见已提交过"):
            actions.file_opinion(powers.longtan_chief, opinion, text="改为反对。")
    opinion.refresh_from_db()
    assert opinion.opinion == "同意。"


def test_it_refuses_a_township_of_another_district_and_a_deadline_in_the_past(powers, small_city):
    from whistle.organisation.models import Jurisdiction

    other_district = Jurisdiction.objects.create(
        level="district", code="110102", name="西城区", parent=small_city.city
    )
    other = Jurisdiction.objects.create(
        level="township", code="110102001", name="西长安街街道", parent=other_district
    )
    with time_machine.travel(bj(1, 9), tick=False):
        with pytest.raises(InvalidTownshipInput) as refused:
            actions.register_matter(
                powers.district_chief,
                small_city.district,
                kind="project",
                title="项目",
                description="说明",
                townships=[other],
                opinions_due_at=bj(10, 18),
                responses_due_at=bj(20, 18),
            )
        assert refused.value.field == "townships"
        with pytest.raises(InvalidTownshipInput) as refused:
            actions.register_matter(
                powers.district_chief,
                small_city.district,
                kind="project",
                title="项目",
                description="说明",
                townships=[small_city.longtan],
                opinions_due_at=bj(1, 9),
                responses_due_at=bj(20, 18),
            )
        assert refused.value.field == "opinions_due_at"
        with pytest.raises(TownshipRefused):
            actions.register_matter(
                powers.longtan_chief,
                small_city.district,
                kind="project",
                title="项目",
                description="说明",
                townships=[small_city.longtan],
                opinions_due_at=bj(10, 18),
                responses_due_at=bj(20, 18),
            )
    assert not TownshipLogEntry.objects.exists()


def test_the_matters_page_names_its_kind_as_a_heading_in_english(client, powers):
    matter = register_market_plan(powers)
    client.force_login(powers.longtan_chief)
    url = f"/township/matters/{opinion_of(matter, powers.city.longtan).pk}/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="page-kicker">Plan · ' in page


def test_each_township_sees_the_matters_that_ask_it_and_the_district_sees_all(powers):
    matter = register_market_plan(powers)
    assert list(visible_matters(powers.longtan_dispatcher)) == [matter]
    assert list(visible_matters(powers.district_chief)) == [matter]
    with time_machine.travel(bj(2, 9), tick=False):
        only_longtan = actions.register_matter(
            powers.district_chief,
            powers.city.district,
            kind="policy",
            title="背街小巷停车管理办法",
            description="征求意见。",
            townships=[powers.city.longtan],
            opinions_due_at=bj(12, 18),
            responses_due_at=bj(22, 18),
        )
    assert set(visible_matters(powers.dongsi_chief)) == {matter}
    assert set(visible_matters(powers.district_office)) == {matter, only_longtan}
