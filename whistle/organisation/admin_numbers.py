"""A number's smallest allowed value, said once in the admin.

A positive number field's form allows 0 by itself while the model may ask for more: 0 was
then refused with "at least 1" and -5 with "at least 0". `ModelMinimum` gives each number
field of the form the model's own lower bound, with its message, in place of the form's:
every value below it is refused alike.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MinValueValidator
from django.db import models
from django.http import HttpRequest

NUMBER_FIELDS = (forms.IntegerField, forms.DecimalField, forms.FloatField)


def model_minimum(db_field: models.Field[Any, Any]) -> MinValueValidator | None:
    """The field's validator with the largest lower bound, or None for none."""
    bounds = [
        validator
        for validator in db_field.validators
        if isinstance(validator, MinValueValidator) and not callable(validator.limit_value)
    ]
    return max(bounds, key=lambda validator: validator.limit_value, default=None)


class ModelMinimum:
    """For admins and inlines whose models bound their numbers from below."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        lowest = model_minimum(db_field) if isinstance(field, NUMBER_FIELDS) else None
        if lowest is None:
            return field
        field.min_value = lowest.limit_value
        field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)] + [
            lowest
        ]
        field.widget.attrs.update(field.widget_attrs(field.widget))
        return field
