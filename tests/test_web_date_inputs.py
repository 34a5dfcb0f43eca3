"""The browser's date, moment and time pickers read their value only as 2026-12-06,
2026-12-06T09:30 and 09:30: every such input of the product writes it so in every language,
so a form filled in advance (today's date) keeps its value in Chinese and can be sent as it
is."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms
from django.urls import reverse
from django.utils import translation

import whistle
from tests.conftest import make_person
from tests.fixtures_measures import bj
from whistle.organisation.models import Role
from whistle.patrols.models import TrainingSession

NOW = bj(8, 20, 10)
BEIJING = ZoneInfo("Asia/Shanghai")
EXAMPLES = {
    "date": (date(2026, 12, 6), "2026-12-06"),
    "datetime-local": (datetime(2026, 12, 6, 9, 30, tzinfo=BEIJING), "2026-12-06T09:30"),
    "time": (time(9, 30), "09:30"),
}
PAGE_APPS = ("web", "street", "desk", "district", "accounts", "township", "patrols", "duty")


def _every_form() -> Iterator[type[forms.BaseForm]]:
    for app in PAGE_APPS:
        package = importlib.import_module(f"whistle.{app}")
        for module in pkgutil.walk_packages(package.__path__, f"whistle.{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    seen: set[type] = set()
    waiting: list[type] = [forms.Form, forms.ModelForm]
    while waiting:
        for sub in waiting.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                waiting.append(sub)
                if sub.__module__.startswith(whistle.__name__ + "."):
                    yield sub


def test_every_date_and_time_input_of_the_product_writes_its_value_as_the_browser_reads_it():
    checked = []
    with translation.override("zh-hans"):
        for form in _every_form():
            for name, field in getattr(form, "base_fields", {}).items():
                input_type = getattr(field.widget, "input_type", "")
                if input_type not in EXAMPLES:
                    continue
                value, written = EXAMPLES[input_type]
                shown = field.widget.format_value(value)
                checked.append(f"{form.__module__}.{form.__name__}.{name}")
                assert shown == written, (checked[-1], shown)
    # The training session's date, the backlog's review date, the duty's cover, quiet hours…
    assert len(checked) > 15, checked


def _held_on(html: str) -> str:
    found = re.search(r'<input type="date" name="held_on" value="([^"]*)"', html)
    assert found, "no date input for held_on"
    return found.group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_training_form_keeps_todays_date_in_either_language_and_saves_as_it_is(
    client, small_city, language
):
    office = make_person("longtan-office", Role.CHIEFS_OFFICE, jurisdiction=small_city.longtan)
    client.force_login(office)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("district:training"), HTTP_ACCEPT_LANGUAGE=language)
        held_on = _held_on(html.content.decode())
        assert held_on == "2026-08-20"
        response = client.post(
            reverse("district:training"),
            {
                "organiser": small_city.longtan.pk,
                "topic": "小巷管家工作方法",
                "held_on": held_on,
                "place": "夕照寺社区活动室",
                "trainer": "王老师",
                "audience": "stewards",
            },
            HTTP_ACCEPT_LANGUAGE=language,
        )
    assert response.status_code == 302
    assert TrainingSession.objects.get().held_on == date(2026, 8, 20)
