"""The forms of the desk pages, one per case action.

A form checks what a browser can get wrong (a missing field, a number that is not one, a
date in the past, a file that is not a photo) in the person's language; the action then
checks everything that depends on the state of the case. Each form's field names are the
action's keyword arguments, so that an `InvalidInput` raised by the action lands on the
field it names.

Choices (categories, departments, duplicates) come from the page through `choices`, loaded
once per page rather than once per form: a queue of thirty cases shows thirty forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from django import forms
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from whistle.cases.actions import DESCRIPTION_MAX, NOTE_MAX, REASON_MAX, RESULT_MAX, check_in_target
from whistle.cases.actions._common import clean_caller_phone
from whistle.cases.actions.hotline import (
    check_caller_given,
    check_order_number,
    clean_called_at,
    usual_promise,
    usual_reply_kind,
)
from whistle.cases.hotline import order_of
from whistle.cases.models import Case, HotlineOrder
from whistle.cases.proof import PositionSource
from whistle.cases.rules import district_policy
from whistle.cases.suggest import CategorySuggestion, suggest_categories
from whistle.organisation.models import TownshipUnit
from whistle.policies.models import (
    Category,
    CheckInRule,
    HotlineDeadlineClass,
    WhistleKind,
    shown_class_name,
    time_limit_text,
)
from whistle.web.forms import (
    PLACE_MISSING_NO_POSITION,
    ActionCheck,
    DateInput,
    DateTimeInput,
    PickedPlace,
    Textarea,
)
from whistle.web.photos import PhotosField

ROWS_SHORT = {"rows": 2}
HIDDEN = forms.HiddenInput
# The year 9999 in milliseconds: beyond it a device time is not a time.
DEVICE_TIME_MAX_MS = 253_402_300_799_999
ROWS_LONG = {"rows": 4}


def note_field(label: Any = None, *, required: bool = False, rows: dict | None = None) -> Any:
    return forms.CharField(
        label=label or _("Note"),
        required=required,
        max_length=NOTE_MAX,
        widget=Textarea(attrs=rows or ROWS_SHORT),
    )


def reason_field(label: Any = None) -> Any:
    return forms.CharField(
        label=label or _("Reason"),
        max_length=REASON_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
    )


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """Attributes in their order, as Django's widget templates write them: a true one by its
    name alone, a false one left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


# One option as written: (value, unchosen, chosen), or the markup around a group.
_Written = tuple[str, str, str] | str
# A list's choices as plain text: (value, label) or (group, ((value, label), ...)).
_Choices = tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...]


@lru_cache(maxsize=256)
def _written_options(
    choices: tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...],
) -> tuple[_Written, ...]:
    """Every option of a list, written once: the same list recurs in each row of a queue."""
    written: list[_Written] = []
    for value, label in choices:
        options = label if isinstance(label, tuple) else ((value, label),)
        if isinstance(label, tuple):
            written.append(format_html('\n  <optgroup label="{}">', value))
        for option_value, option_label in options:
            written.append(
                (
                    option_value,
                    format_html('\n  <option value="{}">{}</option>', option_value, option_label),
                    format_html(
                        '\n  <option value="{}" selected>{}</option>', option_value, option_label
                    ),
                )
            )
        if isinstance(label, tuple):
            written.append("\n  </optgroup>")
    return tuple(written)


def _choices_key(
    choices: Iterable[Any],
) -> tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...]:
    key: list[tuple[str, str | tuple[tuple[str, str], ...]]] = []
    for value, label in choices:
        value = "" if value is None else str(value)
        if isinstance(label, list | tuple):
            options = tuple(("" if v is None else str(v), str(text)) for v, text in label)
            key.append((value, options))
        else:
            key.append((value, str(label)))
    return tuple(key)


