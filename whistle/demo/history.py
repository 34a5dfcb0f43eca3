"""A lived-in history for the demo city: four weeks of cases around 龙潭街道.

``build_history(seed)`` plays some twenty stories through the real case actions, each step
at an explicit moment of the past weeks, and runs the worker's deadline sweep between the
steps, so that overdue summonses, reminders and automatic escalations appear in the trail at
the moments the worker would have recorded them. When it is done the city holds cases in
every state: reported, filed, summoned, on site, overdue, escalated, declined, sent back for
rework, on the backlog, closed and evaluated, each with its complete trail.

It needs the demo city (``whistle seed-demo``) and finds everything by natural keys:
district 110101, township 龙潭街道, lane 人民市场东巷, people through their roles (the demo
logins first). The stories and their order follow from the seed; the dates count back from
the moment of the build. A district that already has cases is left alone, so running it
again changes nothing.

``build_xicheng_history(seed)`` plays eight of the same stories in 西城区's three street
offices (``plan_xicheng``), with its own people and departments, so that its dispatcher
finds a history of its own and nobody of the other district finds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from whistle.cases import actions
from whistle.cases.deadlines import sweep
from whistle.cases.models import Attachment, Case, Event, Summons, SupervisionNotice, Whistle
from whistle.demo.data import places
from whistle.organisation import geo
from whistle.organisation import places as city_places
from whistle.organisation.models import Department, Jurisdiction, Lane, Person, Role
from whistle.policies.calendar import to_local
from whistle.policies.models import Category, CategoryKind, WhistleKind

DISTRICT_CODE = "110101"
TOWNSHIP_NAME = "龙潭街道"
DEMO_LANE = "人民市场东巷"
DAYS = 28
# The demo logins act wherever their role fits, so that signing in shows their own history.
PREFERRED_USERNAMES = (
    "dispatcher",
    "xicheng-dispatcher",
    "township-chief",
    "township-assessor",
    "steward",
    "lane-chief",
    "street-chief",
    "officer-urban",
    "officer-police",
    "department-head",
    "chiefs-office",
    "district-chief",
    "resident",
)

# What people report, by category (kind, 4-digit code).
DESCRIPTIONS: dict[tuple[str, str], list[str]] = {
    (CategoryKind.EVENT, "0501"): [
        "巷口有流动摊贩占道卖水果，行人只能从车道上绕过去",
        "三轮车流动摊点在巷内叫卖，占了半条路",
    ],
    (CategoryKind.EVENT, "0102"): [
        "路边堆了十几袋生活垃圾，两天没人清运",
        "垃圾桶旁散落装修垃圾和生活垃圾",
    ],
    (CategoryKind.EVENT, "0604"): ["巷子里有多处狗粪，老人孩子经过很不方便"],
    (CategoryKind.EVENT, "0603"): ["共享单车堆在巷口，占了盲道"],
    (CategoryKind.EVENT, "0605"): ["楼道灭火器过期，压力表指针在红区"],
    (CategoryKind.EVENT, "0601"): ["院内新搭起彩钢板房，疑似违法建设"],
    (CategoryKind.EVENT, "0607"): ["临街外墙墙皮大面积脱落，下面是人行道"],
    (CategoryKind.EVENT, "0301"): ["旁边工地夜里十一点还在施工，噪音扰民"],
    (CategoryKind.EVENT, "0505"): ["小区楼门前堆放装修材料，占了一半过道"],
    (CategoryKind.EVENT, "0506"): ["晚上有人在巷口露天烧烤，油烟很大"],
    (CategoryKind.EVENT, "0201"): ["墙上和电线杆上贴满办证小广告"],
    (CategoryKind.EVENT, "0610"): ["私家车停在消防通道上，消防车进不来"],
}


class HistoryError(ValueError):
    """The demo city the history needs is not there."""


@dataclass
class Cast:
    """The places and people of the demo township, found by natural keys and roles."""

    district: Jurisdiction
    township: Jurisdiction
    lanes: list[Lane]
    demo_lane: Lane
    dispatcher: Person
    chief: Person
    office: Person | None
    assessor: Person | None
    district_office: Person | None
    district_chief: Person | None
    # Whose account the residents' reports come from, so that signing in shows them.
    resident: Person | None
    categories: dict[tuple[str, str], Category]
    fallback_categories: list[Category]
    # Who the residents' reports come from (a name and phone the township may see).
    resident_name: str = "蔡秀英"
    resident_phone: str = "13911112222"
    _cache: dict[Any, Person | None] = field(default_factory=dict)

    def category(self, kind: str, code: str) -> Category:
        found = self.categories.get((kind, code))
        if found is not None:
            return found
        # A city without this category: take one of its own, always the same for a code.
        return self.fallback_categories[int(code) % len(self.fallback_categories)]

    def description(self, category: Category, rng: random.Random) -> str:
        key = (category.major.kind, category.full_code)
        return rng.choice(DESCRIPTIONS.get(key) or [f"{category.name}，请尽快处理"])

    def lane_person(self, lane: Lane, *roles: str) -> Person | None:
        key = ("lane", lane.pk, roles)
        if key not in self._cache:
            self._cache[key] = _pick(
                Person.objects.filter(roles__role__in=roles, roles__lane=lane)
            ) or _pick(
                Person.objects.filter(roles__role__in=roles, roles__lane__township=self.township)
            )
        return self._cache[key]

    def officer(self, department: Department) -> Person | None:
        key = ("department", department.pk)
        if key not in self._cache:
            staff = Person.objects.filter(roles__department=department, is_active=True)
            self._cache[key] = _pick(staff.filter(roles__role=Role.DEPARTMENT_OFFICER)) or _pick(
                staff.filter(roles__role=Role.DEPARTMENT_HEAD)
            )
        return self._cache[key]


def _pick(people: Any) -> Person | None:
    candidates = list(people.filter(is_active=True).distinct().order_by("username"))
    for username in PREFERRED_USERNAMES:
        for person in candidates:
            if person.username == username:
                return person
    return candidates[0] if candidates else None


def _role_holder(role: str, jurisdiction: Jurisdiction) -> Person | None:
    return _pick(Person.objects.filter(roles__role=role, roles__jurisdiction=jurisdiction))


def find_cast(
    district_code: str = DISTRICT_CODE,
    township_name: str = TOWNSHIP_NAME,
    demo_lane: str | None = DEMO_LANE,
    *,
    with_resident: bool = True,
) -> Cast:
    """The cast of one township; `demo_lane` None takes its first lane, `with_resident`
    False has residents report without the demo's resident account."""
    district = Jurisdiction.objects.filter(
        level=Jurisdiction.Level.DISTRICT, code=district_code
    ).first()
    township = (
        Jurisdiction.objects.filter(
            level=Jurisdiction.Level.TOWNSHIP, name=township_name, parent=district
        ).first()
        if district
        else None
    )
    if district is None or township is None:
        raise HistoryError(
            _("The demo city is not there (district %(code)s, %(township)s): run seed-demo.")
            % {"code": district_code, "township": township_name}
        )
    lanes = list(Lane.objects.filter(township=township).order_by("name"))
    lane = next((x for x in lanes if x.name == demo_lane), None) if demo_lane else None
    if demo_lane is None and lanes:
        lane = lanes[0]
    dispatcher = _role_holder(Role.DISPATCHER, township)
    chief = _role_holder(Role.TOWNSHIP_CHIEF, township) or dispatcher
    if lane is None or dispatcher is None or chief is None:
        raise HistoryError(
            _("The demo township needs the lane %(lane)s and a dispatcher: run seed-demo.")
            % {"lane": demo_lane or township_name}
        )
    categories = list(
        Category.objects.filter(major__district=district, is_active=True)
        .select_related("major")
        .order_by("major__kind", "major__code", "code")
    )
    if not categories:
        raise HistoryError(_("The demo district has no problem categories: run seed-demo."))
    return Cast(
        district=district,
        township=township,
        lanes=lanes,
        demo_lane=lane,
        dispatcher=dispatcher,
        chief=chief,
        office=_role_holder(Role.CHIEFS_OFFICE, township),
        assessor=_role_holder(Role.TOWNSHIP_ASSESSOR, township),
        district_office=_role_holder(Role.CHIEFS_OFFICE, district),
        district_chief=_role_holder(Role.DISTRICT_CHIEF, district),
        resident=(
            _pick(Person.objects.filter(roles__role=Role.RESIDENT)) if with_resident else None
        ),
        categories={(c.major.kind, c.full_code): c for c in categories},
        fallback_categories=categories,
    )


