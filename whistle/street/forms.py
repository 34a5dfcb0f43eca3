"""The street pages' forms. Validation here is about the form (types, lengths, choices);
the actions validate the rest and their refusals are put on the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions import DESCRIPTION_MAX, NOTE_MAX, REASON_MAX
from whistle.cases.errors import ActionRefused, InvalidInput
from whistle.organisation.models import Lane
from whistle.organisation.personal_data import normal_phone
from whistle.patrols.models import CheckResult
from whistle.policies.models import Category
from whistle.street.public import REFERENCE, normal_reference
from whistle.web.forms import (
    DateInput,
    PickedPlace,
    Textarea,
    TextLimits,
    place_action_error,
)

# How much of a description the report form sends for its suggested categories: enough for
# the words that tell categories apart, short enough for any address. At most SUGGEST_CHARS
# characters and SUGGEST_BYTES of the address as sent (percent-encoded, a Chinese character
# takes 9), well under the 4,094 bytes of a request line that gunicorn accepts, leaving room
# for the path and the form's other values.
SUGGEST_CHARS = 500
SUGGEST_BYTES = 2000

# The field an action's InvalidInput names → the form field that shows it.
ACTION_FIELDS = {
    "description": "description",
    "position": "lon",
    "position.lon": "lon",
    "position.lat": "lat",
    "accuracy_m": "accuracy_m",
    "address": "address",
    "category": "category",
    "photos": "photo",
    "name": "name",
    "phone": "phone",
    "reason": "reason",
    "rating": "rating",
    "comment": "comment",
    "note": "comment",
}


def show_refusal(form: forms.Form, error: ActionRefused) -> None:
    """Put an action's refusal on the field it is about, or above the form."""
    fields = {**ACTION_FIELDS, **getattr(form, "action_fields", {})}
    invalid = isinstance(error, InvalidInput)
    field = fields.get(error.field) if isinstance(error, InvalidInput) else None
    place_action_error(form, error, field, invalid=invalid)


class PlaceFields(TextLimits):
    """A photo, a position (WGS-84, from the phone or a pin on the map) and a description."""

    # Named as the actions name them (the labels are questions).
    limit_labels: dict[str, Any] = {"description": _("The description")}

    # What the list of errors calls a field's error when not its label
    # (whistle.web.forms.correction_list).
    error_labels: dict[str, Any] = {}

    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
        help_text=_("Take a photo of the problem, or choose one (JPEG, PNG or WebP)."),
    )
    lon = forms.FloatField(
        label=_("Longitude"),
        min_value=-180,
        max_value=180,
        error_messages={"required": _("Give the place: use your position or tap the map.")},
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        error_messages={"required": _("Give the place: use your position or tap the map.")},
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    accuracy_m = forms.FloatField(
        label=_("Accuracy (m)"),
        required=False,
        min_value=0,
        max_value=100_000,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=DESCRIPTION_MAX,
        widget=Textarea(attrs={"rows": 4}),
        help_text=_(
            "Say what you see and where, in a sentence or two. Leave out people's names and "
            "phone numbers: the description stays with the case."
        ),
        error_messages={"required": _("Describe the problem in a sentence or two.")},
    )

    def clean_description(self) -> str:
        text = self.cleaned_data["description"].strip()
        if "\x00" in text:
            raise forms.ValidationError(_("The description contains a character not allowed."))
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # No place given: the longitude and the latitude would say the same, said once,
        # and the list of errors names the place, not one of its coordinates.
        lon, lat = self.errors.get("lon"), self.errors.get("lat")
        if lon and lat and list(lon) == list(lat):
            del self.errors["lat"]
            # Named as the form names the place to the person ("问题在哪里？").
            self.error_labels = {"lon": _("Where is it?")}
        return data


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.major.display_name} · {obj.display_name}"


