"""The pages' access matrix: every URL pattern of the project, opened by every persona.

Each row of PAGES names a pattern and says, persona by persona, what a GET of it answers:
ok (200), log (a redirect to the sign-in page), go (another redirect), or the status (400,
403, 404, 405…). The objects in the addresses (a case, its photo, a patrol, a roster, a
notification, a token…) are of 东城区 and its 龙潭街道; a dispatcher of 东四街道, an
officer of a department neither summoned nor serving 龙潭街道, and the personas of 西城区
get 403 or 404 for them, and no page a stranger to the case opens names it. A pattern that changes
something also has a POST line: a persona the row does not name in `writes` must leave the
domain's tables as they were.

The operations of the API (`/api/v1/…`) have their own matrix, tests/test_api_permissions.py;
here they need no row (`test_every_api_operation_is_in_the_api_matrix` checks that), and the
admin's pages beyond its index are proven by tests/test_admin_scope.py.

A new pattern without a row fails `test_every_url_pattern_has_a_row`: add its row to PAGES,
one expected answer per persona (docs/security.md, "The access matrix").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.fixtures_access import NOW, AccessCity, access_city_fixture  # noqa: F401  (fixture)
from tests.test_api_permissions import OPERATIONS
from whistle.api.main import api
from whistle.api.models import ApiToken
from whistle.assessment.models import Appeal
from whistle.cases.models import Attachment, Case, Event, HotlineOrder, Summons, Whistle
from whistle.duty.models import DutyChange, Roster, Rotation
from whistle.notifications.models import Notification, PushSubscription
from whistle.patrols.models import CheckResult, Patrol, RoutePoint

PERSONAS = (
    "anonymous",
    "resident",
    "steward",
    "lane_chief",
    "officer",
    "dispatcher",
    "township_chief",
    "department_head",
    "district_assessor",
    "chiefs_office",
    "district_chief",
    "district_admin",
    "superuser",
    "other_township_dispatcher",
    "other_department_officer",
    "other_dispatcher",
    "other_district_chief",
    "other_admin",
)
# Who does not see the scene's case (a steward's report in 龙潭街道, the urban management
# department summoned): its reference must not appear on any page they open.
STRANGERS = frozenset(
    {
        "anonymous",
        "resident",
        "other_township_dispatcher",
        "other_department_officer",
        "other_dispatcher",
        "other_district_chief",
        "other_admin",
    }
)
# Who does not see 西城区's case (reported by its 新街口 dispatcher): everyone of 东城区.
XICHENG_STRANGERS = frozenset(PERSONAS) - {
    "superuser",
    "other_dispatcher",
    "other_district_chief",
    "other_admin",
}
# The cells of a row: "ok" 200, "log" a redirect to the sign-in page, "go" another redirect,
# "ref" 200 with a page that names the case though the persona is a stranger to it (or
# names 西城区's case to a persona of 东城区),
# otherwise the status.
NAMING_THE_CASE = "a page naming the case"
CELLS = {"ok": 200, "log": "login", "go": "redirect", "ref": NAMING_THE_CASE}
LOGIN_URL = "/accounts/login/"
DOMAIN_TABLES = (
    Case,
    Event,
    Summons,
    Whistle,
    Attachment,
    Notification,
    PushSubscription,
    Patrol,
    RoutePoint,
    CheckResult,
    Appeal,
    HotlineOrder,
    Roster,
    Rotation,
    DutyChange,
)


@dataclass(frozen=True)
class Row:
    """What each persona gets, in the order of PERSONAS: `get` for a GET, `post` (for a
    pattern that changes something) for a POST without a form; `writes` names the personas
    whose POST may change the domain's tables."""

    get: str
    post: str = ""
    writes: frozenset[str] = field(default_factory=frozenset)

    @staticmethod
    def cells(text: str) -> dict[str, Any]:
        values = text.split()
        assert len(values) == len(PERSONAS), text
        return {
            persona: CELLS.get(value) or int(value)
            for persona, value in zip(PERSONAS, values, strict=True)
        }