# Places, phones and photos ---------------------------------------------------------------

# How long before the check-in the phone took its fix, and how coarse the fix of the
# check-in left for the township to confirm is (beyond the radius of 300 m).
DEVICE_LAG_SECONDS = 4
FLAGGED_ACCURACY_M = 350.0


def phone_of(person: Person) -> str:
    """A stable stand-in for the id the check-in page keeps in each officer's browser."""
    return hashlib.sha256(f"demo-phone:{person.username}".encode()).hexdigest()[:32]


def point_on(lane: Lane, rng: random.Random) -> tuple[float, float]:
    """A point on the lane's centre line."""
    positions = geo.line_positions(lane.centre_line)
    index = rng.randrange(len(positions) - 1)
    (x1, y1), (x2, y2) = positions[index], positions[index + 1]
    share = rng.uniform(0.2, 0.8)
    return round(x1 + (x2 - x1) * share, 6), round(y1 + (y2 - y1) * share, 6)


def near(point: tuple[float, float], metres: float, rng: random.Random) -> tuple[float, float]:
    lon, lat, _back = geo.WGS84.fwd(point[0], point[1], rng.uniform(0, 360), metres)
    return round(lon, 6), round(lat, 6)


def photo(rng: random.Random) -> bytes:
    """A small JPEG that stands in for a phone photo."""
    image = Image.new("RGB", (96, 72), tuple(rng.randrange(60, 200) for _ in range(3)))
    for x in range(0, 96, 12):
        shade = tuple(rng.randrange(0, 256) for _ in range(3))
        image.paste(shade, (x, rng.randrange(0, 48), x + 6, 72))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


# Stories ---------------------------------------------------------------------------------

