"""The assessment's home page: a township rates the departments it summoned (1–5 stars and a
comment, through `rate_summons`), reads how each department served it, and the district
reads its overview; who may open it; query counts.

July 2026 in 东城区 (tests/fixtures_assessment.py): 龙潭街道 closed c1 (城管 and 派出所),
c2 (市场监管) and c5 (城管, a routine dispatch); 东四街道 closed c3, c4 and c7; c6 is open.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import time_machine

from tests.conftest import make_person, square
from tests.fixtures_assessment import Story, bj, july_fixture  # noqa: F401  (fixture)
from tests.fixtures_district import HOME, post_form, scored_july_fixture  # noqa: F401
from whistle.assessment.actions import close_period, rate_summons
from whistle.assessment.editing import create_scheme_version
from whistle.assessment.engine import update_scores
from whistle.assessment.models import Scheme, SummonsAssessment
from whistle.cases.actions.closing import evaluate_case
from whistle.cases.models import Event, Summons
from whistle.cases.trail import EventKind
from whistle.district.forms import SCHEME_FIELDS
from whistle.organisation.models import Department, Jurisdiction, Role


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(bj(25, 9), tick=False) as traveller:
        yield traveller


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rate(client, summons, **fields):
    return post_form(client, HOME, "rate", summons.uuid.hex, f"rate-{summons.uuid.hex}", **fields)


def test_a_township_assessor_sees_the_closed_summonses_of_the_township_waiting_for_a_rating(
    client, scored
):
    m, s = scored, scored.summonses
    client.force_login(m.longtan_assessor)
    html = html_of(client.get(HOME))
    waiting = html[html.index('id="to-rate"') : html.index('id="township-view"')]
    for key in ("c1_urban", "c1_police", "c2_market", "c5_urban"):
        assert f'id="rate-{s[key].uuid.hex}"' in waiting, key
    # 东四's summonses are 东四's to rate; c6 is still open.
    for key in ("c3_urban", "c3_market", "c4_police", "c7_urban", "c6_police"):
        assert s[key].uuid.hex not in waiting, key
    assert "等待您评分" in html
    assert "未到场" not in waiting  # nobody in 龙潭 failed to come
    assert "迟到 7 分钟" in waiting  # 派出所 at c1


def test_rating_a_summons_writes_the_rating_into_the_trail_and_the_record(client, scored):
    m, s = scored, scored.summonses
    summons = s["c1_police"]
    client.force_login(m.longtan_assessor)
    response = rate(client, summons, rating="4", comment="到场稍晚，处置到位")
    assert response.status_code == 302
    assert response["Location"] == "/assessment/#to-rate"
    event = Event.objects.get(summons=summons, kind=EventKind.SUMMONS_RATED)
    assert event.data == {"rating": 4, "comment": "到场稍晚，处置到位"}
    assert event.actor == m.longtan_assessor
    record = SummonsAssessment.objects.get(summons=summons)
    assert (record.rating, record.quality_score) == (4, 80)
    html = html_of(client.get(HOME))
    assert "已对龙潭派出所评 4 星" in html
    waiting = html[html.index('id="to-rate"') : html.index("最近的评分")]
    assert f'id="rate-{summons.uuid.hex}"' not in waiting
    recent = html[html.index("最近的评分") : html.index('id="township-view"')]
    assert "★★★★☆" in recent and "到场稍晚，处置到位" in recent


def card_html(html: str, summons) -> str:
    card = html[html.index(f'id="rate-{summons.uuid.hex}"') :]
    return card[: card.index("</article>")]


def scheme_version(m, valid_from: date, name: str, name_en: str, **settings) -> Scheme:
    """A new version of 东城区's scheme, as the current one but for `settings`."""
    current = Scheme.objects.filter(district=m.district).latest("valid_from")
    values = {field: getattr(current, field) for field in SCHEME_FIELDS}
    values |= {"name": name, "name_en": name_en, "valid_from": valid_from, **settings}
    inspection = {"code": "inspection", "name": "区级检查", "weight": "2/3"}
    return create_scheme_version(m.district_assessor, m.district, values, [inspection])


