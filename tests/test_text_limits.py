"""Text limits: every text box with a limit, in every form of the product (street, desk,
district), shows "n / max" under it, takes as many characters as the server accepts, and
cuts nothing: a longer text is refused with the form's error and kept for correcting. A
line break counts as one character, in the counter and on the server."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django import forms
from django.template.loader import render_to_string

from tests.fixtures_cases import (
    beijing,
    reported_case,
    whistle_city_fixture,  # noqa: F401  (fixture)
)
from tests.fixtures_desk import case_url, post_op
from tests.fixtures_street import MORNING, ON_THE_LANE, street_fixture  # noqa: F401
from whistle.cases.actions import DESCRIPTION_MAX, REASON_MAX
from whistle.cases.models import Case, Event
from whistle.desk import forms as desk_forms
from whistle.district import forms as district_forms
from whistle.street import captcha
from whistle.street import forms as street_forms
from whistle.web import forms as web_forms
from whistle.web.forms import Textarea

PAGES_FORMS = (street_forms, desk_forms, district_forms, web_forms)


def product_forms() -> Iterator[Any]:
    for module in PAGES_FORMS:
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def limited_text_fields() -> Iterator[tuple[str, forms.CharField]]:
    for cls in product_forms():
        for name, field in cls.base_fields.items():
            if (
                isinstance(field, forms.CharField)
                and field.max_length
                and not field.widget.is_hidden
            ):
                yield f"{cls.__name__}.{name}", field


def rendered(field: forms.Field, value: str | None = None) -> str:
    """The field, alone in a form, as web/components/field.html draws it."""
    form_class = type("OneField", (forms.Form,), {"text": copy.deepcopy(field)})
    form = form_class(data={"text": value}) if value is not None else form_class()
    if value is not None:
        form.is_valid()
    return render_to_string("web/components/field.html", {"field": form["text"]})


def test_every_text_area_of_the_products_forms_counts_a_line_break_once():
    areas = [
        f"{cls.__name__}.{name}"
        for cls in product_forms()
        for name, field in cls.base_fields.items()
        if isinstance(field.widget, forms.Textarea)
    ]
    assert len(areas) >= 15
    wrong = [
        name
        for cls in product_forms()
        for name, field in cls.base_fields.items()
        if isinstance(field.widget, forms.Textarea) and not isinstance(field.widget, Textarea)
    ]
    assert wrong == []


def test_every_text_box_with_a_limit_shows_a_counter_and_has_no_maxlength_to_cut_with():
    fields = list(limited_text_fields())
    assert len(fields) >= 20
    for name, field in fields:
        html = rendered(field)
        assert "maxlength" not in html, name
        assert f'data-limit="{field.max_length}"' in html, name
        assert re.search(rf">\d+ / {field.max_length}</p>", html), name
        assert 'aria-describedby="id_text-count' in html or "id_text-count" in html, name


def test_the_counter_counts_what_was_sent_and_a_line_break_once():
    field = forms.CharField(max_length=10, widget=Textarea)
    html = rendered(field, "ab\r\ncd")
    assert ">5 / 10</p>" in html
    assert 'class="char-count" id="id_text-count"' in html
    assert 'aria-describedby="id_text-count"' in html
    near = rendered(field, "abcdefghi")
    assert 'class="char-count is-near"' in near and ">9 / 10</p>" in near


def test_a_one_line_box_shows_its_counter_while_it_is_typed_in():
    html = rendered(forms.CharField(max_length=60))
    assert 'class="char-count char-count-typing"' in html
    assert 'type="text"' in html and "maxlength" not in html


def test_fields_without_a_limit_or_hidden_show_no_counter():
    assert "char-count" not in rendered(forms.CharField(widget=Textarea))
    assert "char-count" not in rendered(forms.CharField(max_length=5, widget=forms.HiddenInput))
    assert "char-count" not in rendered(forms.IntegerField(max_value=5))


def test_a_text_over_the_limit_is_refused_whole_and_the_counter_says_by_how_much():
    field = forms.CharField(max_length=10, widget=Textarea)
    html = rendered(field, "一二三四五六七八九十十一")
    assert ">12 / 10</p>" in html
    assert 'class="char-count is-over"' in html
    assert "一二三四五六七八九十十一</textarea>" in html
    assert 'class="field-errors"' in html


def test_line_breaks_sent_as_cr_lf_count_once_on_the_server():
    form_class = type(
        "Note", (forms.Form,), {"note": forms.CharField(max_length=5, widget=Textarea)}
    )
    form = form_class(data={"note": "ab\r\ncd"})
    assert form.is_valid()
    assert form.cleaned_data["note"] == "ab\ncd"
    assert not form_class(data={"note": "ab\r\ncde"}).is_valid()


# The same number as the server, end to end -------------------------------------------


def _lines(total: int) -> str:
    """A text of `total` characters as a browser sends it: lines joined by CR LF, each line
    break counting as one, and no line break at the end (it would be stripped)."""
    text = (("问" * 48 + "\n") * (total // 49 + 1))[:total]
    if text.endswith("\n"):
        text = text[:-1] + "问"
    return text.replace("\n", "\r\n")


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
def test_a_residents_description_takes_exactly_the_limit_and_not_one_more(client, street):
    def send(description: str):
        client.get("/report/")
        data = {"description": description, "lon": str(ON_THE_LANE[0]), "lat": str(ON_THE_LANE[1])}
        cookie = client.cookies.get(captcha.COOKIE)
        challenge = captcha.opened(cookie.value) if cookie is not None else None
        if challenge is not None:
            data["captcha"] = str(challenge.answer)
        return client.post("/report/", data)

    too_long = _lines(DESCRIPTION_MAX + 1)
    response = send(too_long)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Case.objects.exists()
    assert f">{DESCRIPTION_MAX + 1} / {DESCRIPTION_MAX}</p>" in html
    assert 'href="#id_description"' in html
    # Nothing was cut: the whole text comes back to be shortened.
    assert too_long.replace("\r\n", "\n") + "</textarea>" in html

    assert send(_lines(DESCRIPTION_MAX)).status_code == 302
    case = Case.objects.get()
    assert len(case.description) == DESCRIPTION_MAX
    assert "\r" not in case.description


@pytest.mark.django_db
def test_a_reason_on_the_desk_takes_exactly_the_limit_and_not_one_more(client, whistle_city):
    city = whistle_city
    now = beijing(2026, 3, 10, 10, 0)
    with time_machine.travel(now, tick=False):
        case = reported_case(city, at=now)
    client.force_login(city.dispatcher)
    with time_machine.travel(now.replace(minute=5), tick=False):
        response = post_op(client, case_url(case), "reject", case, reason=_lines(REASON_MAX + 1))
        html = response.content.decode()
        assert response.status_code == 200
        assert re.search(rf">{REASON_MAX + 1} / {REASON_MAX}</p>", html)
        assert Case.objects.get(pk=case.pk).status == Case.Status.REPORTED
        assert Event.objects.filter(case=case).count() == 1
        response = post_op(client, case_url(case), "reject", case, reason=_lines(REASON_MAX))
        assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.REJECTED
    assert len(case.rejection_reason) == REASON_MAX