Step = Callable[[datetime], Any]


@dataclass
class Story:
    """One case's course: steps at minutes after its start."""

    cast: Cast
    rng: random.Random
    start: datetime
    lane: Lane
    steps: list[tuple[datetime, int, Step]] = field(default_factory=list)
    case: Case | None = None
    whistle: Whistle | None = None
    summonses: list[Summons] = field(default_factory=list)
    notice: SupervisionNotice | None = None
    point: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        self.point = point_on(self.lane, self.rng)

    def at(self, minutes: float, step: Step) -> None:
        self.steps.append((self.start + timedelta(minutes=minutes), len(self.steps), step))

    # The people of this story.
    @property
    def steward(self) -> Person | None:
        return self.cast.lane_person(self.lane, Role.STEWARD)

    @property
    def lane_chief(self) -> Person | None:
        return self.cast.lane_person(self.lane, Role.LANE_CHIEF, Role.STREET_CHIEF)

    def officer(self, summons: Summons) -> Person:
        person = self.cast.officer(summons.department)
        if person is None:
            raise HistoryError(f"{summons.department} has no officer")
        return person

    def fresh(self) -> Case:
        assert self.case is not None
        self.case = Case.objects.get(pk=self.case.pk)
        return self.case

    # Steps shared by the stories.
    def report(self, category: Category, *, by: Person | None = None, photos: int = 0) -> Step:
        def step(now: datetime) -> None:
            fields: dict[str, Any] = {
                "description": self.cast.description(category, self.rng),
                "lon": self.point[0],
                "lat": self.point[1],
                "accuracy_m": round(self.rng.uniform(4, 20), 1),
                "category": category,
                "photos": [photo(self.rng) for _ in range(photos)],
                "now": now,
            }
            reporter = by or self.steward
            try:
                self.case = actions.report_case(reporter or self.cast.dispatcher, **fields)
            except actions.PermissionRefused:
                # The lane's people are not set up as expected: the township reports it.
                self.case = actions.report_case(self.cast.dispatcher, **fields)

        return step

    def file(self, category: Category) -> Step:
        def step(now: datetime) -> None:
            actions.file_case(self.cast.dispatcher, self.fresh(), category=category, now=now)

        return step

    def blow(self, kind: str = WhistleKind.ROUTINE, departments: int = 2) -> Step:
        def step(now: datetime) -> None:
            case = self.fresh()
            chosen = [s.department for s in actions.suggest_departments(case)][:departments]
            self.whistle = actions.blow_whistle(
                self.cast.dispatcher,
                case,
                kind=kind,
                departments=chosen,
                meeting_point=f"{self.lane.name}路口",
                note=_note(kind),
                now=now,
            )
            self.summonses = list(self.whistle.summonses.order_by("pk"))

        return step

    def dispatch(self) -> Step:
        def step(now: datetime) -> None:
            case = self.fresh()
            department = actions.suggest_departments(case)[0].department
            self.summonses = [
                actions.dispatch_case(self.cast.dispatcher, case, department=department, now=now)
            ]

        return step

    def on_summons(self, index: int, action: Callable[..., Any], **kwargs: Any) -> Step:
        def step(now: datetime) -> None:
            if index >= len(self.summonses):
                return  # fewer departments were suggested than the story can use
            summons = self.summonses[index]
            self.summonses[index] = action(self.officer(summons), summons, now=now, **kwargs)

        return step

    def result(self, index: int, texts: dict[str, str]) -> Step:
        """The summoned department reports its result in the words of its own sector's work
        (`texts` by sector code)."""

        def step(now: datetime) -> None:
            if index >= len(self.summonses):
                return
            summons = Summons.objects.select_related("department__sector").get(
                pk=self.summonses[index].pk
            )
            text = texts.get(summons.department.sector.code, DONE)
            self.summonses[index] = actions.report_result(
                self.officer(summons), summons, result=text, now=now
            )

        return step

    def check_in(self, index: int, metres: float = 40, *, accuracy_m: float | None = None) -> Step:
        """The officer checks in with the phone's position, as the check-in page sends it:
        from the device, with its accuracy, the device's time of the fix a few seconds
        before and the phone's id. A coarse `accuracy_m` makes a flagged check-in."""

        def step(now: datetime) -> None:
            if index >= len(self.summonses):
                return
            lon, lat = near(self.point, metres, self.rng)
            accuracy = round(self.rng.uniform(5, 30), 1)
            summons = self.summonses[index]
            officer = self.officer(summons)
            # A check-in too far away is meant to be refused: it stays in the trail.
            with contextlib.suppress(actions.CheckInRefused):
                self.summonses[index] = actions.check_in(
                    officer,
                    summons,
                    lon=lon,
                    lat=lat,
                    source="device",
                    accuracy_m=accuracy_m if accuracy_m is not None else accuracy,
                    device_time=now - timedelta(seconds=DEVICE_LAG_SECONDS),
                    device_id=phone_of(officer),
                    now=now,
                )

        return step

    def try_to_leave(self, index: int) -> Step:
        def step(now: datetime) -> None:
            if index >= len(self.summonses):
                return
            summons = self.summonses[index]
            # Leaving before the case is resolved is refused (and stays in the trail).
            with contextlib.suppress(actions.CheckOutRefused):
                self.summonses[index] = actions.check_out(self.officer(summons), summons, now=now)

        return step

    def township(
        self, action: Callable[..., Any], *, by: Person | None = None, **kwargs: Any
    ) -> Step:
        def step(now: datetime) -> None:
            values = {name: _resolve(value) for name, value in kwargs.items()}
            action(by or self.cast.dispatcher, self.fresh(), now=now, **values)

        return step

    def on_site_and_done(self, first: float, results: float, texts: dict[str, str]) -> None:
        """Every summoned department acknowledges, checks in and reports its result."""
        for index in range(2):
            self.at(first + 2 + index * 3, self.on_summons(index, actions.acknowledge))
            self.at(first + 12 + index * 9, self.check_in(index))
            self.at(results + index * 4, self.result(index, texts))