STAND_IN = {
    # The scheme in force in July leaves a summons nobody rated out of "how well"; August's
    # counts it as 3 stars, which July's summonses do not use.
    None: {
        "zh-hans": (
            "<strong>干得好不好：</strong> 未评分（按方案不计入）",
            "2026年7月适用方案：2026年度考核（街乡评价占三分之一）。区里对2026年7月关账前均可评分。",
        ),
        "en": (
            "<strong>How well:</strong> not rated (left out by the scheme)",
            "Scheme in force for 7/2026: 2026年度考核（街乡评价占三分之一）. It can be rated "
            "until the district closes 7/2026.",
        ),
    },
    3: {
        "zh-hans": (
            "<strong>干得好不好：</strong> 未评分（按方案计 3 星）",
            "2026年7月适用方案：未评分按三星计。区里对2026年7月关账前均可评分。",
        ),
        "en": (
            "<strong>How well:</strong> not rated (counted as 3 stars by the scheme)",
            "Scheme in force for 7/2026: Unrated counted as three stars. It can be rated "
            "until the district closes 7/2026.",
        ),
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("stars", [None, 3])
def test_each_card_waiting_for_a_rating_says_what_the_months_scheme_counts_until_it_is_rated(
    client, scored, stars, language
):
    m, s = scored, scored.summonses
    if stars is None:
        scheme_version(m, date(2026, 8, 1), "八月起未评分按三星计", "From August", unrated_stars=3)
    else:
        scheme_version(
            m, date(2026, 7, 1), "未评分按三星计", "Unrated counted as three stars", unrated_stars=3
        )
    update_scores()
    client.cookies["django_language"] = language
    # The township's chief rates as its assessor does.
    client.force_login(make_person("longtan-chief", Role.TOWNSHIP_CHIEF, jurisdiction=m.longtan))
    html = html_of(client.get(HOME))
    how_well, scheme_and_window = STAND_IN[stars][language]
    for key in ("c1_urban", "c1_police", "c2_market", "c5_urban"):
        card = card_html(html, s[key])
        assert how_well in card, key
        assert f'<p class="muted rate-until">{scheme_and_window}</p>' in card, key
    # The record that scoring keeps says the same.
    record = SummonsAssessment.objects.get(summons=s["c1_urban"])
    assert record.stars_standing_in == stars


def test_a_card_of_an_evaluated_case_says_that_the_cases_evaluation_counts_until_it_is_rated(
    client, scored
):
    m, s = scored, scored.summonses
    scheme_version(m, date(2026, 7, 1), "未评分按三星计", "", unrated_stars=3)
    evaluate_case(m.longtan_assessor, s["c1_urban"].case, rating=4)
    update_scores()
    client.force_login(m.longtan_assessor)
    html = html_of(client.get(HOME))
    for key in ("c1_urban", "c1_police"):
        assert "未单独评分（按案件评价计 4 星）" in card_html(html, s[key]), key
    assert "未评分（按方案计 3 星）" in card_html(html, s["c2_market"])
    assert SummonsAssessment.objects.get(summons=s["c1_urban"]).rating == 4


def test_a_card_of_a_month_without_a_scheme_says_it_is_not_scored(client, scored):
    m, s = scored, scored.summonses
    Scheme.objects.filter(district=m.district).update(valid_from=date(2026, 8, 1))
    client.force_login(m.longtan_assessor)
    card = card_html(html_of(client.get(HOME)), s["c1_urban"])
    assert "不计分：2026年7月没有适用的考核方案" in card
    assert "适用方案：" not in card and "区里对2026年7月关账前均可评分。" in card


def test_a_rating_through_htmx_answers_with_the_rated_card_the_new_count_and_the_ratings(
    client, scored
):
    m, s = scored, scored.summonses
    summons = s["c5_urban"]
    client.force_login(m.longtan_assessor)
    page = html_of(client.get(HOME))
    assert '<span class="count" id="to-rate-count">4</span>' in page
    data = {"op": "rate", "target": summons.uuid.hex, f"rate-{summons.uuid.hex}-rating": "5"}
    response = client.post(
        HOME, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"rate-{summons.uuid.hex}"
    )
    html = html_of(response)
    assert html.startswith(f'<article class="card rate-card is-rated" id="rate-{summons.uuid.hex}"')
    assert "★★★★★" in html and "<html" not in html
    assert SummonsAssessment.objects.get(summons=summons).rating == 5
    # The page swaps in the count of what still waits and the rating just given.
    assert '<span class="count" id="to-rate-count" hx-swap-oob="true">3</span>' in html
    recent = html[html.index('<div id="rated-lately" hx-swap-oob="true">') :]
    assert summons.case.reference in recent and "最近的评分" in recent
    # Its card to rate again does not take the id of the rated card.
    assert f'id="again-{summons.uuid.hex}"' in recent
    assert f'id="rate-{summons.uuid.hex}"' not in recent


def test_a_rating_given_again_in_the_list_through_htmx_keeps_its_place_in_the_list(client, scored):
    m, s = scored, scored.summonses
    summons = s["c5_urban"]
    client.force_login(m.longtan_assessor)
    rate(client, summons, rating="3")
    page = html_of(client.get(HOME))
    recent = page[page.index('id="rated-lately"') : page.index('id="township-view"')]
    assert f'hx-target="#again-{summons.uuid.hex}"' in recent
    # A summons rated already has no stand-in to tell of.
    assert "未评分" not in recent and "关账前均可评分" not in recent
    data = {"op": "rate", "target": summons.uuid.hex, f"rate-{summons.uuid.hex}-rating": "5"}
    html = html_of(
        client.post(HOME, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"again-{summons.uuid.hex}")
    )
    assert html.startswith(
        f'<article class="card rate-card is-rated" id="again-{summons.uuid.hex}"'
    )
    assert "hx-swap-oob" not in html
    assert SummonsAssessment.objects.get(summons=summons).rating == 5


def test_a_rating_without_stars_comes_back_with_the_error_and_the_comment_kept(client, scored):
    m, s = scored, scored.summonses
    summons = s["c2_market"]
    client.force_login(m.longtan_assessor)
    html = html_of(rate(client, summons, comment="返工一次"))
    assert "请选择 1 至 5 星。" in html
    assert "返工一次</textarea>" in html
    # The list of errors names the field by its question, with no colon after it.
    assert "部门干得好不好？</a>请选择 1 至 5 星。" in html
    assert not Event.objects.filter(summons=summons, kind=EventKind.SUMMONS_RATED).exists()
    partial = html_of(
        client.post(
            HOME,
            {"op": "rate", "target": summons.uuid.hex, f"rate-{summons.uuid.hex}-rating": "9"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert partial.startswith('<article class="card rate-card"') and "field-errors" in partial
    # The card shown again still says what counts until it is rated.
    assert "未评分（按方案不计入）" in partial and "区里对2026年7月关账前均可评分。" in partial


def other_districts_closed_summons(m) -> Summons:
    """A closed case of 西城区's 金融街街道 with the summons its own township rates."""
    xicheng = Jurisdiction.objects.create(
        level="district",
        code="110102",
        name="西城区",
        parent=m.district.parent,
        boundary=square(116.2, 39.85, 0.1),
    )
    jinrongjie = Jurisdiction.objects.create(
        level="township",
        form="street_office",
        code="110102011",
        name="金融街街道",
        parent=xicheng,
        boundary=square(116.25, 39.9),
    )
    department = Department.objects.create(
        code="xc-cgw",
        name="西城区城管执法局",
        kind="functional",
        sector=m.urban.sector,
        district=xicheng,
    )
    story = Story(jinrongjie, bj(20, 9), m.dongsi_dispatcher)
    (summons,) = story.whistle(bj(20, 10), department)
    story.close(bj(21, 9))
    return summons


REFUSED = {
    "zh-hans": "没有待您评分的此编号召集：该召集不存在，或不由您评分。未保存任何内容。",
    "en": (
        "No summons with this id waits for your rating: it does not exist, or you do not rate "
        "it. Nothing was saved."
    ),
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_rating_of_a_summons_one_may_not_rate_is_refused_on_the_page(client, scored, language):
    """Another township's summons, another district's, one that does not exist, an id no
    page wrote: the page again, as a 404, with the refusal in the person's language."""
    m, s = scored, scored.summonses
    client.cookies["django_language"] = language
    client.force_login(m.dongsi_dispatcher)
    before = SummonsAssessment.objects.filter(rating__isnull=False).count()
    elsewhere = other_districts_closed_summons(m)
    targets = [s["c1_urban"].uuid.hex, elsewhere.uuid.hex, uuid.uuid4().hex, "not-a-uuid"]
    for target in targets:
        response = post_form(client, HOME, "rate", target, f"rate-{target}", rating="1")
        assert response.status_code == 404, target
        html = response.content.decode()
        assert REFUSED[language] in html, target
        assert 'id="to-rate"' in html and "<html" in html  # the page itself, in its layout
    # With htmx the card cannot hold a page: the page reloads and shows the refusal.
    target = s["c1_urban"].uuid.hex
    data = {"op": "rate", "target": target, f"rate-{target}-rating": "1"}
    response = client.post(HOME, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 404 and response["HX-Refresh"] == "true"
    assert REFUSED[language] in html_of(client.get(HOME))
    assert client.post(HOME, {"op": "nonsense"}).status_code == 400
    assert not Event.objects.filter(kind=EventKind.SUMMONS_RATED).exists()
    assert SummonsAssessment.objects.filter(rating__isnull=False).count() == before


def test_a_summons_of_a_closed_month_is_not_offered_and_its_rating_is_refused(
    client, scored, _clock
):
    m, s = scored, scored.summonses
    _clock.move_to(bj(3, 9, month=8))
    close_period(m.district_assessor, m.district, "2026-07")
    client.force_login(m.longtan_assessor)
    html = html_of(client.get(HOME))
    assert s["c1_urban"].uuid.hex not in html
    html = html_of(rate(client, s["c1_urban"], rating="5"))
    assert "已关账" in html
    assert not Event.objects.filter(kind=EventKind.SUMMONS_RATED).exists()


def test_the_township_reads_how_each_department_served_it_in_the_period(client, scored):
    m, s = scored, scored.summonses
    rate_summons(m.longtan_assessor, s["c1_urban"], 5, "")
    rate_summons(m.longtan_assessor, s["c1_police"], 4, "")
    client.force_login(m.longtan_assessor)
    html = html_of(client.get(HOME, {"period": "2026-07"}))
    view = html[html.index('id="township-view"') :]
    assert "各部门为龙潭街道服务情况 · 2026年7月" in view
    # 城管 in 龙潭: c1 100.00 and c5 (routine, not rated: acted only) 100.00.
    row = view[view.index("东城区城管执法局") :]
    assert "100.00" in row[: row.index("</tr>")]
    # 派出所: 7 minutes late (86), handled (100), 4★ (80): 89.80.
    row = view[view.index("龙潭派出所") :]
    assert "89.80" in row[: row.index("</tr>")]
    assert "吹哨率" in view
    # Another period has nothing yet.
    html = html_of(client.get(HOME, {"period": "2026-06"}))
    assert "本期尚无已定分的考核记录。" in html


def test_a_period_that_cannot_be_read_shows_the_current_month_and_says_why(client, scored):
    client.force_login(scored.longtan_assessor)
    html = html_of(client.get(HOME, {"period": "2026-13"}))
    assert "无法识别" in html
    assert '<option value="2026-07" selected>' in html
    html = html_of(client.get(HOME, {"period": "0001"}))
    assert "请选择 2000 至 2100 年之间的考核期。" in html


def test_the_district_assessor_reads_the_overview_of_the_district(client, scored):
    m = scored
    client.force_login(m.district_assessor)
    html = html_of(client.get(HOME, {"period": "2026-07"}))
    view = html[html.index('id="district-view"') :]
    assert "全区概况 · 东城区 · 2026年7月" in view
    # 派出所 ranks first before any rating (c1 late but handled, c4 decline upheld).
    assert view.index("龙潭派出所") < view.index("东城区城管执法局")
    assert view.index("东城区城管执法局") < view.index("东城区市场监管局")
    assert "龙潭街道" in view and "东四街道" in view
    assert 'id="to-rate"' not in html  # the district does not rate


@pytest.mark.parametrize("who", ["urban_officer", "police_officer"])
def test_department_staff_are_sent_to_their_records(client, scored, who):
    client.force_login(getattr(scored, who))
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == "/assessment/department/"


def test_people_without_an_assessment_role_are_refused(client, scored):
    steward = make_person("steward", Role.STEWARD, lane=scored.longtan.lanes.first())
    client.force_login(steward)
    assert client.get(HOME).status_code == 403
    resident = make_person("resident", Role.RESIDENT)
    client.force_login(resident)
    assert client.get(HOME).status_code == 403
    client.logout()
    response = client.get(HOME)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_township_choice_is_limited_to_ones_own(client, scored):
    client.force_login(scored.longtan_assessor)
    assert client.get(HOME, {"township": scored.dongsi.code}).status_code == 404


def test_the_home_page_runs_a_fixed_number_of_queries_with_forty_summonses_to_rate(
    client, scored, django_assert_max_num_queries
):
    m = scored
    for n in range(20):
        story = Story(m.longtan, bj(10, 8) + timedelta(minutes=n), m.longtan_assessor)
        summonses = story.whistle(bj(10, 9) + timedelta(minutes=n), m.urban, m.police)
        for summons in summonses:
            story.event(EventKind.CHECK_IN_ACCEPTED, bj(10, 9, 20) + timedelta(minutes=n), summons)
        for summons in summonses:
            story.event(EventKind.RESULT, bj(10, 10) + timedelta(minutes=n), summons)
        story.close(bj(10, 11) + timedelta(minutes=n))
    update_scores()
    client.force_login(m.longtan_assessor)
    # 23: the header's inbox reads the reader's roles (their shared entries) and the count;
    # the schemes of the departments' districts (with their components) say what counts
    # until each summons is rated.
    with django_assert_max_num_queries(23):
        html = html_of(client.get(HOME))
    assert html.count('class="card rate-card"') == 44


def test_the_township_reads_that_the_records_one_by_one_are_the_districts_and_the_departments(
    client, scored
):
    m = scored
    client.force_login(m.longtan_assessor)
    html = html_of(client.get(HOME, {"period": "2026-07"}))
    view = html[html.index('id="township-view"') :]
    assert "东城区城管执法局" in view
    assert "每次召集的考核记录及其评分明细由区考核员和部门本身查看，街乡不能打开" in view
    # The drill-down is not the township's: no link to it, and it is refused.
    assert "/district/rankings/" not in view
    assert client.get("/district/rankings/2026-07/dc-cgw/").status_code == 403
