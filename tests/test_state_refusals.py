"""An action refused because a case or a summons is past it (or not there yet) names the
state in words that read in either language: its status in quotes, never "is result
reported"."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.text import capfirst

from tests.fixtures_cases import (
    officer_on_site,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from whistle.cases import actions
from whistle.cases.models import Case, Summons
from whistle.cases.permissions import require_case_status, require_summons_status


def test_reporting_a_result_twice_is_refused_with_the_summons_status_in_quotes(whistle_city):
    city = whistle_city
    _case, summons = officer_on_site(city)
    summons = actions.report_result(city.urban_officer, summons, result="已劝离")
    with pytest.raises(actions.ActionRefused) as refused:
        actions.report_result(city.urban_officer, summons, result="已劝离")
    with translation.override("en"):
        assert str(refused.value) == (
            "You cannot report the result of this summons: the summons of "
            f"{city.urban.name} has the status “Result reported”."
        )
    with translation.override("zh-hans"):
        assert str(refused.value) == (
            f"无法反馈本次任务处置结果：{city.urban.name}的报到任务当前状态为“已反馈结果”。"
        )


def refused_in_english(require, record, status: str, action: str) -> tuple[str, str]:
    """The refusal `require` gives `record` set to `status` for `action`, and the status's
    label as it should stand in it, both in English."""
    record.status = status
    with pytest.raises(actions.ActionRefused) as refused:
        require(record, [], action)
    with translation.override("en"):
        return str(refused.value), capfirst(str(type(record).Status(status).label))


@pytest.mark.parametrize("status", Summons.Status.values)
def test_every_summons_status_reads_as_a_quoted_name(whistle_city, status):
    _case, summons = officer_on_site(whistle_city)
    message, label = refused_in_english(require_summons_status, summons, status, "check in")
    assert message.endswith(f" has the status “{label}”.")


@pytest.mark.parametrize("status", Case.Status.values)
def test_every_case_status_reads_as_a_quoted_name(whistle_city, status):
    case, _summons = officer_on_site(whistle_city)
    message, label = refused_in_english(require_case_status, case, status, "close the case")
    assert message == f"You cannot close the case: the case has the status “{label}”."