def _note(kind: str) -> str:
    notes: dict[str, str] = {
        WhistleKind.ROUTINE: "请相关部门30分钟内到场处置",
        WhistleKind.TOUGH: "多部门联合攻坚，请负责同志到场",
        WhistleKind.EMERGENCY: "紧急情况，请立即到场",
    }
    return notes.get(kind, "")


# What a department reports of a street-vendor whistle, by its sector: urban-management
# enforcement deals with the vendor, market regulation checks what is sold, the police keep
# order and assist (street vending is urban management's business, never theirs).
VENDOR_RESULTS: dict[str, str] = {
    "urban_management": "已劝离游商，清理占道物品",
    "market_regulation": "检查摊上水果的进货来源，告知摊主到农贸市场内登记经营",
    "public_security": "协助城管执法队维持现场秩序，对阻挠执法的摊主批评教育",
}
# What the team reports of a vendor who would not leave while the police kept order.
SEIZED = "摊主拒不离开，依法暂扣其三轮车和货物，已立案查处"
# What a department of another sector reports.
DONE = "已到现场处置完毕，恢复正常秩序"
# What the urban-management team reports of the cases it is sent alone, by category: it
# enforces, the sanitation crews clear the rubbish.
ROUTINE_WORK: dict[str, tuple[str, str]] = {
    "0102": (
        "已通知环卫作业队前往清运，执法队员在查找乱倒垃圾的责任人",
        "环卫作业队已清运完毕，乱倒垃圾的沿街商户已责令改正",
    ),
    "0201": (
        "已安排队员清除，并核查小广告上留的电话号码",
        "墙面和电线杆上的小广告已清除，所留号码已报通信管理部门停机",
    ),
}


def _ordinary_close(story: Story, handled: float, *, rating: int | None = None) -> None:
    cast = story.cast
    story.at(handled, story.township(actions.mark_handled, note="现场已恢复"))
    story.at(handled + 25, story.township(actions.check_passed, note="核查现场，问题已解决"))
    story.at(handled + 30, story.township(actions.close_case))
    if rating is not None:
        evaluator = cast.assessor or cast.dispatcher
        # The assessor evaluates the next morning, in office hours.
        closed = to_local(story.start + timedelta(minutes=handled + 30))
        morning = (closed + timedelta(days=1)).replace(
            hour=9, minute=story.rng.randrange(0, 60), second=0, microsecond=0
        )
        story.at(
            (morning - story.start).total_seconds() / 60,
            story.township(actions.evaluate_case, by=evaluator, rating=rating),
        )


def closed_whistle(story: Story, *, late: bool = False, rating: int = 5) -> None:
    """A whistle answered by the book; with `late`, one department first checks in 800 m
    away, arrives 41 minutes after the whistle and tries to leave early."""
    category = story.cast.category(CategoryKind.EVENT, "0501")
    story.at(0, story.report(category, photos=1))
    story.at(6, story.file(category))
    story.at(10, story.blow())
    story.at(12, story.on_summons(0, actions.acknowledge))
    story.at(14, story.on_summons(1, actions.acknowledge))
    story.at(22, story.check_in(0))
    if late:
        story.at(33, story.check_in(1, metres=800))
        story.at(51, story.check_in(1))
        story.at(70, story.try_to_leave(1))
    else:
        story.at(31, story.check_in(1))
    story.at(85, story.result(0, VENDOR_RESULTS))
    story.at(88, story.result(1, VENDOR_RESULTS))
    _ordinary_close(story, 95, rating=rating)
    story.at(131, story.try_to_leave(0))
    story.at(133, story.try_to_leave(1))


def closed_routine(story: Story, *, code: str = "0102", rating: int = 4) -> None:
    category = story.cast.category(CategoryKind.EVENT, code)
    story.at(0, story.report(category, by=story.lane_chief))
    story.at(15, story.file(category))
    story.at(18, story.dispatch())
    story.at(35, story.on_summons(0, actions.acknowledge))
    progress, result = ROUTINE_WORK.get(code, ("已安排队员前往", DONE))
    story.at(70, story.on_summons(0, actions.report_progress, text=progress))
    story.at(
        110,
        story.on_summons(0, actions.report_result, result=result, photos=[photo(story.rng)]),
    )
    _ordinary_close(story, 120, rating=rating)


