"""The design system's form pieces shared by every page: the date, time and moment inputs
the browser's pickers read, the text area whose length is counted as the person sees it, the
place chosen with the place picker, and the components page's sample form."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from whistle.cases.errors import ActionRefused, InvalidInput

# A text over its limit, in the words the actions use for the same limit
# (`whistle.cases.actions._common.clean_text`), so that the form and the action agree.
TOO_LONG = _("%(label)s is too long: %(length)s characters, at most %(max)s.")


def _too_long_text(label: Any) -> str:
    # Django's length check fills in its own names (`show_value`, `limit_value`).
    named = str(label).replace("%", "%%")
    return str(TOO_LONG) % {"label": named, "length": "%(show_value)s", "max": "%(limit_value)s"}


# Worked out when shown, in the language of that request.
too_long = lazy(_too_long_text, str)

# Django's own length messages, for a field that does not name itself in its error: its
# Chinese catalogue says "确保该变量包含不超过 120 字符 (目前字符数 5000)" ("this variable"),
# so they are worded in this app's catalogue as the pages count a text ("最多 120 个字，现有
# 5000 个字。"), which Django reads before its own. Named here so that they stay there.
LENGTH_MESSAGES = (
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
    ngettext_lazy(
        "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
)

# The code of a form's error that is a refusal by the rules (an action refused in the
# state the case or the record is in), not an entry to correct: the form's errors show it
# as a refusal, apart from what the person should correct (web/components/form_errors.html).
REFUSED = "refused"


def add_refusal(form: forms.BaseForm, message: Any) -> None:
    """Put an action's refusal on the form: shown as a refusal stating its reason, not
    under "Please correct the following"."""
    form.add_error(None, forms.ValidationError(str(message), code=REFUSED))


def place_action_error(
    form: forms.BaseForm, message: Any, field: str | None, *, invalid: bool
) -> None:
    """An action's error on the form: on the field it names when the form has that field;
    a value to correct (`invalid`) above the form; otherwise a refusal by the rules."""
    if field and field in form.fields:
        form.add_error(field, str(message))
    elif invalid:
        form.add_error(None, str(message))
    else:
        add_refusal(form, message)


def refusals(form: forms.BaseForm) -> list[str]:
    """The form's refusals (`add_refusal`), in the order they were added."""
    return [
        " ".join(str(m) for m in error.messages)
        for error in form.non_field_errors().as_data()
        if error.code == REFUSED
    ]


def corrections(form: forms.BaseForm) -> list[str]:
    """The form's errors not tied to a field that ask for a correction (not refusals)."""
    return [
        " ".join(str(m) for m in error.messages)
        for error in form.non_field_errors().as_data()
        if error.code != REFUSED
    ]


@dataclass(frozen=True)
class Correction:
    """One entry of a form's "Please correct the following": the error, and the field it is
    about (its label and the id the link leads to), if any."""

    error: str
    label: str = ""
    anchor: str = ""


def correction_list(form: forms.BaseForm | None, parts: Iterable[Any] = ()) -> list[Correction]:
    """Every error to correct on a form and on the parts filled in with it: another form, or
    a formset of rows (its own errors, then each row's, a row named by the formset's
    `row_label`, e.g. "Component 2"). Refusals are not among them (`refusals`)."""
    found: list[Correction] = []

    def add_form(one: forms.BaseForm, row: str = "") -> None:
        found.extend(Correction(error) for error in corrections(one))
        labels = getattr(one, "error_labels", None) or {}
        for field in one:
            label = str(labels.get(field.name, field.label))
            if row:
                label = f"{row} · {label}"
            anchor = field.id_for_label or field.auto_id
            found.extend(Correction(str(error), label, anchor) for error in field.errors)

    if form is not None:
        add_form(form)
    for part in parts or ():
        if isinstance(part, forms.BaseFormSet):
            found.extend(Correction(str(error)) for error in part.non_form_errors())
            row_label = getattr(part, "row_label", None)
            for number, row in enumerate(part.forms, start=1):
                add_form(row, str(row_label) % {"number": number} if row_label else "")
        elif part is not None:
            add_form(part)
    return found


