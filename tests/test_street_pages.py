"""The stewards' and chiefs' pages: who may open them, the home page's lanes and problems,
the patrol page driving the patrol actions, my reports, my patrols, escalation; query
counts on every list."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.fixtures_street import MORNING, ON_THE_LANE, reported, street_fixture  # noqa: F401
from tests.lanes import lane_running_east
from whistle.cases.actions import file_case
from whistle.cases.models import Case
from whistle.patrols.actions import record_positions, start_patrol
from whistle.patrols.models import CheckResult, Patrol

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["patrol:home", "patrol:report", "patrol:mine", "patrol:history"]


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("who", ["steward", "lane_chief", "street_chief", "township_chief"])
@pytest.mark.parametrize("name", STAFF_PAGES)
def test_the_street_pages_open_for_stewards_and_chiefs(client, street, who, name):
    client.force_login(getattr(street, who))
    html = html_of(client.get(reverse(name)))
    assert '<html lang="zh-CN">' in html


@pytest.mark.parametrize("who", ["dispatcher", "officer", "assessor"])
@pytest.mark.parametrize("name", STAFF_PAGES)
def test_the_street_pages_refuse_other_roles(client, street, who, name):
    client.force_login(getattr(street, who))
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_the_street_pages_send_strangers_to_sign_in(client, street, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_home_page_links_to_the_patrol_pages_for_a_steward(client, street):
    client.force_login(street.steward)
    html = html_of(client.get("/"))
    assert 'href="/patrol/"' in html
    assert "巡查我的街巷" in html


@time_machine.travel(MORNING, tick=False)
def test_home_lists_my_lanes_with_their_open_problems_and_a_map(client, street):
    vending = reported(street.steward, category=street.vending)
    reported(street.lane_chief, "人民市场东巷东口堆放垃圾", category=street.garbage)
    client.force_login(street.steward)
    html = html_of(client.get(reverse("patrol:home")))
    assert "人民市场东巷" in html
    assert "2 个待办问题" in html
    assert vending.reference in html
    assert 'class="badge badge-open">已上报' in html
    assert "无照经营游商" in html
    assert "data-map" in html and "lanes-map" in html
    assert "开始巡查" in html
    # A lane someone else looks after is not listed.
    assert "东四六条" not in html


@time_machine.travel(MORNING, tick=False)
def test_home_runs_a_fixed_number_of_queries_however_many_lanes_and_cases(
    client, street, django_assert_max_num_queries
):
    for n in range(12):
        lane = lane_running_east(
            street.longtan, f"夕照寺{n}巷", 116.435, 39.871 + n * 0.0005, to=116.437
        )
        for _ in range(3):
            Case.objects.create(
                source="chief",
                description="井盖破损",
                lon=116.436,
                lat=39.871 + n * 0.0005,
                district=street.city.district,
                township=street.longtan,
                lane=lane,
                reported_at=MORNING,
            )
    client.force_login(street.township_chief)
    with django_assert_max_num_queries(12):
        html = html_of(client.get(reverse("patrol:home")))
    assert html.count('class="card lane-card"') == 13


@time_machine.travel(MORNING, tick=False)
def test_a_steward_starts_a_patrol_from_home_and_sees_its_checklist(client, street):
    client.force_login(street.steward)
    response = client.post(reverse("patrol:start"), {"lane": street.lane.pk})
    patrol = Patrol.objects.get(person=street.steward)
    assert response["Location"] == reverse("patrol:walk", kwargs={"patrol": patrol.uuid})
    html = html_of(client.get(response["Location"]))
    assert "人民市场东巷巡查" in html
    assert html.count('class="check-item"') == 13
    assert "无违章停车" in html and "灭火器齐全且在有效期内" in html
    assert 'data-positions-url="/patrol/walk/' in html
    home = html_of(client.get(reverse("patrol:home")))
    assert "继续巡查" in home


def test_the_patrol_page_is_never_kept_in_the_browsers_cache(client, street):
    # Its ticks change after it is drawn: the back button asks for it again.
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    response = client.get(reverse("patrol:walk", kwargs={"patrol": patrol.uuid}))
    assert response["Cache-Control"] == "private, no-store"


def patrol_strings(html: str) -> dict[str, str]:
    found = re.search(r'<script id="patrol-strings" type="application/json">(.*?)</script>', html)
    assert found is not None
    return json.loads(found[1])


def test_the_patrol_page_counts_kept_positions_in_the_singular_and_the_plural(client, street):
    client.force_login(street.steward)
    walk = client.post(reverse("patrol:start"), {"lane": street.lane.pk})["Location"]
    english = patrol_strings(client.get(walk, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert english["positions_one"] == "%(n)s position"
    assert english["positions"] == "%(n)s positions"
    assert english["offline_one"] == "No connection: %(n)s position is kept and sent later."
    assert english["offline"] == "No connection: %(n)s positions are kept and sent later."
    chinese = patrol_strings(client.get(walk).content.decode())
    assert chinese["positions_one"] == chinese["positions"] == "%(n)s 个定位点"


@time_machine.travel(MORNING, tick=False)
def test_starting_a_patrol_on_someone_elses_lane_is_refused_with_a_message(client, street):
    client.force_login(street.steward)
    response = client.post(
        reverse("patrol:start"), {"lane": street.city.dongsi_lane.pk}, follow=True
    )
    assert "请选择您负责的街巷" in response.content.decode()
    assert not Patrol.objects.exists()


@time_machine.travel(MORNING, tick=False)
def test_a_second_start_says_which_patrol_is_open(client, street):
    start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    response = client.post(reverse("patrol:start"), {"lane": street.lane.pk}, follow=True)
    assert "您正在巡查人民市场东巷" in response.content.decode()
    assert Patrol.objects.count() == 1


@time_machine.travel(MORNING, tick=False)
def test_the_page_posts_positions_as_json_and_gets_the_distance_back(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    points = [
        {
            "seq": i,
            "lon": 116.432,
            "lat": 39.872 + 0.0005 * i,
            "accuracy_m": 6,
            "at": MORNING.isoformat(),
        }
        for i in range(1)
    ] + [
        {
            "seq": 1,
            "lon": 116.432,
            "lat": 39.8725,
            "accuracy_m": 6,
            "at": (MORNING + timedelta(seconds=30)).isoformat(),
        }
    ]
    response = client.post(url, json.dumps({"points": points}), content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2 and body["points"] == 2
    assert body["distance"] == "56 米"
    assert body["location"] == "recording"


@time_machine.travel(MORNING, tick=False)
def test_positions_with_bad_json_or_bad_values_answer_400_with_a_chinese_message(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    response = client.post(url, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "无法读取位置数据。"
    bad = {"points": [{"seq": 1, "lon": 500, "lat": 39.9, "at": MORNING.isoformat()}]}
    response = client.post(url, json.dumps(bad), content_type="application/json")
    assert response.status_code == 400
    assert "WGS-84" in response.json()["error"]


def _at(text: str) -> str:
    return json.dumps({"points": [{"seq": 1, "lon": 116.432, "lat": 39.872, "at": text}]})


DEEP = "[" * 5000 + "]" * 5000
MALFORMED_POSITIONS = [
    ('{"location": {}}', "未知的定位状态。"),
    ('{"location": {"a": 1}}', "未知的定位状态。"),
    ('{"location": [1]}', "未知的定位状态。"),
    ('{"location": 5}', "未知的定位状态。"),
    ('{"location": "flying"}', "未知的定位状态。"),
    (DEEP, "无法读取位置数据。"),
    ('{"points": ' + DEEP + "}", "无法读取位置数据。"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "无法读取位置数据。"),
    ('"points"', "无法读取位置数据。"),
    ("null", "无法读取位置数据。"),
    ('{"points": {"seq": 1}}', "位置数据必须是列表。"),
    ('{"points": [[]]}', "第 1 个位置的格式不正确。"),
    (_at("2026-13-45T10:00:00+08:00"), "第 1 个位置缺少带时区的时间（at）。"),
    (_at("2026-11-26T10:00:00+99:00"), "第 1 个位置缺少带时区的时间（at）。"),
    (_at("9999-12-31T23:59:59-23:59"), "第 1 个位置缺少带时区的时间（at）。"),
    (
        '{"points": [{"seq": 1, "lon": 1' + "0" * 400 + ', "lat": 39.9, "at": "x"}]}',
        "经度必须是有效的数字。",
    ),
    ('{"points": [{"seq": 1, "lon": Infinity, "lat": 39.9, "at": "x"}]}', "经度必须是有效的数字。"),
]


@time_machine.travel(MORNING, tick=False)
@pytest.mark.parametrize(("body", "message"), MALFORMED_POSITIONS)
def test_malformed_positions_answer_400_in_chinese_and_write_nothing(client, street, body, message):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    events = list(patrol.events.values_list("kind", flat=True))
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": message}
    stored = Patrol.objects.get(pk=patrol.pk)
    assert (stored.point_count, stored.location, stored.last_activity_at) == (
        0,
        Patrol.Location.PENDING,
        patrol.last_activity_at,
    )
    assert not stored.points.exists()
    assert list(stored.events.values_list("kind", flat=True)) == events


@time_machine.travel(MORNING, tick=False)
def test_positions_are_refused_in_english_for_an_english_reader(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    for body, message in [
        (DEEP, "The positions could not be read."),
        ('{"location": {}}', "Unknown positions status."),
    ]:
        response = client.post(
            url, body, content_type="application/json", headers={"accept-language": "en"}
        )
        assert (response.status_code, response.json()) == (400, {"error": message})


@time_machine.travel(MORNING, tick=False)
def test_a_body_over_the_upload_limit_answers_400_as_json(client, street, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    body = json.dumps({"points": [], "padding": "x" * 2000})
    response = client.post(url, body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"error": "无法读取位置数据。"})


@time_machine.travel(MORNING, tick=False)
def test_positions_denied_are_posted_as_a_status(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    response = client.post(
        url, json.dumps({"points": [], "location": "denied"}), content_type="application/json"
    )
    assert response.json()["location"] == "denied"
    html = html_of(client.get(reverse("patrol:walk", kwargs={"patrol": patrol.uuid})))
    assert "未获得您的位置权限" in html


@time_machine.travel(MORNING, tick=False)
def test_someone_elses_patrol_is_not_found(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.lane_chief)
    assert client.get(reverse("patrol:walk", kwargs={"patrol": patrol.uuid})).status_code == 404
    url = reverse("patrol:positions", kwargs={"patrol": patrol.uuid})
    assert client.post(url, "{}", content_type="application/json").status_code == 404


@time_machine.travel(MORNING, tick=False)
def test_ticking_an_item_with_htmx_returns_the_item_pressed(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:check", kwargs={"patrol": patrol.uuid})
    response = client.post(
        url, {"item": "no-illegal-parking", "result": "ok"}, HTTP_HX_REQUEST="true"
    )
    html = html_of(response)
    assert html.startswith('<li class="check-item is-ok" id="item-no-illegal-parking"')
    assert 'value="ok" aria-pressed="true"' in html
    assert 'data-announce="无违章停车：正常"' in html

    html = html_of(
        client.post(url, {"item": "dog-waste", "result": "problem"}, HTTP_HX_REQUEST="true")
    )
    assert "我已自行处理" in html
    assert f"/patrol/report/?patrol={patrol.uuid}&amp;item=dog-waste" in html
    html = html_of(
        client.post(
            url,
            {"item": "dog-waste", "result": "problem", "outcome": "fixed"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "已自行处理。" in html
    assert CheckResult.objects.get(patrol=patrol, item="dog-waste").outcome == "fixed"


@time_machine.travel(MORNING, tick=False)
def test_ticking_without_javascript_redirects_back_to_the_checklist(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    url = reverse("patrol:check", kwargs={"patrol": patrol.uuid})
    response = client.post(url, {"item": "no-damaged-road", "result": "not_checked"})
    assert response["Location"].endswith("#checklist")
    response = client.post(url, {"item": "no-damaged-road", "result": "maybe"}, follow=True)
    assert "请选择“正常”“有问题”或“未检查”" in response.content.decode()


@time_machine.travel(MORNING, tick=False)
def test_ending_a_patrol_shows_its_summary(client, street):
    patrol = start_patrol(street.steward, lane=street.lane)
    with time_machine.travel(MORNING + timedelta(minutes=4), tick=False):
        record_positions(
            street.steward,
            patrol,
            points=[
                {
                    "seq": 0,
                    "lon": 116.432,
                    "lat": 39.872,
                    "accuracy_m": 5,
                    "at": MORNING.isoformat(),
                },
                {
                    "seq": 1,
                    "lon": 116.432,
                    "lat": 39.87384,
                    "accuracy_m": 5,
                    "at": (MORNING + timedelta(minutes=3)).isoformat(),
                },
            ],
        )
    client.force_login(street.steward)
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        response = client.post(reverse("patrol:end", kwargs={"patrol": patrol.uuid}), follow=True)
    html = response.content.decode()
    assert "巡查已结束" in html
    assert "204 米" in html
    patrol.refresh_from_db()
    # Two positions, one at each end: only 30 m around each count as covered.
    assert patrol.covered_ratio is not None
    assert 0.2 < patrol.covered_ratio < 0.4
    assert f"{patrol.covered_ratio * 100:.0f}%" in html


@time_machine.travel(MORNING, tick=False)
def test_my_patrols_lists_each_with_distance_and_checks_in_fixed_queries(
    client, street, django_assert_max_num_queries
):
    from whistle.patrols.actions import end_patrol, record_check

    for minutes in range(0, 200, 20):
        with time_machine.travel(MORNING + timedelta(minutes=minutes), tick=False):
            patrol = start_patrol(street.steward, lane=street.lane)
            record_check(street.steward, patrol, item="dog-waste", result="problem")
            end_patrol(street.steward, patrol)
    client.force_login(street.steward)
    # Two of them read my recognitions and the training sessions I attended, one whether I
    # am a chief assessed by a patrol requirement.
    with django_assert_max_num_queries(11):
        html = html_of(client.get(reverse("patrol:history")))
    assert html.count("人民市场东巷</a>") == 10
    assert "0 项正常，1 项有问题" in html


@time_machine.travel(MORNING, tick=False)
def test_my_patrols_count_the_checks_with_the_plural_each_number_takes(client, street):
    from whistle.patrols.actions import end_patrol, record_check

    patrol = start_patrol(street.steward, lane=street.lane)
    record_check(street.steward, patrol, item="no-illegal-parking", result="ok")
    record_check(street.steward, patrol, item="dog-waste", result="problem")
    end_patrol(street.steward, patrol)
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        patrol = start_patrol(street.steward, lane=street.lane)
        for item in ("dog-waste", "shared-bikes"):
            record_check(street.steward, patrol, item=item, result="problem")
        end_patrol(street.steward, patrol)
    client.force_login(street.steward)
    english = html_of(client.get(reverse("patrol:history"), HTTP_ACCEPT_LANGUAGE="en"))
    assert ">1 ok, 1 problem</td>" in english
    assert ">0 ok, 2 problems</td>" in english
    html = html_of(client.get(reverse("patrol:history")))
    assert ">1 项正常，1 项有问题</td>" in html
    assert ">0 项正常，2 项有问题</td>" in html


@time_machine.travel(MORNING, tick=False)
def test_my_reports_lists_my_cases_with_links_in_fixed_queries(
    client, street, django_assert_max_num_queries
):
    mine = [
        reported(street.lane_chief, f"第{n}处游商占道", category=street.vending) for n in range(8)
    ]
    other = reported(street.steward, "别人的上报")
    client.force_login(street.lane_chief)
    with django_assert_max_num_queries(8):
        html = html_of(client.get(reverse("patrol:mine")))
    for case in mine:
        assert f'href="/cases/{case.reference}/"' in html
    assert other.reference not in html
    assert html.count('data-label="状态"') == 8


@time_machine.travel(MORNING, tick=False)
def test_my_reports_offers_escalation_to_chiefs_once_a_case_is_in_progress(client, street):
    case = reported(street.lane_chief, category=street.vending)
    client.force_login(street.lane_chief)
    assert "/escalate/" not in html_of(client.get(reverse("patrol:mine")))
    file_case(street.dispatcher, case)
    assert f"/patrol/reports/{case.reference}/escalate/" in html_of(
        client.get(reverse("patrol:mine"))
    )
    # A steward cannot escalate: no button.
    reported(street.steward, category=street.vending)
    client.force_login(street.steward)
    assert "/escalate/" not in html_of(client.get(reverse("patrol:mine")))


@time_machine.travel(MORNING, tick=False)
def test_a_lane_chief_escalates_a_case_with_a_reason(client, street):
    case = reported(street.lane_chief, category=street.vending)
    file_case(street.dispatcher, case)
    client.force_login(street.lane_chief)
    url = reverse("patrol:escalate", kwargs={"reference": case.reference})
    response = client.post(url, {"reason": ""})
    html = html_of(response)
    assert "请说明升级的理由" in html
    response = client.post(url, {"reason": "游商每天傍晚复出，需要城管和派出所联合执法"})
    assert response["Location"] == reverse("patrol:mine")
    case.refresh_from_db()
    assert case.escalation == "township"
    # The list says where the case went, not a bare office's name; and so does the case.
    badge = '<span class="badge badge-backlog">已上报街乡街巷长办公室</span>'
    assert badge in html_of(client.get(reverse("patrol:mine")))
    reported_page = reverse("patrol:reported", kwargs={"reference": case.reference})
    assert badge in html_of(client.get(reported_page))
    english = html_of(client.get(reverse("patrol:mine"), HTTP_ACCEPT_LANGUAGE="en"))
    assert '<span class="badge badge-backlog">Escalated to the township chiefs&#x27;' in english


@time_machine.travel(MORNING, tick=False)
def test_escalation_refused_by_the_action_is_shown_and_the_reason_kept(client, street):
    case = reported(street.steward, category=street.vending)
    client.force_login(street.steward)
    url = reverse("patrol:escalate", kwargs={"reference": case.reference})
    html = html_of(client.post(url, {"reason": "需要街道协调"}))
    assert "需要街道协调</textarea>" in html
    assert 'class="form-refusal"' in html
    case.refresh_from_db()
    assert case.escalation == ""


@time_machine.travel(MORNING, tick=False)
def test_a_case_outside_my_area_cannot_be_escalated_from_here(client, street):
    from tests.fixtures_street import IN_DONGSI

    case = reported(street.dongsi_steward, "东四六条游商", position=IN_DONGSI)
    client.force_login(street.lane_chief)
    url = reverse("patrol:escalate", kwargs={"reference": case.reference})
    assert client.get(url).status_code == 404


def test_every_street_page_speaks_english_too(client, street):
    with time_machine.travel(MORNING, tick=False):
        patrol = start_patrol(street.steward, lane=street.lane)
    client.force_login(street.steward)
    client.cookies["django_language"] = "en"
    html = html_of(client.get(reverse("patrol:home")))
    assert "Open problems on my lanes" in html and "0 open problems" in html
    html = html_of(client.get(reverse("patrol:walk", kwargs={"patrol": patrol.uuid})))
    assert "No illegal parking" in html and "End the patrol" in html
    html = html_of(client.get(reverse("patrol:report")))
    assert "Use my position" in html and "What is the problem?" in html


@time_machine.travel(MORNING, tick=False)
def test_the_patrol_page_and_a_tick_run_a_fixed_number_of_queries(
    client, street, django_assert_max_num_queries
):
    from whistle.patrols.actions import record_check

    patrol = start_patrol(street.steward, lane=street.lane)
    for key in ("no-illegal-parking", "dog-waste", "shared-bikes", "no-damaged-road"):
        record_check(street.steward, patrol, item=key, result="ok")
    client.force_login(street.steward)
    # 8: the header's inbox reads the reader's roles (their shared entries) and the count.
    with django_assert_max_num_queries(8):
        html = html_of(client.get(reverse("patrol:walk", kwargs={"patrol": patrol.uuid})))
    assert html.count('aria-pressed="true"') == 4
    assert "还有 9 项未勾选" in html
    url = reverse("patrol:check", kwargs={"patrol": patrol.uuid})
    with django_assert_max_num_queries(16):
        html = html_of(
            client.post(url, {"item": "fire-extinguishers", "result": "ok"}, HTTP_HX_REQUEST="true")
        )
    # The count under the checklist follows, out of band.
    assert 'id="unticked" hx-swap-oob="true">还有 8 项未勾选' in html


@time_machine.travel(MORNING, tick=False)
def test_the_patrol_page_and_the_list_of_lanes_count_a_lanes_open_problems_alike(client, street):
    """Both count every case on the lane not yet closed, a report awaiting filing included;
    the list of lanes says how many of them the public page leaves out for now."""
    awaiting = reported(street.steward, category=street.vending)
    filed = reported(street.lane_chief, "人民市场东巷东口堆放垃圾", category=street.garbage)
    file_case(street.dispatcher, filed, category=street.garbage)
    client.force_login(street.lane_chief)
    assert "2 个待办问题" in html_of(client.get(reverse("patrol:home")))
    lanes = html_of(client.get("/lanes/"))
    row = lanes[lanes.index(f">{street.lane.name}</a></th>") :]
    row = row[: row.index("</tr>")]
    assert 'data-label="待办问题"><span>2 <span class="muted">（1 个待立案，尚未公示）' in row
    public = html_of(client.get(street.lane.get_absolute_url()))
    assert awaiting.reference not in public