def solved_on_the_spot(story: Story) -> None:
    category = story.cast.category(CategoryKind.EVENT, "0604")
    story.at(0, story.report(category))
    story.at(8, story.file(category))
    story.at(
        20,
        story.township(
            actions.solve_on_spot,
            by=story.steward or story.cast.dispatcher,
            note="小巷管家随身带的工具当场清理干净",
        ),
    )
    story.at(60, story.township(actions.check_passed, note="已核实"))
    story.at(65, story.township(actions.close_case))


def rejected(story: Story) -> None:
    category = story.cast.category(CategoryKind.EVENT, "0505")
    story.at(0, story.report(category))
    story.at(
        25, story.township(actions.reject_case, reason="位于小区院内，属物业管理范围，已转告物业")
    )


def merged(story: Story) -> None:
    category = story.cast.category(CategoryKind.EVENT, "0603")
    first: dict[str, Case] = {}

    def keep_first(now: datetime) -> None:
        first["case"] = story.fresh()

    story.at(0, story.report(category))
    story.at(1, keep_first)
    story.at(30, story.report(category, by=story.lane_chief))
    story.at(40, story.township(actions.merge_case, into=_Lazy(first, "case")))
    story.at(41, lambda now: setattr(story, "case", first["case"]))
    story.at(45, story.file(category))
    story.at(50, story.dispatch())
    story.at(80, story.on_summons(0, actions.acknowledge))


class _Lazy:
    """A value another step fills in before it is used."""

    def __init__(self, box: dict[str, Any], key: str) -> None:
        self.box, self.key = box, key

    def resolve(self) -> Any:
        return self.box[self.key]


def hotline(story: Story, *, satisfied: bool) -> None:
    cast = story.cast
    category = cast.category(CategoryKind.EVENT, "0301")

    def receive(now: datetime) -> None:
        story.case = actions.take_hotline_order(
            cast.dispatcher,
            number=f"{to_local(now):%Y%m%d}{story.rng.randrange(10000, 99999)}",
            description=cast.description(category, story.rng) + "（12345转来）",
            lon=story.point[0],
            lat=story.point[1],
            caller_name="张先生",
            caller_phone="13800138000",
            called_at=now - timedelta(minutes=20),
            category=category,
            now=now,
        ).case

    story.at(0, receive)
    story.at(10, story.file(category))
    story.at(12, story.dispatch())
    story.at(30, story.on_summons(0, actions.acknowledge))
    story.at(150, story.on_summons(0, actions.report_result, result="已责令停止夜间施工"))
    _ordinary_close(story, 170)
    story.at(
        180,
        story.township(
            actions.record_hotline_reply,
            kind="done",
            reply="经核实，城管已责令工地停止夜间施工，并将持续巡查。",
        ),
    )
    story.at(
        60 * 24,
        story.township(
            actions.record_resident_callback,
            by=cast.assessor or cast.dispatcher,
            satisfied=satisfied,
            resolved=satisfied,
            note="回访市民，满意" if satisfied else "回访市民，表示夜间仍有噪音",
        ),
    )


def _resident_report(story: Story, category: Category) -> Step:
    """A report from the resident's account (the demo's resident login)."""

    def step(now: datetime) -> None:
        story.case = actions.report_resident_case(
            name=story.cast.resident_name,
            phone=story.cast.resident_phone,
            description=story.cast.description(category, story.rng),
            lon=story.point[0],
            lat=story.point[1],
            reporter=story.cast.resident,
            now=now,
        ).case

    return step


def resident(story: Story) -> None:
    cast = story.cast
    category = cast.category(CategoryKind.EVENT, "0102")
    story.at(0, _resident_report(story, category))
    story.at(20, story.file(category))
    story.at(25, story.dispatch())
    story.at(40, story.on_summons(0, actions.acknowledge))
    story.at(100, story.on_summons(0, actions.report_result, result=ROUTINE_WORK["0102"][1]))
    _ordinary_close(story, 110)
    story.at(
        60 * 26,
        story.township(
            actions.record_resident_callback,
            by=cast.assessor or cast.dispatcher,
            satisfied=False,
            note="居民反映第二天又堆了，希望增加清运频次",
        ),
    )


def resident_in_progress(story: Story) -> None:
    """The resident's latest report, with the department at work on it."""
    category = story.cast.category(CategoryKind.EVENT, "0201")
    story.at(0, _resident_report(story, category))
    story.at(15, story.file(category))
    story.at(20, story.dispatch())
    story.at(45, story.on_summons(0, actions.acknowledge))


def rework(story: Story) -> None:
    category = story.cast.category(CategoryKind.EVENT, "0501")
    story.at(0, story.report(category))
    story.at(5, story.file(category))
    story.at(8, story.blow())
    story.on_site_and_done(8, 60, VENDOR_RESULTS)
    story.at(70, story.township(actions.mark_handled))
    story.at(75, story.try_to_leave(0))
    story.at(
        60 * 22,
        story.township(actions.send_back_for_rework, reason="核查时发现游商又回来了，需要巩固"),
    )
    story.at(60 * 22 + 25, story.check_in(0))


