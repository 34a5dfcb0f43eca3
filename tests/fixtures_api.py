"""The API's tests: a token for each persona of the case tests' city, and a client that
sends it.

`api_city` is the `whistle_city` of tests/fixtures_cases.py with a district assessor, a
person of another district (朝阳区's dispatcher), and a personal API token for every persona.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_person, square
from tests.fixtures_cases import WhistleCity
from whistle.api import tokens
from whistle.organisation.models import Jurisdiction, Person, Role

BASE = "/api/v1"


class Api:
    """A client that calls the API as one person, with their bearer token."""

    def __init__(self, secret: str | None, *, language: str = "zh-hans") -> None:
        self.secret = secret
        self.client = Client(HTTP_ACCEPT_LANGUAGE=language)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.secret:
            headers["Authorization"] = f"Bearer {self.secret}"
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(BASE + path, params or {}, headers=self.headers(headers))

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(
            BASE + path,
            data=json.dumps({} if body is None else body),
            content_type="application/json",
            headers=self.headers(headers),
        )

    def post_raw(self, path: str, raw: bytes | str, **headers: str) -> Any:
        return self.client.post(
            BASE + path, data=raw, content_type="application/json", headers=self.headers(headers)
        )


def secret_for(person: Person, **options: Any) -> str:
    return tokens.issue_token(person, person=person, name="tests", **options).secret


@dataclass
class ApiCity:
    city: WhistleCity
    district_assessor: Person
    chaoyang_dispatcher: Person
    clients: dict[str, Api]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.city, name)

    def as_(self, persona: str) -> Api:
        return self.clients[persona]


# The personas of the permission matrix, by the WhistleCity attribute that holds them.
PERSONAS = (
    "steward",
    "lane_chief",
    "dispatcher",
    "urban_officer",
    "fire_officer",
    "assessor",
    "district_assessor",
    "township_office",
    "district_office",
    "district_chief",
    "resident",
    "dongsi_dispatcher",
    "chaoyang_dispatcher",
)


@pytest.fixture(name="api_city")
def api_city_fixture(whistle_city: WhistleCity) -> ApiCity:
    district = whistle_city.district
    district_assessor = make_person(
        "dongcheng-assessor", Role.DISTRICT_ASSESSOR, jurisdiction=district
    )
    chaoyang = Jurisdiction.objects.create(
        level="district",
        code="110105",
        name="朝阳区",
        parent=whistle_city.city.city,
        boundary=square(116.44, 39.9, 0.1),
    )
    chaoyang_township = Jurisdiction.objects.create(
        level="township", code="110105001", name="建外街道", parent=chaoyang
    )
    chaoyang_dispatcher = make_person(
        "chaoyang-dispatcher", Role.DISPATCHER, jurisdiction=chaoyang_township
    )
    people = {
        name: getattr(whistle_city, name)
        for name in PERSONAS
        if name not in ("district_assessor", "chaoyang_dispatcher")
    }
    people["district_assessor"] = district_assessor
    people["chaoyang_dispatcher"] = chaoyang_dispatcher
    clients = {name: Api(secret_for(person)) for name, person in people.items()}
    clients["anonymous"] = Api(None)
    return ApiCity(whistle_city, district_assessor, chaoyang_dispatcher, clients)
