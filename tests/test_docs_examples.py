"""The examples of docs/api.md and docs/duty.md name what the demo city has: a reader who
tries them on the demo (`make run`) finds every department, category, place and person they
name, and the positions of docs/api.md stand on the lane they name, in the township of the
demo's dispatcher, who may send its report as written. The demo's organisation and
categories are built as `seed_demo` builds them (`build_demo_city`, without the history).

A case's reference is drawn at random when the case is made, so no reference of the demo's
history is known before it runs: a reference in an example must be one the product could
draw (ten characters of its alphabet)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client, override_settings

from whistle.api import tokens
from whistle.cases.models import _REFERENCE_ALPHABET, Case
from whistle.demo.city import build_demo_city
from whistle.demo.data.places import DEMO_LANE, DEMO_TOWNSHIP
from whistle.importing.rosters import import_rosters
from whistle.organisation import geo
from whistle.organisation.models import Department, Jurisdiction, Lane, Person
from whistle.policies.models import Category

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHECKED = ("api.md", "duty.md")
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]

FENCE = re.compile(r"```.*?```", re.S)
SPAN = re.compile(r"`([^`\n]+)`")
# A department's code: the district's slug, then its own (`dc-cgzfj`, `dc-longtan-pcs`).
DEPARTMENT = re.compile(r"(?<![\w/.$-])[a-z]{2,3}-[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w-])")
# A category: in a request's body, as an Open311 service code, or alone in a code span.
CATEGORY = (
    re.compile(r'"category":\s*"([^"]*)"'),
    re.compile(r"\b(?:event|component)-(\d+)\b"),
    re.compile(r"^(0\d{3})$"),
)
SERVICE = re.compile(r"\b(event|component)-(\d+)\b")
# An administrative code of Beijing: a district (6 digits), a township (9), a community (12).
PLACE = re.compile(r"(?<![\w.])110\d{3}(?:\d{3}){0,2}(?![\w.])")
REFERENCE = re.compile(r"\b(?=[0-9A-Z]*[A-Z])(?=[0-9A-Z]*\d)[0-9A-Z]{10}\b")
ROSTER_HEADER = "部门,街乡,"
# A position in a request: a JSON body's "lon" and "lat", or Open311's lat and long.
POSITION = (
    re.compile(r'"lon":\s*([\d.]+),\s*"lat":\s*([\d.]+)'),
    re.compile(r"-d lat=([\d.]+) -d long=([\d.]+)"),
)
# The report of docs/api.md's "Acting": its JSON body, posted to /api/v1/cases.
REPORT_REQUEST = re.compile(
    r"-d '(\{\"description\"[^']*\})' \\\n\s*https://whistle\.example/api/v1/cases\n"
)
# How far from the lane's centre line a position may be to stand on it.
ON_THE_LANE_M = 25


@dataclass(frozen=True)
class Examples:
    """What the examples of one document name."""

    departments: set[str]
    categories: set[str]
    services: set[tuple[str, str]]
    places: set[str]
    references: set[str]
    usernames: set[str]
    rosters: list[str]  # the roster files, as `whistle import rosters` reads them


def examples(text: str) -> Examples:
    """The codes in a document's code: its fenced blocks and its code spans."""
    fences = FENCE.findall(text)
    spans = SPAN.findall(FENCE.sub("", text))
    code = "\n".join(fences + spans)
    found: set[str] = set()
    for pattern in CATEGORY[:2]:
        found.update(pattern.findall(code))
    found.update(span for span in spans if CATEGORY[2].match(span))
    usernames: set[str] = set()
    rosters: list[str] = []
    for fence in fences:
        body = fence.split("\n", 1)[1].rsplit("```", 1)[0]
        if body.startswith(ROSTER_HEADER):
            rosters.append(body)
            for row in csv.DictReader(io.StringIO(body)):
                usernames.update(name for name in (row["值班人"], row["备班"]) if name)
    return Examples(
        # A roster's people have usernames that read like codes (`officer-urban`).
        departments=set(DEPARTMENT.findall(code)) - usernames,
        categories=found,
        services={(kind, number) for kind, number in SERVICE.findall(code)},
        places=set(PLACE.findall(code)),
        references=set(REFERENCE.findall(code)),
        usernames=usernames,
        rosters=rosters,
    )


@dataclass(frozen=True)
class Demo:
    departments: set[str]
    categories: set[tuple[str, str]]  # (kind, code)
    places: set[str]
    usernames: set[str]


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        build_demo_city()
        yield Demo(
            departments=set(Department.objects.values_list("code", flat=True)),
            categories={
                (category.major.kind, category.full_code)
                for category in Category.objects.select_related("major")
            },
            places=set(Jurisdiction.objects.values_list("code", flat=True)),
            usernames=set(Person.objects.values_list("username", flat=True)),
        )
        transaction.set_rollback(True)