def backlog(story: Story, review_on: date) -> None:
    category = story.cast.category(CategoryKind.EVENT, "0607")
    story.at(0, story.report(category, photos=1))
    story.at(30, story.file(category))
    story.at(40, story.blow(WhistleKind.TOUGH, departments=1))
    story.at(45, story.on_summons(0, actions.acknowledge))
    story.at(70, story.check_in(0))
    story.at(
        100, story.on_summons(0, actions.report_progress, text="已拉警戒线，需产权单位出资维修")
    )
    story.at(
        60 * 24,
        story.township(
            actions.put_on_backlog,
            reason="产权单位正在走维修资金审批，短期无法完成，先挂账跟踪",
            review_on=review_on,
        ),
    )


def decline_for_another(officer: Person, summons: Summons, *, now: datetime) -> Summons:
    """The summons declined as the work of another department the case's category makes
    responsible, which the reason names (the first the township would summon)."""
    case = Case.objects.select_related("category").get(pk=summons.case_id)
    others = [
        s.department
        for s in actions.suggest_departments(case)
        if s.responsible and s.department.pk != summons.department_id
    ]
    reason = (
        f"不属于本部门职责：{case.category.name}由{others[0].name}查处，建议由其处理"
        if case.category is not None and others
        else "不属于本部门职责，请另行召集责任部门"
    )
    return actions.decline(officer, summons, reason=reason, now=now)


def declined(story: Story, *, pending: bool) -> None:
    cast = story.cast
    category = cast.category(CategoryKind.EVENT, "0501")
    story.at(0, story.report(category))
    story.at(5, story.file(category))
    story.at(10, story.blow())
    story.at(13, story.on_summons(0, actions.acknowledge))
    story.at(16, story.on_summons(1, decline_for_another))
    story.at(30, story.check_in(0))
    if pending:
        return

    def uphold(now: datetime) -> None:
        summons = story.summonses[1]
        story.summonses[1] = actions.rule_on_decline(
            cast.dispatcher, summons, uphold=True, note="同意，另行召集", now=now
        )

    def summon_other(now: datetime) -> None:
        case = story.fresh()
        taken = {s.department_id for s in story.summonses}
        others = [
            s.department for s in actions.suggest_departments(case) if s.department.pk not in taken
        ]
        if others and story.whistle is not None:
            story.summonses += actions.summon_more(
                cast.dispatcher, story.whistle, departments=others[:1], now=now
            )

    story.at(25, uphold)
    story.at(27, summon_other)
    story.at(32, story.on_summons(2, actions.acknowledge))
    story.at(48, story.check_in(2))
    # The team enforces once the police are there to keep order; the police assist.
    story.at(70, story.result(0, {"urban_management": SEIZED}))
    story.at(75, story.result(2, VENDOR_RESULTS))
    _ordinary_close(story, 90, rating=3)


def escalated(story: Story) -> None:
    cast = story.cast
    category = cast.category(CategoryKind.EVENT, "0601")
    story.at(0, story.report(category, by=story.lane_chief, photos=1))
    story.at(20, story.file(category))
    story.at(30, story.blow(WhistleKind.TOUGH))
    story.at(33, story.on_summons(0, actions.acknowledge))
    story.at(36, story.on_summons(1, actions.acknowledge))
    story.at(50, story.check_in(0))
    story.at(55, story.check_in(1))
    story.at(
        70, story.on_summons(0, actions.report_progress, text="当事人拒不停工，需规划部门认定")
    )
    story.at(
        90,
        story.township(
            actions.escalate, by=story.lane_chief, reason="巷长协调不了，当事人拒不停工"
        ),
    )
    story.at(
        120, story.township(actions.escalate, by=cast.chief, reason="需要区级部门联合认定违法建设")
    )
    office = cast.district_office
    if office is None:
        return

    def notice(now: datetime) -> None:
        summons = story.summonses[-1]
        story.notice = actions.issue_supervision_notice(
            office,
            story.fresh(),
            department=summons.department,
            text="请于三日内完成违法建设认定并书面报告",
            due_at=now + timedelta(days=3),
            now=now,
        )

    story.at(60 * 24, notice)


def open_now(story: Story, stage: str) -> None:
    """A case of the last hours, left where `stage` says; "on_site" leaves one check-in
    flagged for the township to confirm."""
    category = story.cast.category(CategoryKind.EVENT, "0610" if stage == "summoned" else "0501")
    story.at(0, story.report(category))
    if stage == "reported":
        return
    story.at(5, story.file(category))
    if stage == "filed":
        return
    story.at(12, story.blow(WhistleKind.EMERGENCY if stage == "summoned" else WhistleKind.ROUTINE))
    if stage == "summoned":
        return
    story.at(15, story.on_summons(0, actions.acknowledge))
    story.at(30, story.check_in(0))
    if stage == "overdue":
        # The second department never answers: the sweep records it overdue and escalates.
        return
    story.at(17, story.on_summons(1, actions.acknowledge))
    # Indoors, the second phone gives a coarse fix: the check-in waits for the township.
    story.at(36, story.check_in(1, accuracy_m=FLAGGED_ACCURACY_M))


# Running the stories ---------------------------------------------------------------------