class QuickSelect(forms.Select):
    """A list to choose from, written with the same markup as Django's `Select` but without
    a template per option, each distinct list written once per process: a command centre
    draws the district's category list (70 options or more) in every reported case's row."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        built = self.build_attrs(self.attrs, attrs)
        wanted = set(self.format_value(value))
        parts: list[str] = [format_html('<select name="{}"{}>', name, _attributes(built))]
        chosen = False
        for entry in _written_options(_choices_key(self.choices)):
            if isinstance(entry, str):
                parts.append(entry)
                continue
            option_value, unchosen, chosen_html = entry
            # As Django's `Select`: only the first option with the value comes chosen.
            if not chosen and option_value in wanted:
                parts.append(chosen_html)
                chosen = True
            else:
                parts.append(unchosen)
        parts.append("\n</select>")
        # Every part above is escaped by format_html.
        return mark_safe("".join(parts))


@dataclass(frozen=True)
class Labelled:
    """Objects by key, and the lines of a list to choose among them."""

    objects: dict[str, Any]
    choices: list[Any]


def labelled(
    objects: Iterable[Any],
    label_of: Callable[[Any], str] = str,
    group_of: Callable[[Any], str] | None = None,
) -> Labelled:
    """The objects in order, each on a line `label_of` writes; with `group_of`, under a
    heading for each run of objects of the same group."""
    by_key = {str(o.pk): o for o in objects}
    if group_of is None:
        return Labelled(by_key, [(key, label_of(o)) for key, o in by_key.items()])
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for key, o in by_key.items():
        group = group_of(o)
        if not groups or groups[-1][0] != group:
            groups.append((group, []))
        groups[-1][1].append((key, label_of(o)))
    return Labelled(by_key, list(groups))


class ObjectChoiceField(forms.ChoiceField):
    """A choice among objects the page already loaded; cleans to the object."""

    widget = QuickSelect

    def __init__(
        self,
        objects: Iterable[Any] = (),
        label_of: Callable[[Any], str] = str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.set_objects(objects, label_of)

    def set_objects(
        self,
        objects: Iterable[Any],
        label_of: Callable[[Any], str] = str,
        group_of: Callable[[Any], str] | None = None,
    ) -> None:
        """The objects to choose from, in order; with `group_of`, under a heading
        (`<optgroup>`) for each run of objects of the same group."""
        self.set_labelled(labelled(objects, label_of, group_of))

    def set_labelled(self, labelled: Labelled) -> None:
        """Objects and their lines as `labelled` made them: a page that shows the same list
        in many forms labels it once."""
        self.objects = labelled.objects
        blank: list[Any] = [("", "———")] if not isinstance(self.widget, forms.RadioSelect) else []
        self.choices = blank + labelled.choices

    def clean(self, value: Any) -> Any:
        key = super().clean(value)
        return self.objects.get(key) if key else None


class ObjectMultipleChoiceField(forms.MultipleChoiceField):
    def __init__(self, objects: Iterable[Any] = (), **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(**kwargs)
        self.set_objects(objects)

    def set_objects(self, objects: Iterable[Any], label_of: Callable[[Any], str] = str) -> None:
        self.objects = {str(o.pk): o for o in objects}
        self.choices = [(key, label_of(o)) for key, o in self.objects.items()]

    def clean(self, value: Any) -> list[Any]:
        keys = super().clean(value)
        return [self.objects[key] for key in keys]


class ActionForm(forms.Form):
    """A form for one action on one target. `choices` is the page's `Choices`."""

    has_files = False

    def __init__(self, *args: Any, target: Any = None, choices: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.target = target
        self.choices = choices
        self.setup()

    def setup(self) -> None:
        """Fill the choices of the fields from the page's `Choices`."""

    def objects_field(self, name: str) -> ObjectChoiceField | ObjectMultipleChoiceField:
        return cast(ObjectChoiceField | ObjectMultipleChoiceField, self.fields[name])

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of the action."""
        return dict(self.cleaned_data)


# The township: intake ---------------------------------------------------------------------


class NoteForm(ActionForm):
    note = note_field()


class RouteForm(ActionForm):
    """Route a case to another unit of its township's street office (or to none)."""

    office = ObjectChoiceField(label=_("Office"), required=False)
    note = note_field()

    def setup(self) -> None:
        case: Case = self.target
        units = TownshipUnit.objects.filter(township_id=case.township_id, is_active=True)
        self.objects_field("office").set_objects(
            units.order_by("position", "pk"), lambda unit: unit.display_name
        )
        if not self.is_bound and case.office_id is not None:
            self.initial["office"] = str(case.office_id)


class ReasonForm(ActionForm):
    reason = reason_field()


def category_label(category: Category) -> str:
    """ "部件 0101 上水井盖": components and events share the 4-digit codes, so the kind
    makes each line of the list unique."""
    major = category.major
    return capfirst(f"{major.get_kind_display()} {category.full_code} {category.display_name}")


def major_class_label(category: Category) -> str:
    major = category.major
    return capfirst(f"{major.get_kind_display()} {major.code} {major.display_name}")


class FileForm(ActionForm):
    category = ObjectChoiceField(
        label=_("Category"),
        error_messages={"required": _("Choose the category before filing the case.")},
    )
    note = note_field()

    def setup(self) -> None:
        case: Case = self.target
        # The case's own district only: the same codes mean other things elsewhere.
        categories = self.choices.categories(case.district_id) if self.choices else []
        picker = self.fields["category"]
        assert isinstance(picker, ObjectChoiceField)
        if self.choices:
            picker.set_labelled(self.choices.category_picker(case.district_id))
        else:
            picker.set_objects(categories, category_label, group_of=major_class_label)
        # What the reporter chose, else what the description suggests, comes chosen.
        self.suggestion: CategorySuggestion | None = None
        if case.category_id is None:
            found = suggest_categories(case.description, categories, limit=1)
            self.suggestion = found[0] if found else None
        if not self.is_bound:
            if case.category_id is not None:
                self.initial["category"] = str(case.category_id)
            elif self.suggestion is not None:
                self.initial["category"] = str(self.suggestion.category.pk)
        if self.suggestion is not None:
            picker.help_text = _(
                "Suggested from the description (%(words)s); check before filing."
            ) % {"words": _(", ").join(self.suggestion.matched)}


class MergeForm(ActionForm):
    into = ObjectChoiceField(
        label=_("Possible duplicates"), required=False, widget=forms.RadioSelect
    )
    reference = forms.CharField(
        label=_("Or the reference of another case"),
        required=False,
        max_length=12,
        help_text=_("The 10-character reference, e.g. 7KX2M9QH4T."),
    )
    note = note_field()

    def setup(self) -> None:
        duplicates = self.choices.duplicates(self.target) if self.choices else []
        self.duplicates = duplicates
        self.objects_field("into").set_objects(
            [case for case, _distance in duplicates],
            label_of=lambda c: c.reference,
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        reference = (data.get("reference") or "").strip().upper()
        if data.get("into") is None and not reference:
            raise forms.ValidationError(_("Choose the case to merge this one into."))
        if reference:
            found = self.choices.case_by_reference(reference) if self.choices else None
            if found is None:
                self.add_error(
                    "reference",
                    _("No case %(reference)s in your area.") % {"reference": reference},
                )
            else:
                data["into"] = found
        return data

    def arguments(self) -> dict[str, Any]:
        return {"into": self.cleaned_data["into"], "note": self.cleaned_data["note"]}


class SolveForm(ActionForm):
    has_files = True
    note = note_field(_("What was done"), required=True)
    photos = PhotosField(label=_("Photos of the result"))


def department_label(department: Any) -> str:
    return department.display_name


class DispatchForm(ActionForm):
    department = ObjectChoiceField(
        label=_("Department"), error_messages={"required": _("Choose the department.")}
    )
    note = note_field()

    def setup(self) -> None:
        case: Case = self.target
        self.objects_field("department").set_objects(
            self.choices.departments(case.township) if self.choices else [], department_label
        )


class WhistleForm(ActionForm):
    kind = forms.ChoiceField(
        label=_("Kind of whistle"),
        choices=WhistleKind.choices,
        initial=WhistleKind.ROUTINE,
        widget=forms.RadioSelect,
    )
    departments = ObjectMultipleChoiceField(
        label=_("Departments to summon"),
        error_messages={"required": _("Choose at least one department to summon.")},
    )
    meeting_point = forms.CharField(
        label=_("Meeting point"),
        required=False,
        max_length=200,
        help_text=_("Where the departments meet, in words; tap the map to pin it."),
    )
    meeting_lon = forms.FloatField(
        label=_("Meeting point longitude"), required=False, min_value=-180, max_value=180
    )
    meeting_lat = forms.FloatField(
        label=_("Meeting point latitude"), required=False, min_value=-90, max_value=90
    )
    note = note_field(_("Note to the departments"))

    def setup(self) -> None:
        case: Case = self.target
        self.objects_field("departments").set_objects(
            self.choices.departments(case.township) if self.choices else [], department_label
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (data.get("meeting_lon") is None) != (data.get("meeting_lat") is None):
            raise forms.ValidationError(_("Pin the meeting point on the map, or clear the pin."))
        return data


class SummonMoreForm(ActionForm):
    departments = ObjectMultipleChoiceField(
        label=_("More departments"),
        error_messages={"required": _("Choose at least one department to summon.")},
    )
    note = note_field()

    def setup(self) -> None:
        case: Case = self.target
        summoned = {
            s.department_id
            for s in case.summonses.all()
            if s.status in ("summoned", "acknowledged", "on_site", "declined")
        }
        available = (
            [d for d in self.choices.departments(case.township) if d.pk not in summoned]
            if self.choices
            else []
        )
        self.objects_field("departments").set_objects(available, department_label)


class CheckPassedForm(ActionForm):
    has_files = True
    note = note_field(_("What the check found"))
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    photos = PhotosField(label=_("Photos of the check"))


class BacklogForm(ActionForm):
    reason = reason_field(_("Why it cannot be solved soon"))
    review_on = forms.DateField(
        label=_("Review on"),
        widget=DateInput(),
        help_text=_("The date the case will be looked at again."),
    )

    def clean_review_on(self) -> Any:
        value = self.cleaned_data["review_on"]
        if value <= timezone.localdate():
            raise forms.ValidationError(_("The review date must be after today."))
        return value


class SupervisionForm(ActionForm):
    department = ObjectChoiceField(
        label=_("Department"), error_messages={"required": _("Choose the department.")}
    )
    text = forms.CharField(
        label=_("What the department must do"),
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
    )
    due_at = forms.DateTimeField(
        label=_("Act by"),
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Beijing time."),
    )

    def setup(self) -> None:
        case: Case = self.target
        if not self.is_bound:
            local = timezone.localtime() + timedelta(days=1)
            self.initial["due_at"] = local.replace(second=0, microsecond=0)
        self.objects_field("department").set_objects(
            self.choices.departments(case.township) if self.choices else [], department_label
        )

    def clean_due_at(self) -> Any:
        value = self.cleaned_data["due_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("The deadline must be in the future."))
        return value


class EvaluateForm(ActionForm):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[
            (5, _("5 · excellent")),
            (4, _("4 · good")),
            (3, _("3 · fair")),
            (2, _("2 · poor")),
            (1, _("1 · very poor")),
        ],
        widget=forms.RadioSelect,
    )
    note = note_field()


def _yes(value: str) -> bool:
    return value == "yes"


class CallbackForm(ActionForm):
    """The call-back (回访): whether the caller was reached and, if so, what they said. A
    work order's caller is also asked whether the problem is solved."""

    contacted = forms.TypedChoiceField(
        label=_("Was the caller reached?"),
        coerce=_yes,
        choices=[("yes", _("Reached")), ("no", _("Not reached: try again later"))],
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
        initial="yes",
    )
    resolved = forms.TypedChoiceField(
        label=_("Does the caller say the problem is solved?"),
        coerce=_yes,
        choices=[("yes", _("Solved")), ("no", _("Not solved"))],
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    satisfied = forms.TypedChoiceField(
        label=_("Is the resident satisfied?"),
        coerce=_yes,
        choices=[("yes", _("Satisfied")), ("no", _("Not satisfied"))],
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    note = note_field()

    def setup(self) -> None:
        if order_of(self.target) is None:
            # A resident's report: the satisfaction is what is asked.
            self.fields["resolved"].label = _(
                "Does the resident say the problem is solved? (optional)"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("contacted") is None and "contacted" not in self.errors:
            # Left unanswered, as by a form of the page before the caller could be missed.
            data["contacted"] = True
        if data.get("contacted") is False:
            data["resolved"] = data["satisfied"] = None
        elif "satisfied" not in self.errors and data.get("satisfied") is None:
            self.add_error("satisfied", _("Say whether the resident is satisfied."))
        return data


class ReplyForm(ActionForm):
    """The reply to the caller (反馈) and what it is. "In progress" comes first while the
    case is being worked on, "done" once it is resolved or closed."""

    kind = forms.ChoiceField(
        label=_("The reply is"),
        choices=HotlineOrder.ReplyKind.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Any of them answers the order by its reply deadline. The caller is called back "
            "once the request is handled: after a reply other than “in progress”, after the "
            "result that follows one, or once the case is marked resolved or closed."
        ),
    )
    reply = forms.CharField(
        label=_("Reply to the caller"),
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_LONG),
        help_text=_(
            "As the caller will hear it: done, the result; in progress, what is being done and "
            "by when; not our duty, whose it is; cannot be solved for now, why. It is sent to "
            "the hotline platform."
        ),
    )

    promised_by = forms.DateTimeField(
        label=_("Done by (in progress)"),
        required=False,
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_(
            "For a reply “in progress”: by when the township expects to be done, Beijing "
            "time. The result is then given as the final reply. Leave it empty for the other "
            "kinds."
        ),
    )

    def setup(self) -> None:
        if not isinstance(self.target, Case):
            return
        promise = usual_promise(self.target)
        if not self.is_bound:
            self.initial["kind"] = usual_reply_kind(self.target)
            self.initial["promised_by"] = promise
        order = order_of(self.target)
        if order is None:
            return
        # Which of the case's two deadlines the time first given is: the order's, never
        # the case's own (the page names them apart).
        field = self.fields["promised_by"]
        at = formats.date_format(timezone.localtime(order.resolve_due_at), "Y-m-d H:i")
        said = (
            _("First the “Resolve by (12345 order)” time, %(at)s, not the case's own.")
            if promise is not None
            else _("The “Resolve by (12345 order)” time, %(at)s, has passed: give the time.")
        )
        field.help_text = f"{field.help_text} {said % {'at': at}}"


class FinalReplyForm(ActionForm):
    """The result given to the caller after a reply "in progress" (办结反馈): "done" first."""

    kind = forms.ChoiceField(
        label=_("The result is"),
        choices=[
            (kind.value, kind.label)
            for kind in map(HotlineOrder.ReplyKind, HotlineOrder.FINAL_REPLY_KINDS)
        ],
        initial=HotlineOrder.ReplyKind.DONE,
        widget=forms.RadioSelect,
        help_text=_("Once given, the caller may be called back."),
    )
    reply = forms.CharField(
        label=_("Result for the caller"),
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_LONG),
        help_text=_(
            "As the caller will hear it: done, the result; not our duty, whose it is; cannot "
            "be solved for now, why. It is sent to the hotline platform."
        ),
    )


class RuleForm(ActionForm):
    """Two buttons: uphold the decline or insist, and a third when the decline names the
    department responsible: uphold it and summon that department. The button pressed is
    the decision; insisting needs a note (the action says so on the field)."""

    decision = forms.ChoiceField(
        label=_("Ruling"),
        choices=[
            ("uphold", _("Uphold the decline")),
            ("uphold_summon", _("Uphold and summon the department named")),
            ("insist", _("Insist: the department acts")),
        ],
        widget=forms.HiddenInput,
    )
    note = note_field(_("Note (required to insist)"))

    def arguments(self) -> dict[str, Any]:
        decision = self.cleaned_data["decision"]
        return {
            "uphold": decision != "insist",
            "summon_named": decision == "uphold_summon",
            "note": self.cleaned_data["note"],
        }


# The department --------------------------------------------------------------------------


class DeclineForm(ActionForm):
    """Not our responsibility: the reason, and the department responsible if the department
    knows it (the suggestions for the case first), which the township may summon at once."""

    reason = reason_field()
    named_department = ObjectChoiceField(
        label=_("Department responsible (optional)"),
        required=False,
        help_text=_("Whose job it is, if you know: the township may summon it at once."),
    )

    def setup(self) -> None:
        if self.choices is not None:
            field = cast(ObjectChoiceField, self.objects_field("named_department"))
            field.set_labelled(self.choices.responsible_picker(self.target))


class DevicePositionForm(ActionForm):
    """A position from the phone's location only: the page's script fills these hidden
    fields with a fresh fix, its accuracy, the device's time of the fix and the browser's
    device id (static/desk/checkin.js, markup desk/ops/device_fix.html), and shows them with
    the distance to the place. There is nothing to type; the action judges whatever
    arrives (whistle.cases.proof) and keeps its provenance in the trail."""

    lon = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180, widget=HIDDEN
    )
    lat = forms.FloatField(
        label=_("Latitude"), required=False, min_value=-90, max_value=90, widget=HIDDEN
    )
    accuracy_m = forms.FloatField(
        label=_("Accuracy (m)"), required=False, min_value=0, max_value=100_000, widget=HIDDEN
    )
    # Milliseconds since 1970 by the device's clock (the fix's `position.timestamp`).
    device_time = forms.IntegerField(
        label=_("Time of the position"),
        required=False,
        min_value=0,
        max_value=DEVICE_TIME_MAX_MS,
        widget=HIDDEN,
    )
    device_id = forms.CharField(label=_("Device"), required=False, max_length=64, widget=HIDDEN)

    def setup(self) -> None:
        summons = self.target
        if summons is None:
            return
        case = summons.case
        (self.target_lon, self.target_lat), kind = check_in_target(case, summons)
        self.target_label = (
            _("the meeting point") if kind == "meeting_point" else _("the case's position")
        )
        self.policy = district_policy(case.district)

    def has_position(self) -> bool:
        return self.cleaned_data.get("lon") is not None and self.cleaned_data.get("lat") is not None

    def position(self) -> dict[str, Any]:
        """The action's arguments for the fix the page sent, none without one."""
        if not self.has_position():
            return {}
        data = self.cleaned_data
        ms = data.get("device_time")
        return {
            "lon": data["lon"],
            "lat": data["lat"],
            "accuracy_m": data.get("accuracy_m"),
            "source": PositionSource.DEVICE,
            "device_time": datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None,
            "device_id": data.get("device_id") or "",
        }

    def finding_words(self) -> dict[str, str]:
        """What the page's script says while it finds the position, in the reader's
        language."""
        return {
            "locating": str(_("Finding your position…")),
            "found": str(_("Position found.")),
            "accuracy": str(_("± %(m)s m")),
            "distance": str(_("about %(m)s m (from %(target)s)")),
        }


class CheckInForm(DevicePositionForm):
    """The check-in (报到): without a position from the phone there is none."""

    has_files = True
    photo = PhotosField(label=_("Photo on site"), multiple=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        if not self.has_position():
            raise forms.ValidationError(
                _("Find your position first: the check-in takes it from your phone.")
            )
        return self.cleaned_data

    def arguments(self) -> dict[str, Any]:
        photos = self.cleaned_data["photo"]
        return {**self.position(), "photo": photos[0] if photos else None}

    def words(self) -> dict[str, str]:
        """What the page's script says, in the reader's language and by the district's
        rules."""
        policy = self.policy
        refused = policy.checkin_when_far == CheckInRule.REFUSE
        imprecise_refused = policy.checkin_when_imprecise == CheckInRule.REFUSE
        return {
            **self.finding_words(),
            "refreshing": str(_("Taking a fresh position before checking in…")),
            "unsupported": str(
                _(
                    "This browser cannot give your position, so you cannot check in with it. "
                    "Open this page in the phone's own browser, or call the command centre."
                )
            ),
            "denied": str(
                _(
                    "Location is turned off for this site. Without your phone's position you "
                    "cannot check in: allow location for this site in the browser's settings "
                    "and try again."
                )
            ),
            "unavailable": str(
                _(
                    "Your phone could not find its position. Step into the open, turn on "
                    "location (GPS) and try again."
                )
            ),
            "timeout": str(
                _("Finding your position took too long. Step into the open and try again.")
            ),
            "inside": str(
                _("Within %(radius)s m even at the edge of the accuracy: you can check in.")
            ),
            "imprecise": str(
                _(
                    "The accuracy reaches beyond the %(radius)s m allowed: the check-in will be "
                    "refused. Wait in the open for a better fix."
                )
                if imprecise_refused
                else _(
                    "The accuracy reaches beyond the %(radius)s m allowed: the check-in will be "
                    "flagged for the township to confirm. Wait in the open for a better fix."
                )
            ),
            "far": str(
                _("Farther than the %(radius)s m allowed: the check-in will be refused.")
                if refused
                else _(
                    "Farther than the %(radius)s m allowed: the check-in will be flagged for "
                    "the township to confirm."
                )
            ),
        }


class CheckInRulingForm(ActionForm):
    """Two buttons: confirm the flagged check-in or reject it. The button is the decision."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Confirm the check-in")), ("reject", _("Reject the check-in"))],
        widget=HIDDEN,
    )
    note = note_field(_("Note (required to reject)"))

    def arguments(self) -> dict[str, Any]:
        return {
            "confirm": self.cleaned_data["decision"] == "confirm",
            "note": self.cleaned_data["note"],
        }


class ProgressForm(ActionForm):
    has_files = True
    text = forms.CharField(
        label=_("How the work is going"),
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
    )
    photos = PhotosField(label=_("Photos"))


class ResultForm(ActionForm):
    has_files = True
    result = forms.CharField(
        label=_("What was done"),
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_LONG),
    )
    photos = PhotosField(label=_("Photos of the result"))


class CheckOutForm(DevicePositionForm):
    """The check-out keeps the phone's position when it can find one; nobody is kept on
    site by a phone without a fix, so the check-out goes without one."""

    def arguments(self) -> dict[str, Any]:
        return self.position()

    def words(self) -> dict[str, str]:
        return {
            **self.finding_words(),
            "refreshing": str(_("Taking a fresh position before checking out…")),
            "unavailable": str(
                _("Your phone could not give its position: you check out without it.")
            ),
        }


class AnswerForm(ActionForm):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=RESULT_MAX,
        widget=Textarea(attrs=ROWS_SHORT),
        help_text=_("What your department has done or will do, and by when."),
    )


# Work orders (接诉即办) -----------------------------------------------------------------------


def deadline_class_label(limits: HotlineDeadlineClass) -> str:
    """ "紧急：2 自然小时内答复，2 自然小时内处置" """
    return capfirst(
        str(_("%(name)s: reply within %(reply)s, resolve within %(resolve)s"))
        % {
            "name": shown_class_name(limits.code, limits.name),
            "reply": time_limit_text(limits.respond_within, limits.respond_unit),
            "resolve": time_limit_text(limits.resolve_within, limits.resolve_unit),
        }
    )


def _aware(moment: datetime | None) -> datetime | None:
    """A moment typed in Beijing time, as the actions take it."""
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


class HotlineOrderForm(PickedPlace):
    """A work order taken by phone or handed down: where it comes from, its number, the
    caller, what and where, its deadline class. The action's checks of these values run
    with the form's, so that every error shows at once; the action checks the rest."""

    action_checks = (
        ActionCheck(("channel", "number"), check_order_number),
        ActionCheck(("caller_phone",), clean_caller_phone),
        ActionCheck(("channel", "caller_name", "caller_phone"), check_caller_given),
        ActionCheck(("called_at",), lambda at: clean_called_at(_aware(at), timezone.now())),
    )

    place_label = _("Where is the problem?")
    # The desk's own position is not the caller's problem: the picker offers none.
    place_missing = PLACE_MISSING_NO_POSITION

    channel = forms.ChoiceField(
        label=_("Where does the order come from?"),
        choices=[(value, capfirst(label)) for value, label in HotlineOrder.Channel.choices],
        initial=HotlineOrder.Channel.HOTLINE,
        widget=forms.RadioSelect,
    )
    # Required but for an order from another channel, which the action numbers itself.
    number = forms.CharField(
        label=_("Order number"),
        max_length=64,
        required=False,
        help_text=_(
            "The hotline's or the superior's number of the order, e.g. 2026081012345. An "
            "order from another channel may go without one: Whistle numbers it by the "
            "township's code, the date and a sequence, e.g. 110101015-20260512-001."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    deadline_class = forms.ChoiceField(label=_("Deadline class"), widget=forms.RadioSelect)
    caller_name = forms.CharField(
        label=_("Caller's name"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    caller_phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=40,
        required=False,
        help_text=_(
            "A mobile number or a fixed line with its area code, e.g. 010-65123456. Only the "
            "township's dispatchers and chief of lanes see the name and the phone, for the "
            "call-back; the case's record keeps neither."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    called_at = forms.DateTimeField(
        label=_("Called at (optional)"),
        required=False,
        help_text=_("When the caller called the hotline, Beijing time."),
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    description = forms.CharField(
        label=_("What is the problem?"),
        max_length=DESCRIPTION_MAX,
        widget=Textarea(attrs=ROWS_LONG),
        help_text=_(
            "The problem as the caller describes it. Leave out people's names and phone "
            "numbers: the caller's go in their own fields, and the description stays with "
            "the case."
        ),
        error_messages={"required": _("Describe the problem in a sentence or two.")},
    )
    address = forms.CharField(
        label=_("Address as the caller gave it"),
        required=False,
        max_length=200,
    )
    category = ObjectChoiceField(label=_("Category (optional)"), required=False)

    field_order = [
        "channel",
        "number",
        "deadline_class",
        "caller_name",
        "caller_phone",
        "called_at",
        "description",
        "lon",
        "lat",
        "accuracy_m",
        "address",
        "category",
    ]

    def __init__(
        self,
        *args: Any,
        classes: list[HotlineDeadlineClass],
        categories: list[Category],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        picker = self.fields["deadline_class"]
        assert isinstance(picker, forms.ChoiceField)
        picker.choices = [(c.code, deadline_class_label(c)) for c in classes]
        default = next((c.code for c in classes if c.is_default), None)
        if default is not None:
            self.initial.setdefault("deadline_class", default)
        category = self.fields["category"]
        assert isinstance(category, ObjectChoiceField)
        category.set_objects(categories, category_label, group_of=major_class_label)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of `take_hotline_order`."""
        data = dict(self.cleaned_data)
        data["called_at"] = _aware(data.get("called_at"))
        return data


class HotlineImportForm(forms.Form):
    """The hotline platform's export of orders, as a file."""

    # An export of a day's orders of a township is well under this.
    SIZE_MAX = 10 * 1024 * 1024

    export = forms.FileField(
        label=_("Export of the hotline platform (.xlsx or .csv)"),
        help_text=_(
            "One order a row, the column names in the first row. A file with any bad row "
            "imports nothing and lists every bad row; orders taken before are left as they are."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_export(self) -> Any:
        export = self.cleaned_data["export"]
        if export.size > self.SIZE_MAX:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB: import it in parts."),
                params={"size": self.SIZE_MAX // (1024 * 1024)},
            )
        return export
