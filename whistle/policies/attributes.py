"""A resident's answers to the questions of a category (its Open311 service attributes),
checked against the district's `CategoryAttribute` rows and put in the form the case keeps.

The answers arrive as text, as a form sends them: each attribute's code with its values (a
multi-value list may have several). Every answer kept names its question as it was asked, so
the case still reads right after the district rewords or retires the question.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from whistle.policies.models import AttributeDatatype, Category, CategoryAttribute

# The longest answer of each kind of free text.
STRING_MAX = 200
TEXT_MAX = 4000
NUMBER_MAX = 40


class AnswerRefused(ValueError):
    """An answer that does not fit its question: `code` names the attribute."""

    def __init__(self, code: str, message: str | Promise, /, **params: Any) -> None:
        super().__init__(message, params)
        self.code = code
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


def questions_of(category: Category) -> list[CategoryAttribute]:
    return list(category.attributes.filter(is_active=True).order_by("order", "code"))


def _one(question: CategoryAttribute, values: list[str]) -> str:
    if len(values) > 1:
        raise AnswerRefused(
            question.code, _("%(question)s takes one answer."), question=question.description
        )
    return values[0]


def _answer(question: CategoryAttribute, values: list[str]) -> tuple[Any, str]:
    """The value kept and the text shown."""
    kind = question.datatype
    if kind in (AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST):
        names = dict(question.choices)
        chosen = list(dict.fromkeys(values))
        wrong = [v for v in chosen if v not in names]
        if wrong:
            raise AnswerRefused(
                question.code,
                _("%(value)s is not one of the choices of %(question)s: %(choices)s."),
                value=wrong[0],
                question=question.description,
                choices=_(", ").join(names),
            )
        if kind == AttributeDatatype.SINGLEVALUELIST:
            key = _one(question, chosen)
            return key, names[key]
        return chosen, "、".join(names[key] for key in chosen)
    value = _one(question, values)
    if kind == AttributeDatatype.NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if len(value) > NUMBER_MAX or not math.isfinite(number):
            raise AnswerRefused(
                question.code,
                _("%(question)s is a number: %(value)s is not one."),
                question=question.description,
                value=value[:NUMBER_MAX],
            )
        return value, value
    if kind == AttributeDatatype.DATETIME:
        try:
            at = parse_datetime(value)
        except ValueError:
            at = None
        if at is None:
            raise AnswerRefused(
                question.code,
                _("%(question)s is a date and time in ISO 8601 (2026-03-10T08:00:00+08:00)."),
                question=question.description,
            )
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        return at.isoformat(), timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    longest = TEXT_MAX if kind == AttributeDatatype.TEXT else STRING_MAX
    if len(value) > longest or "\x00" in value:
        raise AnswerRefused(
            question.code,
            _("%(question)s is too long: at most %(max)s characters."),
            question=question.description,
            max=longest,
        )
    return value, value


def clean_answers(category: Category, given: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """The answers to keep on the case, in the questions' order; AnswerRefused for a
    question the category does not ask, a required one left empty, or a value that does not
    fit its kind."""
    questions = questions_of(category)
    asked = {q.code for q in questions}
    for code in given:
        if code not in asked:
            raise AnswerRefused(
                code,
                _("%(service)s asks no question %(code)s."),
                service=category.display_name,
                code=code,
            )
    answers = []
    for question in questions:
        values = [str(v).strip() for v in given.get(question.code, ()) if str(v).strip()]
        if not values:
            if question.required:
                raise AnswerRefused(
                    question.code,
                    _("Answer %(question)s: it is required."),
                    question=question.description,
                )
            continue
        value, shown = _answer(question, values)
        answers.append(
            {
                "code": question.code,
                "description": question.description,
                "datatype": question.datatype,
                "value": value,
                "shown": shown,
            }
        )
    return answers
