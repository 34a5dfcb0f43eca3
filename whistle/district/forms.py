"""The forms of the assessment pages: rating, appeal, ruling, a new scheme version, closing.

A form checks what a browser can get wrong, in the reader's language; the assessment's
actions check everything that depends on the state of the record (roles, deadlines, closed
periods) and their refusal is shown on the form.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from whistle.assessment.actions import RATING_COMMENT_MAX
from whistle.assessment.late_bands import bands_text, parse_bands
from whistle.assessment.models import (
    UNRATED_STARS_ERROR,
    Scheme,
    SummonsAssessment,
    validate_share,
)
from whistle.assessment.periods import Period, PeriodKind
from whistle.cases.actions import REASON_MAX, RESULT_MAX
from whistle.cases.models import Attachment
from whistle.district import corrections
from whistle.district.picker import period_label
from whistle.web.forms import Textarea, TextLimits
from whistle.web.photos import PhotosField

ROWS_SHORT = {"rows": 2}


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


class RatingForm(TextLimits):
    limit_labels: dict[str, Any] = {"comment": _("The comment")}

    rating = forms.TypedChoiceField(
        label=_("How well did the department do?"),
        coerce=int,
        choices=[
            (5, _("5 stars · excellent")),
            (4, _("4 stars · good")),
            (3, _("3 stars · fair")),
            (2, _("2 stars · poor")),
            (1, _("1 star · very poor")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose from 1 to 5 stars.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=RATING_COMMENT_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
        help_text=_("What went well or badly; the department reads it."),
    )


class AttachmentChoiceField(forms.MultipleChoiceField):
    """A choice among the case's photos the page already loaded; cleans to the objects."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.objects: dict[str, Attachment] = {}

    def set_objects(self, attachments: Iterable[Attachment]) -> None:
        self.objects = {str(a.pk): a for a in attachments}
        self.choices = [
            (key, f"{a.get_purpose_display()} · {a.uploaded_at:%m-%d %H:%M}")
            for key, a in self.objects.items()
        ]

    def clean(self, value: Any) -> list[Attachment]:
        return [self.objects[key] for key in super().clean(value)]


class CorrectionFields(TextLimits):
    """A correction: one choice, and a number for lateness and reworks."""

    correction = forms.ChoiceField(label=_("What should the record say?"))
    number = forms.IntegerField(
        label=_("Minutes late, or number of reworks"),
        required=False,
        min_value=0,
        max_value=100_000,
        help_text=_("Only for a shorter lateness or fewer reworks."),
    )

    def offer(self, choices: Iterable[corrections.Choice]) -> None:
        self.offered = {c.key: c for c in choices}
        choice_field(self, "correction").choices = [("", "———")] + [
            (c.key, c.label) for c in self.offered.values()
        ]

    def clean_correction_fields(self, record: SummonsAssessment | None) -> None:
        data = self.cleaned_data
        choice = self.offered.get(data.get("correction") or "")
        if choice is None:
            return
        number = data.get("number")
        if choice.number_key:
            if number is None:
                self.add_error("number", _("Give the number of minutes or reworks."))
                return
            if (
                record is not None
                and choice.number_key == "rework_count"
                and (number >= record.rework_count)
            ):
                self.add_error(
                    "number",
                    _("Ask for fewer reworks than the %(n)s counted.") % {"n": record.rework_count},
                )
                return
            if (
                record is not None
                and choice.number_key == "late_minutes"
                and record.late_minutes is not None
                and number >= record.late_minutes
            ):
                self.add_error(
                    "number",
                    _("Ask for fewer minutes than the %(n)s counted.") % {"n": record.late_minutes},
                )
                return
        data["part"] = str(choice.part)
        data["requested"] = corrections.build(choice, number)


