"""The browser tests' count of the requests the live server is answering (IN_FLIGHT), by
which a test's end waits before the database is emptied: a request still being answered
when the test has let go of the database (its page's service worker still fetching) is
counted answered all the same once the server is done with it."""

from __future__ import annotations

import threading
from urllib.request import urlopen

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path

from tests.browser.conftest import IN_FLIGHT
from whistle.organisation.models import Person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]

QUERIED = threading.Event()
GO_ON = threading.Event()


def held(request: HttpRequest) -> HttpResponse:
    """Reads the database, then answers only once the test says so."""
    Person.objects.exists()
    QUERIED.set()
    GO_ON.wait(30)
    return HttpResponse("answered")


urlpatterns = [path("held/", held)]


def test_a_request_answered_after_the_test_let_go_of_the_database_is_counted_answered(
    live_server, django_db_blocker
):
    QUERIED.clear()
    GO_ON.clear()
    level = IN_FLIGHT.count
    answers: list[bytes] = []

    def fetch() -> None:
        with urlopen(live_server.url + "/held/", timeout=30) as response:
            answers.append(response.read())

    client = threading.Thread(target=fetch)
    client.start()
    assert QUERIED.wait(30)
    assert IN_FLIGHT.count == level + 1
    # As after a test: the database is closed to everyone, the live server's threads too.
    with django_db_blocker.block():
        GO_ON.set()
        client.join(30)
        assert answers == [b"answered"]
        assert IN_FLIGHT.wait_until_back_to(level, timeout=10)