@pytest.fixture
def demo(built, db):
    return built


@pytest.mark.parametrize("name", CHECKED)
def test_the_examples_name_the_demo_citys_departments_categories_places_and_people(
    demo, name, tmp_path
):
    named = examples((DOCS / name).read_text(encoding="utf-8"))
    kinds = demo.categories
    codes = {code for _kind, code in kinds}
    assert sorted(named.departments - demo.departments) == [], "departments the demo lacks"
    assert sorted(named.categories - codes) == [], "categories the demo lacks"
    assert sorted(named.services - kinds) == [], "services the demo lacks"
    assert sorted(named.places - demo.places) == [], "places the demo lacks"
    assert sorted(named.usernames - demo.usernames) == [], "people the demo lacks"
    for number, roster in enumerate(named.rosters):
        path = tmp_path / f"rosters-{number}.csv"
        path.write_text(roster, encoding="utf-8")
        result = import_rosters(path, update=True, dry_run=True)
        assert result.errors == [], f"the roster file {number + 1} does not import"
    drawable = {r for r in named.references if set(r) <= set(_REFERENCE_ALPHABET)}
    assert sorted(named.references - drawable) == [], "references the product cannot draw"


def positions(text: str) -> list[tuple[float, float]]:
    """Every (lon, lat) the document's requests send."""
    code = "\n".join(FENCE.findall(text))
    found = [(float(lon), float(lat)) for lon, lat in POSITION[0].findall(code)]
    found += [(float(lon), float(lat)) for lat, lon in POSITION[1].findall(code)]
    return found


def test_the_api_examples_stand_on_the_lane_they_name_in_the_demo_dispatchers_township(demo):
    """Each example names 人民市场东巷: its position is on that lane, in 龙潭街道 where the
    demo's dispatcher works, so a request tried as written is not refused as out of scope."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    township = Jurisdiction.objects.get(code=DEMO_TOWNSHIP)
    lane = Lane.objects.get(township=township, name=DEMO_LANE)
    found = positions(text)
    assert len(found) >= 4, found
    for position in found:
        assert township.boundary and geo.polygon_contains(township.boundary, position), position
        assert geo.distance_to_line_m(lane.centre_line, position) <= ON_THE_LANE_M, position


def test_the_api_report_example_is_taken_from_the_demo_dispatcher(demo):
    """The "Acting" report, sent as written with the demo dispatcher's token, makes a case on
    the lane it names."""
    match = REPORT_REQUEST.search((DOCS / "api.md").read_text(encoding="utf-8"))
    assert match is not None, "the report example is not found"
    body = json.loads(match.group(1))
    dispatcher = Person.objects.get(username="dispatcher")
    secret = tokens.issue_token(dispatcher, person=dispatcher, name="docs").secret
    response = Client().post(
        "/api/v1/cases",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "docs-report-1"},
    )
    assert response.status_code == 201, response.content.decode()
    case = Case.objects.get(reference=response.json()["reference"])
    assert case.township is not None and case.township.code == DEMO_TOWNSHIP
    assert case.lane is not None and case.lane.name == DEMO_LANE


def test_the_examples_are_read_as_the_documents_write_them():
    """The reading itself: what a document names is found, whatever the kind of code."""
    text = (
        "Departments by their codes (`dc-cgzfj`, `0501` with `category_kind`).\n"
        '```sh\ncurl -d \'{"category": "0601"}\' .../cases?jurisdiction=110101015\n'
        "curl -d service_code=component-0101 .../cases/KLX8BVFBNQ/file\n```\n"
        f"```csv\n{ROSTER_HEADER}适用日,交班时间,轮换方式,起始日,顺序,值班人,备班\n"
        "dc-cgw,110101014,every_day,08:00,day,2026-05-01,1,officer-urban,department-head\n```\n"
        "Masked as `138****1234`, signed `wst_…`, in `2026-Q3`.\n"
    )
    named = examples(text)
    assert named.departments == {"dc-cgzfj", "dc-cgw"}
    assert named.categories == {"0501", "0601", "0101"}
    assert named.services == {("component", "0101")}
    assert named.places == {"110101015", "110101014"}
    assert named.references == {"KLX8BVFBNQ"}
    assert named.usernames == {"officer-urban", "department-head"}
    assert len(named.rosters) == 1