# The columns:
#   anonymous resident steward lane_chief officer dispatcher township_chief department_head
#   district_assessor chiefs_office district_chief district_admin superuser
#   other_township_dispatcher other_department_officer
#   other_dispatcher other_district_chief other_admin
PAGES: dict[str, Row] = {
    "api-v1:api-root": Row(
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "api-v1:openapi-json": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "api-v1:openapi-view": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    r"^api/(?P<rest>[\s\S]*)\Z": Row(
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    # Each person's own phone and e-mail: giving up a change that is not there changes nothing.
    "accounts:contact": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "accounts:contact-step": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "accounts:enrol": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "accounts:password": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "accounts:recovery-codes": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "accounts:security": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "accounts:sign-out-everywhere": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log log log log log log log log log log log log log log log log log log",
    ),
    "accounts:turn-off": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "accounts:verify": Row(
        "go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    # Signed in without the right to the admin: told so, not sent to sign in again.
    "admin/login/": Row(
        "log 403 403 403 403 403 403 403 log log log log log 403 403 403 403 log",
    ),
    "admin:index": Row(
        "go  go  go  go  go  go  go  go  ok  ok  ok  ok  ok  go  go  go  go  ok",
    ),
    "api-tokens:list": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "api-tokens:revoke": Row(
        "log 404 404 404 404 ok  404 404 404 404 404 404 404 404 404 404 404 404",
        post="log 404 404 404 404 ok  404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "assessment:appeals": Row(
        "log 403 403 403 403 403 403 403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "assessment:department": Row(
        "log 403 403 403 ok  403 403 ok  403 403 403 403 403 403 ok  403 403 403",
    ),
    "assessment:home": Row(
        "log 403 403 403 go  ok  ok  go  ok  ok  ok  403 ok  ok  go  ok  ok  403",
    ),
    "assessment:scheme": Row(
        "log 403 403 403 403 403 403 403 ok  ok  403 403 ok  403 403 403 403 403",
    ),
    "case:detail": Row(
        "log 404 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  404 404 404 404 404",
        post="log 404 400 400 400 400 400 400 400 400 400 400 400 404 404 404 404 404",
    ),
    "case:photo": Row(
        "404 404 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  404 404 404 404 404",
    ),
    "department:home": Row(
        "log 403 403 403 ok  403 403 ok  403 403 403 403 403 403 ok  403 403 403",
    ),
    "department:live": Row(
        "log 403 403 403 ok  403 403 ok  403 403 403 403 403 403 ok  403 403 403",
    ),
    # Opened in the browser it is the command centre's page; htmx's polls of a signed-out
    # page take the whole page to sign in (tests/test_desk_dispatch.py).
    "dispatch:board": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    "dispatch:cases": Row(
        "log 403 403 403 403 ok  ok  403 ok  ok  ok  403 403 ok  403 ok  ok  403",
    ),
    "dispatch:home": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    "dispatch:hotline": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    "dispatch:hotline_import": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    "dispatch:op_form": Row(
        "log 403 403 403 403 ok  ok  403 403 404 403 403 403 404 403 404 403 403",
    ),
    "dispatch:queue": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
        post="log 403 403 403 403 400 400 403 403 400 403 403 403 400 403 400 403 403",
    ),
    "dispatch:wall": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    "dispatch:whistle": Row(
        "log 404 403 403 403 go  go  403 403 403 403 403 403 404 404 404 404 404",
        post="log 404 403 403 403 go  go  403 403 403 403 403 403 404 404 404 404 404",
    ),
    "district:annual-report": Row(
        "log 403 403 403 403 403 403 403 ok  ok  ok  403 ok  403 403 403 ok  403",
    ),
    "district:report": Row(
        "log 403 403 403 403 403 403 403 ok  ok  ok  403 ok  403 403 403 ok  403",
    ),
    "district:centres": Row(
        "log 403 403 403 403 ok  ok  403 ok  ok  ok  403 ok  ok  403 ok  ok  403",
    ),
    "district:chiefs": Row(
        "log 403 403 403 403 ok  ok  403 ok  ok  ok  403 ok  ok  403 ok  ok  403",
    ),
    "district:hotspots": Row(
        "log 403 403 403 403 ok  ok  403 ok  ok  ok  403 ok  ok  403 ok  ok  403",
    ),
    "district:reachability": Row(
        "log 403 403 403 403 ok  ok  403 ok  ok  ok  403 ok  ok  403 ok  ok  403",
    ),
    "district:index": Row(
        "go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "district:rankings": Row(
        "log 403 403 403 ok  403 403 ok  ok  ok  ok  403 ok  403 ok  403 ok  403",
    ),
    "district:rankings-export": Row(
        "log 403 403 403 ok  403 403 ok  ok  ok  ok  403 ok  403 ok  403 ok  403",
    ),
    "district:result": Row(
        "log 403 403 403 ok  403 403 ok  ok  ok  ok  403 ok  403 404 403 404 403",
    ),
    "duty:export": Row(
        "log 404 404 404 ok  404 404 ok  404 404 404 404 404 404 404 404 404 404",
    ),
    "duty:export_shifts": Row(
        "log 404 404 404 ok  404 404 ok  404 404 404 404 404 404 404 404 404 404",
    ),
    "duty:home": Row(
        "log 403 403 403 ok  ok  ok  ok  403 403 403 403 403 ok  ok  ok  403 403",
    ),
    "duty:roster": Row(
        "log 404 404 404 ok  404 404 ok  404 404 404 404 404 404 404 404 404 404",
    ),
    "duty:rotation": Row(
        "log 404 404 404 403 404 404 ok  404 404 404 404 404 404 404 404 404 404",
    ),
    "duty:rotation_new": Row(
        "log 404 404 404 403 404 404 ok  404 404 404 404 404 404 404 404 404 404",
        post="log 404 404 404 403 404 404 400 404 404 404 404 404 404 404 404 404 404",
    ),
    "duty:start": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "login": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "logout": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "notifications:push-subscribe": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="401 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400",
    ),
    "notifications:push-unsubscribe": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="401 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400",
    ),
    "notifications:sms-receipts-aliyun": Row(
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "notifications:sms-receipts-tencent": Row(
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "open311:discovery": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "open311:request": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "open311:requests": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "open311:service": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "open311:services": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "open311:token": Row(
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "password_change": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "password_change_done": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "password_reset": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "password_reset_complete": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "password_reset_confirm": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "password_reset_done": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "patrol:check": Row(
        "log 403 405 405 403 403 405 403 403 405 403 403 403 403 403 403 403 403",
        post="log 403 go  404 403 403 404 403 403 404 403 403 403 403 403 403 403 403",
    ),
    "patrol:end": Row(
        "log 403 405 405 403 403 405 403 403 405 403 403 403 403 403 403 403 403",
        post="log 403 go  404 403 403 404 403 403 404 403 403 403 403 403 403 403 403",
        writes=frozenset({"steward"}),
    ),
    "patrol:escalate": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:history": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:home": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:mine": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:nearby": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:positions": Row(
        "log 403 405 405 403 403 405 403 403 405 403 403 403 403 403 403 403 403",
        post="log 403 400 404 403 403 404 403 403 404 403 403 403 403 403 403 403 403",
    ),
    "patrol:report": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:reported": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:start": Row(
        "log 403 405 405 403 403 405 403 403 405 403 403 403 403 403 403 403 403",
        post="log 403 go  go  403 403 go  403 403 go  403 403 403 403 403 403 403 403",
    ),
    "patrol:suggest": Row(
        "log 403 ok  ok  403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "patrol:walk": Row(
        "log 403 ok  404 403 403 404 403 403 404 403 403 403 403 403 403 403 403",
    ),
    "patrol:walk-offline": Row(
        "log 403 ok  ok  403 403 ok  403 403 404 403 403 403 403 403 403 403 403",
    ),
    "lanes:index": Row(
        "log 403 ok  ok  403 ok  ok  403 403 ok  ok  403 403 ok  403 ok  ok  403",
    ),
    "lanes:detail": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "lanes:signboard": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "lanes:appointments": Row(
        "log 403 403 403 403 403 403 403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "lanes:appoint": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log 403 403 403 403 403 403 403 403 400 403 403 403 403 403 403 403 403",
    ),
    "lanes:end-appointment": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log 403 403 403 403 403 403 403 403 404 403 403 403 403 403 403 403 403",
    ),
    "lanes:record-appointment": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log 403 403 403 403 403 403 403 403 404 403 403 403 403 403 403 403 403",
    ),
    "reports:captcha": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "reports:case": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "reports:follow": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "reports:lanes": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "reports:new": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "reports:photo": Row(
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "reports:place": Row(
        "400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400",
    ),
    "reports:rate": Row(
        "405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="409 409 409 409 409 409 409 409 409 409 409 409 409 409 409 409 409 409",
    ),
    "reports:thanks": Row(
        "go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "set_language": Row(
        "go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "web:area-summary": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:components": Row(
        "log 403 403 403 403 403 403 403 ok  ok  ok  ok  ok  403 403 403 403 ok",
    ),
    "web:favicon": Row(
        "go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
    ),
    "web:home": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:inbox": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:inbox-badge": Row(
        "286 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:inbox-open": Row(
        "log 404 404 404 go  404 404 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "web:inbox-read": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log 404 404 404 go  404 404 404 404 404 404 404 404 404 404 404 404 404",
        writes=frozenset({"officer"}),
    ),
    "web:inbox-read-all": Row(
        "log 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405 405",
        post="log go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go  go",
        writes=frozenset(
            {
                "steward",
                "officer",
                "dispatcher",
                "township_chief",
                "department_head",
                "district_chief",
                # 西城区's dispatcher, told of the case of 西城 in the scene.
                "other_dispatcher",
            }
        ),
    ),
    "web:map-cases": Row(
        "403 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:map-jurisdictions": Row(
        "403 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:map-lanes": Row(
        "403 ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "township:home": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    "township:matter": Row(
        "log 404 404 404 404 ok  ok  404 404 404 404 404 404 404 404 404 404 404",
        post="log 404 404 404 404 403 400 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "township:recommendation_new": Row(
        "log 403 403 403 403 403 ok  403 403 403 403 403 403 403 403 403 403 403",
        post="log 403 403 403 403 403 400 403 403 403 403 403 403 403 403 403 403 403",
    ),
    # Recruiting stewards: the township's chief of lanes and chiefs' office review (in full);
    # the district's chiefs' office reads its townships' applications masked.
    "township:recruitment": Row(
        "log 403 403 403 403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
    ),
    "township:call_new": Row(
        "log 403 403 403 403 403 ok  403 403 403 403 403 403 403 403 403 403 403",
        post="log 403 403 403 403 403 400 403 403 403 403 403 403 403 403 403 403 403",
    ),
    "township:application": Row(
        "log 404 404 404 404 404 ok  404 404 ok  404 404 404 404 404 404 404 404",
        post="log 404 404 404 404 404 400 404 404 403 404 404 404 404 404 404 404 404",
    ),
    "stewards:calls": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "stewards:apply": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
        post="400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400",
    ),
    "stewards:status": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    # Training: the chiefs' offices and the township chief; the session is the district's.
    "district:training": Row(
        "log 403 403 403 403 403 ok  403 403 ok  403 403 403 403 403 403 403 403",
        post="log 403 403 403 403 403 400 403 403 400 403 403 403 403 403 403 403 403",
    ),
    "district:training-session": Row(
        "log 404 404 404 404 404 404 404 404 ok  404 404 404 404 404 404 404 404",
        post="log 404 404 404 404 404 404 404 404 400 404 404 404 404 404 404 404 404",
    ),
    "district:recognitions": Row(
        "log 403 403 403 403 403 403 403 403 ok  403 403 403 403 403 403 403 403",
        post="log 403 403 403 403 403 403 403 403 400 403 403 403 403 403 403 403 403",
    ),
    "township:recommendation": Row(
        "log 404 404 404 404 404 ok  404 404 404 404 404 404 404 404 404 404 404",
    ),
    # The street office's units: read by the township's roles and the district's keepers,
    # edited by the township's chief and the district's administrators.
    "offices:list": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  ok  ok  ok  ok  403 ok  ok  ok",
    ),
    "offices:unit": Row(
        "log 404 404 404 404 ok  ok  404 404 ok  ok  ok  ok  404 404 404 404 404",
    ),
    "offices:new": Row(
        "log 403 403 403 403 403 ok  403 403 403 403 ok  ok  403 403 403 403 ok",
        post="log 403 403 403 403 403 400 403 403 403 403 400 400 403 403 403 403 400",
    ),
    "offices:edit": Row(
        "log 404 404 404 404 403 ok  404 404 403 403 ok  ok  404 404 404 404 404",
        post="log 404 404 404 404 403 400 404 404 403 403 400 400 404 404 404 404 404",
    ),
    # Power 2: the township's multi-department matters and supervision notices.
    "offices:coordination": Row(
        "log 403 403 403 403 ok  ok  403 403 ok  403 403 403 ok  403 ok  403 403",
    ),
    # The stationed staff: the township's pages (any township role of a township reads; the
    # chief keeps the roster, decides leave and assesses; the dispatcher keeps the centre),
    # the stationed person's phone page, the department head's view.
    "stationed:roster": Row(
        "log 403 403 403 403 ok  ok  403 403 403 403 403 403 ok  403 ok  403 403",
        post="log 403 403 403 403 403 400 403 403 403 403 403 403 403 403 403 403 403",
    ),
    "stationed:stationing": Row(
        "log 404 404 404 404 ok  ok  404 404 404 404 404 404 404 404 404 404 404",
        post="log 404 404 404 404 403 400 404 404 404 404 404 404 404 404 404 404 404",
    ),
    "stationed:attendance": Row(
        "log 403 403 403 403 ok  ok  403 403 403 403 403 403 ok  403 ok  403 403",
        post="log 403 403 403 403 400 400 403 403 403 403 403 403 400 403 400 403 403",
    ),
    "stationed:leave": Row(
        "log 403 403 403 403 ok  ok  403 403 403 403 403 403 ok  403 ok  403 403",
        post="log 403 403 403 403 403 400 403 403 403 403 403 403 403 403 403 403 403",
    ),
    "stationed:assessment": Row(
        "log 403 403 403 403 ok  ok  403 403 403 403 403 403 ok  403 ok  403 403",
        post="log 403 403 403 403 403 400 403 403 403 403 403 403 403 403 403 403 403",
    ),
    "stationed:mine": Row(
        "log 403 403 403 ok  403 403 ok  403 403 403 403 403 403 ok  403 403 403",
        post="log 403 403 403 400 403 403 403 403 403 403 403 403 403 403 403 403 403",
    ),
    "stationed:department": Row(
        "log 403 403 403 403 403 403 ok  403 403 403 403 403 403 403 403 403 403",
    ),
    # The whole checkpoint, which names every case, goes to readers of every district with
    # cases (the superuser here); the other district readers and every department get its
    # header and the proofs of the cases they see (docs/trail.md): no stranger's reference.
    "district:checkpoint-latest": Row(
        "log 403 403 403 ok  403 403 ok  ok  ok  ok  403 ok  403 ok  403 ok  403",
    ),
    "district:checkpoint": Row(
        "log 403 403 403 ok  403 403 ok  ok  ok  ok  403 ok  403 ok  403 ok  403",
    ),
    # The authority's token, to the same people; the scene's checkpoint has none (no
    # authority is configured), so those who may fetch it are told it is not there.
    "district:checkpoint-timestamp": Row(
        "log 403 403 403 404 403 403 404 404 404 404 403 404 403 404 403 404 403",
    ),
    "district:matters": Row(
        "log 403 403 403 403 403 403 403 403 ok  ok  403 403 403 403 403 ok  403",
    ),
    "district:matter_new": Row(
        "log 403 403 403 403 403 403 403 403 ok  ok  403 403 403 403 403 ok  403",
        post="log 403 403 403 403 403 403 403 403 400 400 403 403 403 403 403 400 403",
    ),
    "district:matter": Row(
        "log 404 404 404 404 404 404 404 404 ok  ok  404 404 404 404 404 404 404",
        post="log 404 404 404 404 404 404 404 404 403 403 404 404 404 404 404 404 404",
    ),
    "district:recommendations": Row(
        "log 403 403 403 403 403 403 403 403 403 ok  403 403 403 403 403 ok  403",
    ),
    "district:recommendation": Row(
        "log 404 404 404 404 404 404 404 404 404 ok  404 404 404 404 404 404 404",
        post="log 404 404 404 404 404 404 404 404 404 400 404 404 404 404 404 404 404",
    ),
    "web:app-icon": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:manifest": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:offline": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:offline-pages": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:offline-ping": Row(
        "204 204 204 204 204 204 204 204 204 204 204 204 204 204 204 204 204 204",
    ),
    "web:service-worker": Row(
        "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:settings": Row(
        "log ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok",
    ),
    "web:wall": Row(
        "log 403 403 403 403 ok  ok  403 ok  ok  ok  ok  ok  ok  403 ok  ok  ok",
    ),
}


def walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, Any, str]]:
    """Each named pattern with its whole route from the root (its includes' prefixes)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            joined = f"{namespace}:{inner}" if namespace and inner else namespace or inner
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = pattern.name or route
            yield (f"{namespace}:{name}" if namespace else name), pattern, route


def patterns() -> dict[str, Any]:
    return {name: pattern for name, pattern, _ in walk(get_resolver().url_patterns)}


def routes() -> dict[str, str]:
    return {name: route for name, _, route in walk(get_resolver().url_patterns)}


# Which object of the scene each address names, where the parameter's name does not say.
ARGUMENTS: dict[str, dict[str, str]] = {
    "duty:roster": {"pk": "roster"},
    # A folded operation of the command centre on the scene's whistled case.
    "dispatch:op_form": {"name": "mark_handled", "key": "reference"},
    # A page of the command centre's queue of reported cases.
    "dispatch:queue": {"name": "reported"},
    "township:matter": {"pk": "opinion"},
    "township:recommendation": {"pk": "recommendation"},
    "township:application": {"pk": "steward_application"},
    "stewards:apply": {"pk": "steward_call"},
    "stewards:status": {"reference": "steward_reference"},
    "district:training-session": {"pk": "training_session"},
    "stationed:stationing": {"pk": "stationing"},
    "district:matter": {"pk": "matter"},
    "offices:unit": {"pk": "unit"},
    "offices:edit": {"pk": "unit"},
    "district:checkpoint": {"number": "checkpoint"},
    "district:checkpoint-timestamp": {"number": "checkpoint"},
    "web:app-icon": {"size": "192", "purpose": "any"},
    "district:recommendation": {"pk": "recommendation"},
    "duty:rotation_new": {"pk": "roster"},
    "duty:rotation": {"pk": "roster"},
    "duty:export": {"pk": "roster"},
    "duty:export_shifts": {"pk": "roster"},
    "lanes:detail": {"pk": "lane"},
    "lanes:signboard": {"pk": "lane", "size": "a4"},
    "lanes:appointments": {"pk": "lane"},
    "lanes:appoint": {"pk": "lane"},
    # No appointment has this id: the chiefs' office gets 404, nobody else gets that far.
    "lanes:end-appointment": {"pk": "lane", "appointment": "999999"},
    # Nobody holds a post by this role row: the chiefs' office gets 404, as above.
    "lanes:record-appointment": {"pk": "lane", "held": "999999"},
    "accounts:contact-step": {"kind": "phone", "step": "give-up"},
    "reports:case": {"reference": "resident_reference"},
    "reports:rate": {"reference": "resident_reference"},
    "reports:photo": {"reference": "reference"},
    "api-tokens:revoke": {"public_id": "token_id"},
    "open311:discovery": {"fmt": "json"},
    "open311:services": {"fmt": "json"},
    "open311:service": {"fmt": "json"},
    "open311:requests": {"fmt": "json"},
    "open311:request": {"fmt": "json", "reference": "resident_reference"},
    "open311:token": {"fmt": "json"},
}


def address(name: str, city: AccessCity) -> str:
    pattern = patterns()[name]
    wanted = ARGUMENTS.get(name, {})
    kwargs = {}
    for parameter in pattern.pattern.regex.groupindex:
        key = wanted.get(parameter, parameter)
        kwargs[parameter] = city.kwargs.get(key, key)
    if ":" not in name and name.startswith(("^", "admin")):
        return "/" + name
    return reverse(name, kwargs=kwargs)


def client_of(city: AccessCity, persona: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    key = city.sessions.get(persona)
    if key:
        client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def answer(response: Any) -> Any:
    if response.status_code == 302:
        return "login" if response["Location"].startswith(LOGIN_URL) else "redirect"
    return response.status_code


def state() -> tuple[int, ...]:
    """What a POST could change: the rows of the domain, revoked tokens, notifications
    read, patrols ended."""
    return (
        *(model._default_manager.count() for model in DOMAIN_TABLES),
        ApiToken.objects.filter(revoked_at__isnull=False).count(),
        Notification.objects.filter(read_at__isnull=False).count(),
        Patrol.objects.filter(ended_at__isnull=False).count(),
    )


# The API's operations are in their own matrix; the admin's pages beyond its index in
# tests/test_admin_scope.py.
API_MATRIX = "api-v1:"
ADMIN = "admin:"


def covered_elsewhere(name: str) -> bool:
    if name.startswith(ADMIN):
        return name != "admin:index"
    return name.startswith(API_MATRIX) and name not in {
        "api-v1:openapi-json",
        "api-v1:openapi-view",
        "api-v1:api-root",
    }


def test_every_url_pattern_has_a_row():
    names = {name for name in patterns() if not covered_elsewhere(name)}
    assert sorted(names - set(PAGES)) == [], "patterns without a row in PAGES"
    assert sorted(set(PAGES) - names) == [], "rows of patterns that are gone"


def test_every_api_operation_is_in_the_api_matrix():
    document = api.get_openapi_schema()
    paths = set(document["paths"])
    for name, route in routes().items():
        if covered_elsewhere(name) and name.startswith(API_MATRIX):
            assert route.startswith("api/v1/"), name
            assert "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) in paths, name
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert operations == set(OPERATIONS)


def rows(method: str) -> list[str]:
    return [name for name, row in PAGES.items() if method == "GET" or row.post]


@pytest.mark.parametrize("name", rows("GET"))
def test_each_persona_gets_what_the_row_says(access_city, db, name):
    expected = Row.cells(PAGES[name].get)
    url = address(name, access_city)
    wrong = {}
    for persona in PERSONAS:
        with time_machine.travel(NOW, tick=False):
            response = client_of(access_city, persona).get(url)
        got = answer(response)
        content = b"" if got != 200 or response.streaming else response.content
        reference = access_city.kwargs["reference"].encode()
        if persona in STRANGERS and reference in content:
            got = NAMING_THE_CASE
        xicheng = access_city.kwargs["xicheng_reference"].encode()
        if persona in XICHENG_STRANGERS and xicheng in content:
            got = NAMING_THE_CASE
        if got != expected[persona]:
            wrong[persona] = f"got {got}, the row says {expected[persona]}"
    assert wrong == {}, f"GET {url}"


# The pages of one case opened on 西城区's case: 东城区 gets 404, 西城区 its own.
XICHENG_CASE_PAGES: dict[str, Row] = {
    "case:detail": Row(
        "log 404 404 404 404 404 404 404 404 404 404 404 ok  404 404 ok  ok  ok",
    ),
    "dispatch:whistle": Row(
        "log 404 404 404 404 404 404 404 404 404 404 404 403 404 404 go  403 403",
    ),
}


@pytest.mark.parametrize("name", sorted(XICHENG_CASE_PAGES))
def test_the_pages_of_xichengs_case_answer_what_the_row_says(access_city, db, name):
    expected = Row.cells(XICHENG_CASE_PAGES[name].get)
    url = reverse(name, kwargs={"reference": access_city.kwargs["xicheng_reference"]})
    wrong = {}
    for persona in PERSONAS:
        with time_machine.travel(NOW, tick=False):
            got = answer(client_of(access_city, persona).get(url))
        if got != expected[persona]:
            wrong[persona] = f"got {got}, the row says {expected[persona]}"
    assert wrong == {}, f"GET {url}"


@pytest.mark.parametrize("name", rows("POST"))
def test_a_refused_post_answers_what_the_row_says_and_writes_nothing(access_city, db, name):
    row = PAGES[name]
    expected = Row.cells(row.post)
    url = address(name, access_city)
    wrong = {}
    for persona in PERSONAS:
        before = state()
        try:
            with transaction.atomic():
                with time_machine.travel(NOW, tick=False):
                    response = client_of(access_city, persona).post(url, {})
                got = answer(response)
                if got != expected[persona]:
                    wrong[persona] = f"got {got}, the row says {expected[persona]}"
                elif persona not in row.writes and state() != before:
                    wrong[persona] = "refused, but something was written"
                raise Undo
        except Undo:
            pass
    assert wrong == {}, f"POST {url}"


class Undo(Exception):
    """Every persona posts to the same state."""
