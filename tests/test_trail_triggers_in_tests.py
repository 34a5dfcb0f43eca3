"""The test suite's own plumbing around the trail's triggers keeps them in force."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from whistle.cases.models import Case
from whistle.cases.trail import append_event


def _case(small_city) -> Case:
    return Case.objects.create(
        source=Case.Source.STEWARD,
        description="井盖缺失",
        lon=116.432,
        lat=39.873,
        township=small_city.longtan,
        reported_at=timezone.now(),
    )


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_can_write_events_and_still_be_flushed(small_city):
    case = _case(small_city)
    with transaction.atomic():
        append_event(case, "case.reported")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event")


def test_the_next_test_still_finds_the_triggers_in_force(small_city):
    case = _case(small_city)
    append_event(case, "case.reported")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_event SET kind = 'x'")
