"""Generated input against the OpenAPI document (schemathesis): every operation, called with
input made from its schema by a signed-in dispatcher, answers no 5xx, answers what the
document promises (status and body), and a refused call writes nothing.

Each generated call runs in a savepoint that is rolled back, so every call meets the same
city. The examples are derandomized: a failure is repeated by running the test again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures_api import api_city_fixture  # noqa: F401  (fixture)
from tests.fixtures_cases import whistle_city_fixture  # noqa: F401  (fixture)
from whistle.cases.models import Attachment, Case, Event, Summons, Whistle
from whistle.notifications.models import Notification
from whistle.patrols.models import Patrol
from whistle.wsgi import application

EXAMPLES = 6
WRITTEN = (Case, Event, Summons, Whistle, Attachment, Notification, Patrol)


class Rollback(Exception):
    pass


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN}


@pytest.fixture
def connection_kept_open() -> Iterator[None]:
    """The WSGI application closes old connections when a request starts and when it
    finishes; called directly (not through Django's test client, which does the same), it
    must leave the test's connection and its transaction alone."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_generated_input_gets_no_server_error_and_the_documented_answer(
    api_city, settings, connection_kept_open
):
    settings.WHISTLE_API_RATE_LIMIT = 1_000_000
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    headers = {"Authorization": f"Bearer {api_city.as_('dispatcher').secret}"}
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    results = list(schema.get_all_operations())
    # An operation the document describes in a way schemathesis cannot read fails here.
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) > 50

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            before = counts()
            try:
                with transaction.atomic():
                    response = case.call_and_validate(headers=headers, checks=checks)
                    if response.status_code >= 400:
                        assert counts() == before, (case.path, response.text)
                    raise Rollback
            except Rollback:
                pass

        call()