class AppealForm(CorrectionFields):
    reason = forms.CharField(
        label=_("Why the record is wrong"),
        max_length=REASON_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
    )
    evidence = forms.CharField(
        label=_("Evidence in words"),
        required=False,
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
        help_text=_("e.g. the time on the body camera, a witness, a document number."),
    )
    case_photos = AttachmentChoiceField(label=_("Photos of the case as evidence"))
    photos = PhotosField(
        label=_("Evidence photos"), help_text=_("JPEG, PNG or WebP; at most nine.")
    )

    field_order = ["correction", "number", "reason", "evidence", "case_photos", "photos"]

    def __init__(
        self,
        *args: Any,
        record: SummonsAssessment,
        photos: Iterable[Attachment] = (),
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.record = record
        self.offer(corrections.choices_for_record(record))
        chosen = self.fields["case_photos"]
        assert isinstance(chosen, AttachmentChoiceField)
        chosen.set_objects(photos)
        if not chosen.objects:
            del self.fields["case_photos"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.clean_correction_fields(self.record)
        return self.cleaned_data


class RulingForm(CorrectionFields):
    decision = forms.ChoiceField(
        label=_("Ruling"),
        choices=[
            ("uphold", _("Uphold: correct the record")),
            ("reject", _("Reject: the record stands")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose to uphold or to reject the appeal.")},
    )
    note = forms.CharField(
        label=_("Grounds of the ruling"),
        max_length=REASON_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
    )

    field_order = ["decision", "correction", "number", "note"]

    def __init__(
        self, *args: Any, part: str, requested: dict[str, Any], record: Any = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.record = record
        self.offer(corrections.choices_for_part(part))
        self.fields["correction"].required = False
        self.fields["correction"].label = _("Correction to apply")
        self.fields["correction"].help_text = _("The one asked for, unless you change it.")
        key, number = corrections.choice_of(requested)
        self.initial.setdefault("correction", key)
        self.initial.setdefault("number", number)

    def clean(self) -> dict[str, Any]:
        super().clean()
        if self.cleaned_data.get("decision") == "uphold":
            if not self.cleaned_data.get("correction"):
                self.add_error("correction", _("Choose the correction to apply."))
            else:
                self.clean_correction_fields(self.record)
        return self.cleaned_data


# ---------------------------------------------------------------------------------------
# Schemes


SCHEME_FIELDS = [
    "name",
    "name_en",
    "weight_came",
    "weight_acted",
    "weight_quality",
    "on_time_points",
    "late_mode",
    "late_points_per_minute",
    "late_bands",
    "late_floor_points",
    "no_show_points",
    "handled_points",
    "decline_upheld_points",
    "decline_overruled_deduction",
    "abandoned_points",
    "rework_deduction",
    "points_per_star",
    "resident_share",
    "unrated_stars",
    "township_share",
    "stationed_share",
    "month_weighting",
    "appeal_working_days",
]


def month_choices(around: date, back: int = 24, ahead: int = 24) -> list[tuple[str, str]]:
    first = around.year * 12 + around.month - 1 - back
    found = []
    for index in range(first, first + back + ahead + 1):
        month = Period(index // 12, PeriodKind.MONTH, index % 12 + 1)
        found.append((month.key, period_label(month)))
    return found


class LateBandsField(forms.Field):
    """The late bands as text a person writes, one band a line (`late_bands`)."""

    widget = Textarea(attrs={"rows": 3})

    def __init__(self, *, encoder: Any = None, decoder: Any = None, **kwargs: Any) -> None:
        # The model's JSON field offers its encoder and decoder: the text needs neither.
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return bands_text(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[list[int | float]]:
        if isinstance(value, list):
            return value
        return parse_bands(value or "")


class SchemeForm(TextLimits, forms.ModelForm):
    valid_from_month = forms.ChoiceField(
        label=_("In force from"),
        help_text=_("The first month scored with this version. Closed months cannot change."),
    )

    class Meta:
        model = Scheme
        fields = SCHEME_FIELDS
        field_classes = {"late_bands": LateBandsField}
        help_texts = {
            "late_bands": _(
                "One band a line: up to how many minutes late, then the points deducted, as "
                "in “10 min: 10 points” and “30 min: 30 points”. Later than the last band "
                "scores the least points for a late arrival."
            )
        }
        error_messages = {"unrated_stars": {"invalid_choice": UNRATED_STARS_ERROR}}

    field_order = ["valid_from_month", *SCHEME_FIELDS]

    def __init__(self, *args: Any, district: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.district = district
        choice_field(self, "valid_from_month").choices = month_choices(today)

    def clean_valid_from_month(self) -> date:
        return Period.parse(self.cleaned_data["valid_from_month"]).first_month

    def _post_clean(self) -> None:
        # Bands that could not be read are said once, by what was wrong with them: the
        # model's check would add "enter at least one band", though one was written.
        unread = len(self.errors.get("late_bands", ()))
        super()._post_clean()  # type: ignore[misc]
        if unread:
            del self.errors["late_bands"].data[unread:]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "valid_from_month" in data:
            self.instance.valid_from = data["valid_from_month"]
        return data

    def values(self) -> dict[str, Any]:
        found = {name: self.cleaned_data[name] for name in SCHEME_FIELDS}
        found["valid_from"] = self.cleaned_data["valid_from_month"]
        return found


class ComponentForm(TextLimits):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(
        label=_("English name"),
        max_length=100,
        required=False,
        help_text=_("Shown on English pages and downloads; left empty, they show the name"),
    )
    weight = forms.CharField(
        label=_("Share"), max_length=20, validators=[validate_share], help_text=_("1/3, 0.4 or 40%")
    )


class BaseComponentFormSet(forms.BaseFormSet):
    # How "Please correct the following" names a row's field: "Component 2 · Share".
    row_label = _("Component %(number)s")


ComponentFormSet = forms.formset_factory(
    ComponentForm, formset=BaseComponentFormSet, extra=2, max_num=10, validate_max=True
)


class ClosePeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period to close"))
    confirm = forms.BooleanField(
        label=_("I understand that the scores of this period will never change again."),
        error_messages={"required": _("Tick the box to confirm.")},
    )

    def __init__(self, *args: Any, today: date, closed: Iterable[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        done = set(closed)
        options = []
        for year in (today.year - 1, today.year):
            keys = [Period(year, PeriodKind.MONTH, n).key for n in range(1, 13)]
            keys += [Period(year, PeriodKind.QUARTER, n).key for n in range(1, 5)]
            keys.append(str(year))
            for key in keys:
                period = Period.parse(key)
                if key not in done and period.last_month < date(today.year, today.month, 1):
                    options.append((key, period_label(period)))
        choice_field(self, "period").choices = [("", "———"), *options]


class WhatIfForm(forms.Form):
    """Which past period to replay under the proposal, and an arrival limit to try."""

    replay = forms.ChoiceField(
        label=_("Replay the period"),
        help_text=_("Its scores are recomputed in memory under the proposal; nothing is saved."),
    )
    arrive_within = forms.IntegerField(
        label=_("Arrival limit (minutes)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text=_("Leave empty to keep the limit each summons was given."),
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = []
        for year in (today.year, today.year - 1):
            keys = [str(year)]
            keys += [Period(year, PeriodKind.QUARTER, n).key for n in range(4, 0, -1)]
            keys += [Period(year, PeriodKind.MONTH, n).key for n in range(12, 0, -1)]
            for key in keys:
                if Period.parse(key).first_month <= today:
                    options.append((key, period_label(Period.parse(key))))
        choice_field(self, "replay").choices = options
        self.initial.setdefault("replay", str(today.year))

    def clean_replay(self) -> Period:
        return Period.parse(self.cleaned_data["replay"])