@dataclass(frozen=True)
class ActionCheck:
    """One of an action's checks that reads a few values of the form and none of the
    database: `check` is called with the cleaned values of `reads`, in that order, and
    raises the action's `InvalidInput` when they are wrong."""

    reads: tuple[str, ...]
    check: Callable[..., object]


class ActionChecked(forms.Form):
    """A form that runs, with its own checks, the checks of its action that need no other
    state (`action_checks`), so that one submit shows every error the form can know, each
    on its field, rather than one at a time. A check runs when the values it reads are
    clean. The action itself runs only once the form is clean; its refusal lands on the
    field it names (`show_action_error`), through `action_fields` (the action's name of a
    value → the form's field) where the names differ."""

    action_fields: dict[str, str] = {}
    action_checks: tuple[ActionCheck, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        values = dict(data)
        for check in self.action_checks:
            if any(name in self.errors or name not in values for name in check.reads):
                continue
            try:
                check.check(*(values[name] for name in check.reads))
            except InvalidInput as invalid:
                field = self.field_of(invalid)
                if field not in self.errors:
                    self.add_error(field, str(invalid))
        return data

    def field_of(self, refused: ActionRefused) -> str | None:
        """The form's field an action's refusal is about, or None for the top of the form."""
        if not isinstance(refused, InvalidInput):
            return None
        name = self.action_fields.get(refused.field, refused.field)
        return name if name in self.fields else None

    def show_action_error(self, refused: ActionRefused) -> None:
        """The action's refusal on the field it names, or at the top of the form."""
        place_action_error(
            self, refused, self.field_of(refused), invalid=isinstance(refused, InvalidInput)
        )


class TextLimits(forms.Form):
    """A form whose text fields with a limit refuse a longer text in the product's words,
    naming the field ("问题描述太长：5000 个字，最多 4000 个字。") rather than with Django's
    generic message. The field is named by `limit_labels`, else by its label; a field that
    gives its own "max_length" message keeps it."""

    limit_labels: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if not isinstance(field, forms.CharField) or not field.max_length:
                continue
            if "max_length" in field.error_messages:
                continue
            label = self.limit_labels.get(name, field.label or name)
            field.error_messages["max_length"] = too_long(label)


class DateInput(forms.DateInput):
    """A day picked with the browser's date picker. The browser reads and sends the value
    as 2026-12-06 whatever the page's language, so it is written so in every language
    (Django would write the language's own format, e.g. 2026/12/06 in Chinese, which the
    browser throws away and the form then finds empty)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def check_day_range(form: forms.Form, since: str = "since", until: str = "until") -> None:
    """In a form's `clean`: an end day before the start day is an error on the end day,
    which is then left out of the values."""
    cleaned = form.cleaned_data
    first, last = cleaned.get(since), cleaned.get(until)
    if first and last and first > last:
        form.add_error(until, _("The end date is before the start date."))
        cleaned.pop(until, None)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a Beijing day, as an aware time."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def within_days(
    rows: QuerySet[Any], field: str, since: date | None, until: date | None
) -> QuerySet[Any]:
    """The rows whose moment `field` falls on the days from `since` to `until`, both
    included, Beijing time; an empty end is open."""
    if since:
        rows = rows.filter(**{f"{field}__gte": start_of_day(since)})
    if until:
        rows = rows.filter(**{f"{field}__lt": start_of_day(until + timedelta(days=1))})
    return rows


class DateTimeInput(forms.DateTimeInput):
    """A moment picked with the browser's date and time picker, in Beijing time, written as
    the browser reads it (2026-12-06T09:30) in every language."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TimeInput(forms.TimeInput):
    """A time of day picked with the browser's time picker, written as it reads it (09:30)."""

    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def counted_length(text: str) -> int:
    """A text's length as its limit counts it: characters, a line break as one."""
    return len(text.replace("\r\n", "\n"))


class Textarea(forms.Textarea):
    """A text area for a field with a limit. Browsers send each line break as CR LF, which
    Django's length check would count twice; the counter under the box counts it once, so
    the value is read with plain line breaks and the two always agree."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


class GroupedSelect(forms.Select):
    """A list whose options name the group they belong to in `data-group` (a department's
    key, say), so that static/desk/narrow.js narrows this list, or what another list names
    in its `data-narrows`, to the group chosen. `group_keys` gives the key of the choice at
    each index of `choices`: of the option itself, or of every option under a heading."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs, choices)
        self.group_keys: dict[int, str] = {}

    def create_option(
        self,
        name: str,
        value: Any,
        label: Any,
        selected: Any,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        key = self.group_keys.get(index)
        if key is not None:
            option["attrs"] = {**option["attrs"], "data-group": key}
        return option


PLACE_MISSING = _("Give the place: use your position, tap the map or choose a lane from the list.")
# The same, where the picker offers no position of one's own (a desk taking a call).
PLACE_MISSING_NO_POSITION = _("Give the place: tap the map or choose a lane from the list.")
PLACE_INVALID = _("The place could not be read: choose it again on the map or from the list.")


class PlaceInput(forms.HiddenInput):
    """A hidden coordinate of the place chosen with the picker (position, map or lane
    list). Its errors link to the place's group of controls, not to the hidden input."""

    def id_for_label(self, id_: str) -> str:
        return "id_place"


def place_field(**kwargs: Any) -> forms.FloatField:
    return forms.FloatField(
        widget=PlaceInput,
        error_messages={
            "required": PLACE_MISSING,
            "invalid": PLACE_INVALID,
            "min_value": PLACE_INVALID,
            "max_value": PLACE_INVALID,
        },
        **kwargs,
    )


class PickedPlace(ActionChecked):
    """The place of a problem chosen with the place picker (web/components/place_picker.html):
    no coordinate fields to type in, so every problem with it is said once, about "the
    place"."""

    # What the list of errors calls the place: the question the picker's legend asks.
    place_label: Any = _("Where is it?")
    # What a missing or unreadable place is told: the ways this form offers to give it.
    place_missing: Any = PLACE_MISSING
    place_invalid: Any = PLACE_INVALID

    lon = place_field(label=_("Place"), min_value=-180, max_value=180)
    lat = place_field(label=_("Place"), required=False, min_value=-90, max_value=90)
    accuracy_m = place_field(label=_("Place"), required=False, min_value=0, max_value=100_000)
    # The action's refusals about the position concern the place as a whole.
    action_fields = {
        "position": "lon",
        "position.lon": "lon",
        "position.lat": "lon",
        "accuracy_m": "lon",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("lon", "lat", "accuracy_m"):
            self.fields[name].label = self.place_label
            for kind in ("invalid", "min_value", "max_value"):
                self.fields[name].error_messages[kind] = self.place_invalid
        self.fields["lon"].error_messages["required"] = self.place_missing

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Latitude and accuracy travel with the longitude: one message for the place.
        problems = [self.errors.pop(name) for name in ("lat", "accuracy_m") if name in self.errors]
        if "lon" not in self.errors:
            if problems:
                self.add_error("lon", self.place_invalid)
            elif data.get("lon") is not None and data.get("lat") is None:
                self.add_error("lon", self.place_missing)
        return data


class GalleryForm(forms.Form):
    """A form shown with its errors on the components page, as role pages will show theirs."""

    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=4000,
        widget=Textarea(attrs={"rows": 3}),
        help_text=_("Say what you see and where, in a sentence or two."),
    )
    phone = forms.RegexField(
        label=_("Mobile phone"),
        regex=r"^1\d{10}$",
        error_messages={"invalid": _("Enter an 11-digit mobile number starting with 1.")},
    )
    lon = forms.FloatField(label=_("Longitude"), required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False)
    accuracy_m = forms.FloatField(label=_("Accuracy (m)"), required=False)
