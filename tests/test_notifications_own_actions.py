"""Nobody is told of their own action: a dispatcher who reports a problem and files it
gets no "your report was filed" message, while a steward whose report a dispatcher files
does."""

from __future__ import annotations

from tests.fixtures_cases import (
    ON_THE_LANE,
    WhistleCity,
    filed_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.notifications.models import Notification


def test_the_reporter_who_files_the_case_is_not_told_it_was_filed(whistle_city: WhistleCity):
    city = whistle_city
    case = actions.report_case(
        city.dispatcher,
        description="人民市场东巷有游商占道",
        lon=ON_THE_LANE[0],
        lat=ON_THE_LANE[1],
    )
    actions.file_case(city.dispatcher, case, category=city.street_vending)
    assert not Notification.objects.filter(recipient=city.dispatcher, kind="case.filed").exists()


def test_a_reporter_is_told_when_someone_else_files_the_report(whistle_city: WhistleCity):
    case = filed_case(whistle_city)
    assert case.reporter == whistle_city.steward
    assert Notification.objects.filter(recipient=whistle_city.steward, kind="case.filed").exists()