class StaffReportForm(PickedPlace, PlaceFields):
    """A report from the street's own people. Like a resident's, the place comes from the
    phone's position (with its accuracy) or a pin on the map, never from coordinates typed
    in: the page has none to type."""

    place_missing = _("Give the place: use your position or tap the map.")
    place_invalid = _(
        "The place could not be read: give it again with your position or on the map."
    )

    category = CategoryChoice(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("Not sure: the township will choose"),
        help_text=_("Suggested from your description as you type."),
    )
    patrol = forms.UUIDField(required=False, widget=forms.HiddenInput)
    item = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    field_order = ["photo", "description", "category", "lon", "lat", "accuracy_m"]

    def __init__(
        self, *args: Any, categories: Any = None, suggest_url: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["category"].queryset = categories  # type: ignore[attr-defined]
        if suggest_url:
            # Suggest categories as the person types (htmx), and once on load for a
            # description filled in from the checklist.
            self.fields["description"].widget.attrs.update(
                {
                    "hx-get": suggest_url,
                    "hx-trigger": "input changed delay:400ms, load",
                    "hx-target": "#category-suggestions",
                    "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                    # Only the start is sent (street.js): the whole text of a long
                    # description would make the address too long for the server.
                    "data-suggest-chars": str(SUGGEST_CHARS),
                    "data-suggest-bytes": str(SUGGEST_BYTES),
                }
            )


class ResidentReportForm(PickedPlace, PlaceFields):
    """A resident's report. The page has no coordinate fields to type in: the place is
    chosen with the phone's position, a tap on the map or a lane from the list, so every
    problem with it is said once, about "the place" (`PickedPlace`)."""

    address = forms.CharField(
        label=_("Address or nearby landmark"),
        required=False,
        max_length=200,
        help_text=_(
            "Helps the township find the place, e.g. the gate of No. 12, Xizhaosi Middle Street."
        ),
    )
    # Both optional: used only for the township's call-back (the page says so), never shown.
    name = forms.CharField(label=_("Your name"), max_length=60, required=False)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=40,
        required=False,
        help_text=_(
            "Without a number you can still follow the case by its reference number, and "
            "rate the result with the link you receive after reporting."
        ),
    )
    captcha = forms.CharField(
        label=_("Answer to the question in the picture"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    field_order = [
        "photo",
        "description",
        "lon",
        "lat",
        "accuracy_m",
        "address",
        "name",
        "phone",
        "captcha",
    ]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        normal = normal_phone(phone)
        if normal is None:
            raise forms.ValidationError(
                _("Enter a phone number the township can call back, e.g. 13800138000.")
            )
        return normal


class StartPatrolForm(TextLimits):
    lane = forms.ModelChoiceField(
        label=_("Lane"),
        queryset=Lane.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your lanes.")},
    )

    def __init__(self, *args: Any, lanes: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if lanes is not None:
            self.fields["lane"].queryset = lanes  # type: ignore[attr-defined]


class CheckForm(TextLimits):
    item = forms.CharField(max_length=40)
    result = forms.ChoiceField(choices=CheckResult.Result.choices)
    outcome = forms.ChoiceField(
        choices=[c for c in CheckResult.Outcome.choices if c[0] != CheckResult.Outcome.REPORTED],
        required=False,
    )


class EscalateForm(TextLimits):
    limit_labels: dict[str, Any] = {"reason": _("The reason")}

    reason = forms.CharField(
        label=_("Why can it not be solved at the lane?"),
        max_length=REASON_MAX,
        widget=Textarea(attrs={"rows": 4}),
        help_text=_("The chiefs' office reads this first: say what was tried and what is needed."),
        error_messages={"required": _("Give the reason for escalating.")},
    )


class FollowForm(TextLimits):
    reference = forms.CharField(
        label=_("Reference number"),
        max_length=20,
        help_text=_("The 10 letters and digits you received after reporting."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_reference(self) -> str:
        reference = normal_reference(self.cleaned_data["reference"])
        if not REFERENCE.match(reference):
            raise forms.ValidationError(
                _("A reference number has 10 letters and digits, e.g. 7KX2M9QH4T.")
            )
        return reference


class RatingForm(TextLimits):
    limit_labels: dict[str, Any] = {"comment": _("The comment")}

    rating = forms.TypedChoiceField(
        label=_("How well was the problem solved?"),
        choices=[
            (5, _("5 · very satisfied")),
            (4, _("4 · satisfied")),
            (3, _("3 · acceptable")),
            (2, _("2 · dissatisfied")),
            (1, _("1 · very dissatisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=NOTE_MAX,
        widget=Textarea(attrs={"rows": 3}),
    )
    # The reporter's key from the follow link; the action decides whether it fits.
    key = forms.CharField(required=False, widget=forms.HiddenInput)


def first_day(**options: Any) -> forms.DateField:
    """The first day of an appointment (`appoint_chief` refuses a day to come)."""
    return forms.DateField(
        label=_("From"),
        widget=DateInput(),
        error_messages={
            "required": _("Give the first day of the appointment."),
            "invalid": _("Give the day as 2026-08-16."),
        },
        **options,
    )


class AppointForm(TextLimits):
    """A chiefs' office appoints a chief to a lane (`appoint_chief` checks the rest)."""

    username = forms.CharField(
        label=_("Account of the chief"),
        max_length=150,
        help_text=_("The sign-in name of the person to appoint."),
        error_messages={"required": _("Give the account of the person to appoint.")},
    )
    role = forms.ChoiceField(
        label=_("Post"),
        choices=[("lane_chief", _("Lane chief")), ("street_chief", _("Street chief"))],
    )
    starts_on = first_day()
    action_fields = {"starts_on": "starts_on", "role": "role", "person": "username"}


class RecordAppointmentForm(TextLimits):
    """A chiefs' office records the appointment of a chief who holds the post on the lane
    without one (`held_without_appointment`): the person and the post are the role's."""

    starts_on = first_day(
        help_text=_("The day they took up the post: the chiefs' assessment counts from it.")
    )
    action_fields = {"starts_on": "starts_on"}


class EndAppointmentForm(TextLimits):
    """A chiefs' office ends a running appointment (`end_appointment` checks the rest)."""

    ends_on = forms.DateField(
        label=_("Last day"),
        widget=DateInput(),
        error_messages={
            "required": _("Give the last day of the appointment."),
            "invalid": _("Give the day as 2026-08-16."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        error_messages={"required": _("Give the reason for ending the appointment.")},
    )
    action_fields = {"ends_on": "ends_on", "reason": "reason"}