def _resolve(value: Any) -> Any:
    return value.resolve() if isinstance(value, _Lazy) else value


@contextlib.contextmanager
def clock_stopped_at(moment: datetime) -> Iterator[None]:
    """The clock reads `moment` for the duration of one sweep or one step of a story.

    A sweep follows the clock during a long pass (never back); replaying the past, the
    clock must stand at the moment replayed, or everything would be recorded as of today
    (the messages a step sends carry the moment the outbox reads from the clock).
    """
    original = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = original


T = TypeVar("T")


def done_at(moment: datetime, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`action` done at `moment` of the past, the clock standing there: its messages in the
    inbox are dated then, as its record is."""
    with clock_stopped_at(moment):
        return action(*args, now=moment, **kwargs)


def _sweep_until(moment: datetime, since: datetime | None) -> None:
    """Let the deadline sweep do, up to `moment`, what the worker would have done.

    `since` is the moment of the step played last: the worker's clock had passed it, so
    what fell due earlier but became known only through that step (a reminder point of a
    deadline that rework moved) is recorded then, never before it.
    """
    previous: datetime | None = None
    while True:
        due = min(
            (
                d
                for d in (
                    Summons.objects.aggregate(due=Min("next_check_at"))["due"],
                    SupervisionNotice.objects.aggregate(due=Min("next_check_at"))["due"],
                )
                if d is not None
            ),
            default=None,
        )
        if due is None or due > moment:
            return
        at = max(due, since) if since is not None else due
        if previous is not None and at <= previous:
            at = moment
        with clock_stopped_at(at):
            sweep(at, batch=500)
        if at == moment:
            return
        previous = at


@city_places.batch()
def play(stories: list[Story], end: datetime) -> int:
    """Play the stories' steps up to `end` in the order of their moments, with the deadline
    sweep between them as the worker would have run it, the clock at each step's moment (its
    messages in the inbox are dated as its trail event); returns the number of steps played.
    The stories change nothing of the map: their cases are located on one map, its revision
    token read once."""
    steps = sorted(
        (when, number, index, step)
        for number, story in enumerate(stories)
        for when, index, step in story.steps
        if when <= end
    )
    played: datetime | None = None
    for when, _number, _index, step in steps:
        _sweep_until(when, played)
        with clock_stopped_at(when):
            step(when)
        played = when
    _sweep_until(end, played)
    return len(steps)


def _day(end: datetime, days_ago: int, rng: random.Random) -> datetime:
    """A working-hours moment (Beijing time) `days_ago` days before `end`."""
    local = to_local(end) - timedelta(days=days_ago)
    minute = rng.randrange(8 * 60 + 30, 15 * 60)
    return local.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)


def plan(cast: Cast, rng: random.Random, end: datetime) -> list[Story]:
    """The stories, each with its start; the same seed gives the same plan."""
    other_lanes = [lane for lane in cast.lanes if lane.pk != cast.demo_lane.pk] or [cast.demo_lane]

    def story(start: datetime, lane: Lane | None = None) -> Story:
        return Story(cast, random.Random(rng.random()), start, lane or rng.choice(other_lanes))

    stories: list[tuple[Story, Callable[[Story], None]]] = [
        (story(_day(end, 25, rng), cast.demo_lane), lambda s: closed_whistle(s, rating=5)),
        (
            story(_day(end, 19, rng), cast.demo_lane),
            lambda s: closed_whistle(s, late=True, rating=3),
        ),
        (story(_day(end, 12, rng)), lambda s: closed_whistle(s, rating=4)),
        (story(_day(end, 22, rng)), lambda s: closed_routine(s, rating=4)),
        (story(_day(end, 9, rng)), lambda s: closed_routine(s, code="0201", rating=5)),
        (story(_day(end, 20, rng), cast.demo_lane), solved_on_the_spot),
        (story(_day(end, 6, rng)), solved_on_the_spot),
        (story(_day(end, 15, rng)), rejected),
        (story(_day(end, 8, rng)), merged),
        (story(_day(end, 13, rng)), lambda s: hotline(s, satisfied=True)),
        (story(_day(end, 5, rng)), resident),
        (story(_day(end, 4, rng), cast.demo_lane), rework),
        (
            story(_day(end, 16, rng)),
            lambda s: backlog(s, to_local(end).date() + timedelta(days=21)),
        ),
        (story(_day(end, 10, rng)), lambda s: declined(s, pending=False)),
        (story(end - timedelta(minutes=200)), lambda s: declined(s, pending=True)),
        (story(_day(end, 7, rng), cast.demo_lane), escalated),
        (story(end - timedelta(minutes=150), cast.demo_lane), lambda s: open_now(s, "overdue")),
        (story(end - timedelta(minutes=70)), lambda s: open_now(s, "on_site")),
        (story(end - timedelta(minutes=25)), lambda s: open_now(s, "summoned")),
        (story(end - timedelta(minutes=50)), lambda s: open_now(s, "filed")),
        (story(end - timedelta(minutes=35), cast.demo_lane), lambda s: open_now(s, "reported")),
        (story(_day(end, 1, rng)), resident_in_progress),
    ]
    for each, write in stories:
        write(each)
    return [each for each, _write in stories]


def _counts(district: Jurisdiction) -> dict[str, int]:
    cases = Case.objects.filter(district=district)
    counts = {
        "cases": cases.count(),
        "whistles": Whistle.objects.filter(case__in=cases).count(),
        "summonses": Summons.objects.filter(case__in=cases).count(),
        "supervision_notices": SupervisionNotice.objects.filter(case__in=cases).count(),
        "photos": Attachment.objects.filter(case__in=cases).count(),
        "events": Event.objects.filter(case__in=cases).count(),
    }
    for status in Case.Status.values:
        counts[f"status.{status}"] = cases.filter(status=status).count()
    return counts


def build_history(seed: int = 2026) -> dict[str, int]:
    """Play the stories through the actions; return what the district then holds.

    Nothing happens when the district already has cases (the history is there, or the city
    is in use), and the counts returned are those of the cases already there with
    "created" 0.
    """
    cast = find_cast()
    if Case.objects.filter(district=cast.district).exists():
        return {**_counts(cast.district), "created": 0}
    end = timezone.now().replace(second=0, microsecond=0)
    rng = random.Random(seed)
    with transaction.atomic():
        play(plan(cast, rng, end), end)
    counts = _counts(cast.district)
    return {**counts, "created": counts["cases"]}


# 西城区: a smaller history in its three street offices ----------------------------------

XICHENG_CODE = places.XICHENG_CODE
XICHENG_LANE = "灵境胡同"


def xicheng_casts() -> list[Cast]:
    """The casts of 西城's street offices, 西长安街 (where its demo dispatcher works) first;
    its residents report without an account."""
    casts = []
    for data in places.XICHENG_TOWNSHIPS:
        first = data.code == places.XICHENG_DEMO_TOWNSHIP
        cast = find_cast(
            XICHENG_CODE, data.full_name, XICHENG_LANE if first else None, with_resident=False
        )
        cast.resident_name, cast.resident_phone = "陈桂兰", "13700001111"
        casts.append(cast)
    return casts


def plan_xicheng(casts: list[Cast], rng: random.Random, end: datetime) -> list[Story]:
    """Eight cases of 西城: six in 西长安街 (a steward's whistle with a department arriving
    late, a lane chief's report, one solved on the spot, a resident's report, one with the
    departments on site now and one just reported), a whistle in 新街口 and a 12345 order
    in 月坛; the closed ones evaluated."""
    home, xinjiekou, yuetan = casts

    def story(cast: Cast, start: datetime, lane: Lane | None = None) -> Story:
        lanes = [x for x in cast.lanes if x.pk != cast.demo_lane.pk] or [cast.demo_lane]
        return Story(cast, random.Random(rng.random()), start, lane or rng.choice(lanes))

    stories: list[tuple[Story, Callable[[Story], None]]] = [
        (
            story(home, _day(end, 18, rng), home.demo_lane),
            lambda s: closed_whistle(s, late=True, rating=4),
        ),
        (story(home, _day(end, 11, rng)), lambda s: closed_routine(s, rating=5)),
        (story(home, _day(end, 9, rng)), solved_on_the_spot),
        (story(home, _day(end, 6, rng)), resident),
        (
            story(home, end - timedelta(minutes=90), home.demo_lane),
            lambda s: open_now(s, "on_site"),
        ),
        (story(home, end - timedelta(minutes=40)), lambda s: open_now(s, "reported")),
        (story(xinjiekou, _day(end, 14, rng)), lambda s: closed_whistle(s, rating=5)),
        (story(yuetan, _day(end, 4, rng)), lambda s: hotline(s, satisfied=True)),
    ]
    for each, write in stories:
        write(each)
    return [each for each, _write in stories]


def build_xicheng_history(seed: int = 2026) -> dict[str, int]:
    """西城's history, as `build_history` builds 东城's: nothing when 西城 has cases."""
    casts = xicheng_casts()
    district = casts[0].district
    if Case.objects.filter(district=district).exists():
        return {**_counts(district), "created": 0}
    end = timezone.now().replace(second=0, microsecond=0)
    rng = random.Random(seed)
    with transaction.atomic():
        play(plan_xicheng(casts, rng, end), end)
    counts = _counts(district)
    return {**counts, "created": counts["cases"]}


def build_xicheng(city: Any) -> str:
    """The seed-demo builder step for 西城 (whistle.demo.builders.BUILDERS)."""
    counts = build_xicheng_history()
    if not counts["created"]:
        return _("Case history of Xicheng: already there (%(cases)s cases), left as it is.") % (
            counts
        )
    return (
        _(
            "Case history of Xicheng: %(cases)s cases, %(whistles)s whistles, %(summonses)s "
            "summonses, %(events)s trail events."
        )
        % counts
    )


def build(city: Any) -> str:
    """The seed-demo builder step (whistle.demo.builders.BUILDERS)."""
    counts = build_history()
    if not counts["created"]:
        return _("Case history: already there (%(cases)s cases), left as it is.") % counts
    return (
        _(
            "Case history: %(cases)s cases, %(whistles)s whistles, %(summonses)s summonses, "
            "%(events)s trail events."
        )
        % counts
    )
