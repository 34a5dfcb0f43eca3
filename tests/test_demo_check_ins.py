"""The demo's check-ins carry the phone's provenance, and one waits for the township."""

from __future__ import annotations

import time_machine

from tests.fixtures_cases import (
    beijing,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases.models import Event, Summons
from whistle.cases.proof import CHECK_IN_KINDS
from whistle.cases.trail import EventKind
from whistle.demo.history import build_history

BUILT_AT = beijing(2026, 6, 17, 15, 0)


def test_the_demos_check_ins_come_from_phones_and_one_awaits_the_township(whistle_city):
    with time_machine.travel(BUILT_AT, tick=True):
        build_history()
    check_ins = list(Event.objects.filter(kind__in=CHECK_IN_KINDS))
    assert len(check_ins) > 10
    for event in check_ins:
        assert event.data["source"] == "device"
        assert event.data["accuracy_m"] is not None and event.data["device_id"]
        assert abs(event.data["clock_skew_s"]) <= event.data["max_skew_s"]
    flagged = Summons.objects.get(check_in_flag=Summons.CheckInFlag.PENDING)
    assert flagged.case.township == whistle_city.longtan
    assert flagged.check_in_flag_reasons == ["imprecise"]
    assert Event.objects.filter(kind=EventKind.CHECK_IN_FLAGGED).count() == 1
