"""Policies each district edits as data: problem categories with their time limits, the
working calendar, working hours, and the rules of whistles and check-ins."""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext_lazy

from whistle.organisation.models import Jurisdiction, Sector
from whistle.organisation.names import english_name_field, in_reader_language

DISTRICTS = {"level": Jurisdiction.Level.DISTRICT}


class DurationUnit(models.TextChoices):
    NATURAL_MINUTES = "natural_minutes", _("natural minutes")
    NATURAL_HOURS = "natural_hours", _("natural hours")
    NATURAL_DAYS = "natural_days", _("natural days")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


# A time limit as its reader sees it. In English natural time is plain time ("10 minutes")
# and working time says so ("4 working hours"); Chinese names both (自然分钟, 工作小时).
TIME_LIMIT_WORDS = {
    DurationUnit.NATURAL_MINUTES: npgettext_lazy(
        "time limit", "%(n)s minute", "%(n)s minutes", "n"
    ),
    DurationUnit.NATURAL_HOURS: npgettext_lazy("time limit", "%(n)s hour", "%(n)s hours", "n"),
    DurationUnit.NATURAL_DAYS: npgettext_lazy("time limit", "%(n)s day", "%(n)s days", "n"),
    DurationUnit.WORKING_HOURS: npgettext_lazy(
        "time limit", "%(n)s working hour", "%(n)s working hours", "n"
    ),
    DurationUnit.WORKING_DAYS: npgettext_lazy(
        "time limit", "%(n)s working day", "%(n)s working days", "n"
    ),
}


def time_limit_text(amount: int, unit: str) -> str:
    """ "10 minutes", "4 working hours"; "10 自然分钟", "4 工作小时"."""
    return str(TIME_LIMIT_WORDS[DurationUnit(unit)] % {"n": amount})


# The longest time limit a district may set, in each unit: about a year (docs/deadlines.md,
# "Bounds of the policy numbers"). The arithmetic of deadlines refuses anything longer
# (whistle.policies.calendar), so that a mistyped number never reaches it.
LONGEST_LIMIT: dict[str, int] = {
    DurationUnit.NATURAL_MINUTES: 525_600,
    DurationUnit.NATURAL_HOURS: 8_760,
    DurationUnit.NATURAL_DAYS: 366,
    DurationUnit.WORKING_HOURS: 2_000,
    DurationUnit.WORKING_DAYS: 250,
}
# Other bounds of the policy numbers: a year in minutes, hours or days; a few kilometres.
YEAR_IN_MINUTES = 525_600
YEAR_IN_HOURS = 8_760
DAY_IN_SECONDS = 86_400
LONGEST_RADIUS_M = 5_000
LONGEST_RETENTION_DAYS = 3_660
FASTEST_TRAVEL_KMH = 500
FIRST_CALENDAR_YEAR = 2000
LAST_CALENDAR_YEAR = 2100


def within_calendar_years(year: int) -> bool:
    """Whether the calendar can hold the year: the bound of entered years and days alike."""
    return FIRST_CALENDAR_YEAR <= year <= LAST_CALENDAR_YEAR


def _validate_calendar_date(value: date) -> None:
    if not within_calendar_years(value.year):
        raise ValidationError(
            _("Enter a day of a year from %(first)s to %(last)s."),
            params={"first": FIRST_CALENDAR_YEAR, "last": LAST_CALENDAR_YEAR},
            code="out_of_range",
        )


def at_most(limit: int) -> MaxValueValidator:
    return MaxValueValidator(limit, _("Enter a number no larger than %(limit_value)s."))


def longest_limit_error(amount: int, unit: str) -> ValidationError | None:
    """The error for a time limit longer than its unit allows, or None."""
    longest = LONGEST_LIMIT.get(unit)
    if longest is None or amount is None or amount <= longest or amount > YEAR_IN_MINUTES:
        # Beyond a year in minutes the field's own validator already says so.
        return None
    return ValidationError(
        _("A time limit in %(unit)s can be at most %(longest)s (about a year)."),
        params={"unit": DurationUnit(unit).label, "longest": longest},
        code="max_value",
    )


def check_time_limits(row: models.Model, *pairs: tuple[str, str]) -> None:
    """Refuse, on the amount's field, each (amount, unit) pair of the row whose amount is
    longer than its unit allows."""
    errors = {}
    for amount_field, unit_field in pairs:
        error = longest_limit_error(getattr(row, amount_field), getattr(row, unit_field))
        if error is not None:
            errors[amount_field] = error
    if errors:
        raise ValidationError(errors)


def time_limit_check(amount_field: str, unit_field: str, name: str) -> models.CheckConstraint:
    """The database's own check of an (amount, unit) pair: at least 1, at most the longest
    limit of its unit."""
    in_range = models.Q()
    for unit, longest in LONGEST_LIMIT.items():
        in_range |= models.Q(**{unit_field: unit, f"{amount_field}__lte": longest})
    return models.CheckConstraint(
        condition=models.Q(**{f"{amount_field}__gte": 1}) & in_range,
        name=name,
        violation_error_message=_("A time limit is at least 1 and at most about a year."),
    )


def bounds_check(name: str, **bounds: tuple[int, int]) -> models.CheckConstraint:
    """The database's own check that each field lies between its bounds."""
    condition = models.Q()
    for field_name, (low, high) in bounds.items():
        condition &= models.Q(**{f"{field_name}__gte": low, f"{field_name}__lte": high})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=_("A number lies outside the bounds the policy allows."),
    )


TIME_LIMIT = [MinValueValidator(1), at_most(YEAR_IN_MINUTES)]


class WhistleKind(models.TextChoices):
    ROUTINE = "routine", _("routine whistle")
    TOUGH = "tough", _("tough-problem whistle")
    EMERGENCY = "emergency", _("emergency whistle")


class BacklogResumeRule(models.TextChoices):
    """How the deadlines of a case start again when it comes off the backlog (挂账)."""

    REMAINING_TIME = (
        "remaining_time",
        _("remaining time: deadlines move by the time on the backlog"),
    )
    FRESH_LIMITS = "fresh_limits", _("fresh limits: deadlines count again from the resumption")


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("component")
    EVENT = "event", _("event")


two_digits = RegexValidator(r"^\d{2}$", _("Enter 2 digits"))


class MajorClass(models.Model):
    """A major class (大类) of components or events, 2-digit code as in the national standard."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="major_classes",
        limit_choices_to=DISTRICTS,
    )
    kind = models.CharField(_("component or event"), max_length=16, choices=CategoryKind.choices)
    code = models.CharField(_("major class code"), max_length=2, validators=[two_digits])
    name = models.CharField(_("name"), max_length=60)
    name_en = english_name_field()

    class Meta:
        verbose_name = _("major class")
        verbose_name_plural = _("major classes")
        ordering = ["district__code", "kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind", "code"],
                name="major_class_unique_code",
                violation_error_message=_(
                    "The district already has a major class of this kind with this code."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)


class Category(models.Model):
    """A subclass (小类) of problem with the departments usually responsible and its time limits."""

    major = models.ForeignKey(
        MajorClass,
        verbose_name=_("major class"),
        on_delete=models.CASCADE,
        related_name="categories",
    )
    code = models.CharField(_("subclass code"), max_length=2, validators=[two_digits])
    name = models.CharField(_("name"), max_length=80)
    name_en = english_name_field()
    keywords = models.CharField(
        _("keywords"),
        max_length=300,
        blank=True,
        help_text=_("Used to suggest the category from a description, comma-separated"),
    )
    keywords_en = models.CharField(
        _("English keywords"),
        max_length=300,
        blank=True,
        help_text=_(
            "Given with the category to English readers (Open311), comma-separated; "
            "left empty, they get the keywords"
        ),
    )
    responsible_sectors = models.ManyToManyField(
        Sector, verbose_name=_("sectors usually responsible"), related_name="categories", blank=True
    )
    # A routine dispatch's acknowledgement and every summons' resolution; a whistle's
    # acknowledgement and arrival are the district's whistle time limits (`WhistleRule`).
    acknowledge_within = models.PositiveIntegerField(
        _("acknowledge within"),
        default=30,
        validators=TIME_LIMIT,
        help_text=_(
            "For a routine dispatch. A whistle's acknowledgement and arrival limits are the "
            "district's whistle time limits, the same for every category."
        ),
    )
    acknowledge_unit = models.CharField(
        _("acknowledgement unit"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )
    resolve_within = models.PositiveIntegerField(
        _("resolve within"), default=4, validators=TIME_LIMIT
    )
    resolve_unit = models.CharField(
        _("resolution unit"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.WORKING_HOURS,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["major__district__code", "major__kind", "major__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["major", "code"],
                name="category_unique_code",
                violation_error_message=_("The major class already has a category with this code."),
            ),
            time_limit_check(
                "acknowledge_within", "acknowledge_unit", "category_acknowledge_limit"
            ),
            time_limit_check("resolve_within", "resolve_unit", "category_resolve_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.full_code} {self.display_name}"

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`): the English name on an
        English page when the district gave one, else the Chinese name."""
        return in_reader_language(self.name, self.name_en)

    @property
    def display_keywords(self) -> str:
        """The keywords in the reader's language, as `display_name` gives the name."""
        return in_reader_language(self.keywords, self.keywords_en)

    @property
    def full_code(self) -> str:
        """The 4-digit class code: 2-digit major class + 2-digit subclass."""
        return f"{self.major.code}{self.code}"

    def clean(self) -> None:
        check_time_limits(
            self,
            ("acknowledge_within", "acknowledge_unit"),
            ("resolve_within", "resolve_unit"),
        )


class AttributeDatatype(models.TextChoices):
    """The kinds of answer Open311 GeoReport v2 names for a service attribute."""

    STRING = "string", _("short text")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    TEXT = "text", _("long text")
    SINGLEVALUELIST = "singlevaluelist", _("one of a list")
    MULTIVALUELIST = "multivaluelist", _("several of a list")


LIST_DATATYPES = (AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST)
attribute_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$",
    _("Letters, digits, _ and -, starting with a letter or digit."),
)
_VALUE_LINE = re.compile(r"^\s*([^=]+?)\s*(?:=\s*(.*?)\s*)?$")


class CategoryAttribute(models.Model):
    """A question a resident's request of this category answers beside the description (an
    Open311 service attribute): how many bins are full, which kind of light is broken. The
    district decides which questions it asks; the answers are kept on the case."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.CharField(_("code"), max_length=60, validators=[attribute_code])
    datatype = models.CharField(
        _("kind of answer"), max_length=20, choices=AttributeDatatype.choices
    )
    required = models.BooleanField(_("required"), default=False)
    description = models.CharField(
        _("question"), max_length=200, help_text=_("As the resident reads it.")
    )
    datatype_description = models.CharField(
        _("how to answer"),
        max_length=200,
        blank=True,
        help_text=_("A hint on the answer's form, e.g. a whole number of metres."),
    )
    order = models.PositiveSmallIntegerField(_("position"), default=1)
    values = models.TextField(
        _("choices"),
        blank=True,
        help_text=_(
            "For a list: one choice a line, as key=name (the key alone when it is its own name)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "code"],
                name="category_attribute_code",
                violation_error_message=_(
                    "The category already has a service attribute with this code."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.code}"

    @property
    def choices(self) -> list[tuple[str, str]]:
        """The list's choices as (key, name), in the order written."""
        found = []
        for line in self.values.splitlines():
            match = _VALUE_LINE.match(line)
            if match and line.strip():
                key = match.group(1)
                found.append((key, match.group(2) or key))
        return found

    def clean(self) -> None:
        choices = self.choices
        if self.datatype in LIST_DATATYPES and not choices:
            raise ValidationError({"values": _("A list needs at least one choice.")})
        if self.datatype not in LIST_DATATYPES and choices:
            raise ValidationError({"values": _("Only a list has choices.")})
        keys = [key for key, _name in choices]
        if len(set(keys)) != len(keys):
            raise ValidationError({"values": _("Each choice needs its own key.")})


_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_working_periods(text: str) -> list[tuple[time, time]]:
    """Parse "09:00-12:00,13:30-17:30" into ordered, non-overlapping (start, end) pairs."""
    periods: list[tuple[time, time]] = []
    for chunk in text.split(","):
        match = _PERIOD.match(chunk)
        if not match:
            raise ValidationError(
                _("Working periods look like 09:00-12:00,13:30-17:30; cannot read: %(chunk)s"),
                params={"chunk": chunk.strip()},
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValidationError(_("Invalid time: %(chunk)s"), params={"chunk": chunk.strip()})
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValidationError(
                _("A period must end after it starts: %(chunk)s"), params={"chunk": chunk.strip()}
            )
        if periods and start < periods[-1][1]:
            raise ValidationError(_("Periods must be in order and must not overlap"))
        periods.append((start, end))
    return periods


def _validate_periods(value: str) -> None:
    parse_working_periods(value)


def _validate_fractions(value: str) -> None:
    for chunk in value.split(","):
        if not chunk.strip():
            continue
        try:
            number = float(chunk)
        except ValueError:
            raise ValidationError(_("Enter fractions between 0 and 1, comma-separated.")) from None
        if not 0 < number < 1:
            raise ValidationError(_("Enter fractions between 0 and 1, comma-separated."))


class CheckInRule(models.TextChoices):
    """What to do with a check-in whose position does not prove the arrival by itself."""

    REFUSE = "refuse", _("refuse it")
    FLAG = "flag", _("accept it, flagged for the township to confirm")


def _validate_minutes(value: str) -> None:
    for chunk in value.split(","):
        if chunk.strip() and not chunk.strip().isdecimal():
            raise ValidationError(_("Enter minutes, comma-separated."))
        if chunk.strip() and int(chunk) > YEAR_IN_MINUTES:
            raise ValidationError(
                _("Enter minutes no larger than %(limit)s."), params={"limit": YEAR_IN_MINUTES}
            )


def parse_travel_speeds(text: str) -> list[tuple[int, float]]:
    """Travel speeds by hour of day, "0:30,7:15,10:25": from hour 0 on 30 km/h, from 7 on
    15 km/h… Beijing hours, ascending, the first at 0; raises ValidationError."""
    bands: list[tuple[int, float]] = []
    message = _(
        'Enter "hour:km/h" pairs, comma-separated, hours ascending from 0 to 23 and the '
        'first at 0 (e.g. "0:30,7:15,10:25").'
    )
    for chunk in text.split(","):
        hour_text, colon, speed_text = chunk.strip().partition(":")
        try:
            hour, speed = int(hour_text), float(speed_text)
        except ValueError:
            raise ValidationError(message) from None
        if not colon or not 0 <= hour <= 23 or not 0 < speed <= 200:
            raise ValidationError(message)
        if bands and hour <= bands[-1][0]:
            raise ValidationError(message)
        bands.append((hour, speed))
    if not bands or bands[0][0] != 0:
        raise ValidationError(message)
    return bands


def _validate_speeds(value: str) -> None:
    parse_travel_speeds(value)


class DistrictPolicy(models.Model):
    """The rules of the mechanism a district sets for itself."""

    district = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="policy",
        limit_choices_to=DISTRICTS,
        error_messages={"unique": _("The district already has its policy: change that one.")},
    )
    working_periods = models.CharField(
        _("working periods"),
        max_length=100,
        default="09:00-12:00,13:30-17:30",
        validators=[_validate_periods],
        help_text=_("The periods of a working day that count as working time, Beijing time"),
    )
    checkin_radius_m = models.PositiveIntegerField(
        _("check-in radius (m)"),
        default=300,
        validators=[MinValueValidator(1), at_most(LONGEST_RADIUS_M)],
    )
    # The on-site proof (whistle.cases.proof): a check-in counts by itself only when the
    # distance plus the fix's accuracy lies within the radius, the device's time of the fix
    # lies within the allowed skew of the server's, and the position came from the device.
    checkin_max_skew_s = models.PositiveIntegerField(
        _("check-in: allowed clock difference (seconds)"),
        default=120,
        validators=[at_most(DAY_IN_SECONDS)],
        help_text=_("How far the device's time of the position may differ from the server's time"),
    )
    checkin_when_far = models.CharField(
        _("check-in farther than the radius"),
        max_length=8,
        choices=CheckInRule.choices,
        default=CheckInRule.REFUSE,
    )
    checkin_when_imprecise = models.CharField(
        _("check-in whose accuracy reaches beyond the radius"),
        max_length=8,
        choices=CheckInRule.choices,
        default=CheckInRule.FLAG,
        help_text=_("Also a position sent without its accuracy"),
    )
    checkin_when_skewed = models.CharField(
        _("check-in whose device time differs too much"),
        max_length=8,
        choices=CheckInRule.choices,
        default=CheckInRule.FLAG,
        help_text=_("Also a position sent without the device's time"),
    )
    checkin_when_typed = models.CharField(
        _("check-in with a typed or map-picked position"),
        max_length=8,
        choices=CheckInRule.choices,
        default=CheckInRule.FLAG,
        help_text=_("Such a check-in is never accepted without the township's confirmation"),
    )
    checkin_speed_limit_kmh = models.PositiveIntegerField(
        _("check-in: fastest plausible travel (km/h)"),
        default=120,
        validators=[MinValueValidator(1), at_most(FASTEST_TRAVEL_KMH)],
        help_text=_(
            "A check-in that an officer could only reach from their previous position "
            "faster than this is flagged"
        ),
    )
    checkin_device_window_hours = models.PositiveIntegerField(
        _("check-in: one device, one department (hours)"),
        default=24,
        validators=[at_most(YEAR_IN_HOURS)],
        help_text=_(
            "A check-in from a device that checked in for another department within these "
            "hours is flagged; 0 turns the check off"
        ),
    )
    checkin_offline_confirm_after_minutes = models.PositiveIntegerField(
        _("check-in without signal: township confirms after (minutes)"),
        default=30,
        validators=[MinValueValidator(1), at_most(YEAR_IN_MINUTES)],
        help_text=_(
            "A check-in recorded on a phone without signal that reaches the server more than "
            "these minutes after it was made is flagged for the township to confirm"
        ),
    )
    lane_snap_m = models.PositiveIntegerField(
        _("lane matching distance (m)"),
        default=50,
        validators=[at_most(LONGEST_RADIUS_M)],
        help_text=_("A problem within this distance of a lane's centre line belongs to that lane"),
    )
    reminder_fractions = models.CharField(
        _("remind at (fractions of the time limit)"),
        max_length=60,
        default="0.5",
        blank=True,
        validators=[_validate_fractions],
        help_text=_(
            "Fractions of the time limit at which to remind (0.5: half-time), comma-separated"
        ),
    )
    reminder_minutes_before = models.CharField(
        _("remind before (minutes)"),
        max_length=60,
        default="5",
        blank=True,
        validators=[_validate_minutes],
        help_text=_("Minutes before a deadline to send a reminder, comma-separated"),
    )
    escalate_to_district_after_minutes = models.PositiveIntegerField(
        _("escalate to the district chiefs' office (minutes after overdue)"),
        default=60,
        validators=[at_most(YEAR_IN_MINUTES)],
    )
    backlog_resume_rule = models.CharField(
        _("deadlines after the backlog"),
        max_length=16,
        choices=BacklogResumeRule.choices,
        default=BacklogResumeRule.REMAINING_TIME,
        help_text=_(
            "While a case is on the backlog its deadlines pause. When it comes off: keep the "
            "time that was left, or give the full time limits again from that moment"
        ),
    )
    duplicate_radius_m = models.PositiveIntegerField(
        _("possible duplicates: within (m)"),
        default=100,
        validators=[at_most(LONGEST_RADIUS_M)],
    )
    duplicate_window_hours = models.PositiveIntegerField(
        _("possible duplicates: within (hours)"),
        default=72,
        validators=[at_most(YEAR_IN_HOURS)],
    )
    personal_data_retention_days = models.PositiveIntegerField(
        _("keep residents' personal data (days)"),
        default=180,
        validators=[MinValueValidator(1), at_most(LONGEST_RETENTION_DAYS)],
        help_text=_(
            "The name and phone number a resident or hotline caller gave are erased this many "
            "days after the case was closed (or reported, for a case not taken up or merged). "
            "Open cases keep them for the call-back."
        ),
    )

    # The reachability model (whistle.assessment.reachability): straight-line distance ×
    # the detour factor, at the speed of the hour.
    travel_detour_factor = models.DecimalField(
        _("travel: detour factor"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.40"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
        help_text=_("How much longer the way by road is than the straight line"),
    )
    travel_speeds = models.CharField(
        _("travel: speeds by hour (km/h)"),
        max_length=200,
        default="0:30,7:15,10:25,17:15,20:30",
        validators=[_validate_speeds],
        help_text=_(
            'From which hour (Beijing time) which speed, e.g. "0:30,7:15,10:25": 30 km/h from '
            "midnight, 15 km/h from 7:00, 25 km/h from 10:00"
        ),
    )

    class Meta:
        verbose_name = _("district policy")
        verbose_name_plural = _("district policies")
        constraints = [
            bounds_check(
                "district_policy_bounds",
                checkin_radius_m=(1, LONGEST_RADIUS_M),
                checkin_max_skew_s=(0, DAY_IN_SECONDS),
                checkin_speed_limit_kmh=(1, FASTEST_TRAVEL_KMH),
                checkin_device_window_hours=(0, YEAR_IN_HOURS),
                checkin_offline_confirm_after_minutes=(1, YEAR_IN_MINUTES),
                lane_snap_m=(0, LONGEST_RADIUS_M),
                escalate_to_district_after_minutes=(0, YEAR_IN_MINUTES),
                duplicate_radius_m=(0, LONGEST_RADIUS_M),
                duplicate_window_hours=(0, YEAR_IN_HOURS),
                personal_data_retention_days=(1, LONGEST_RETENTION_DAYS),
            )
        ]

    def __str__(self) -> str:
        return str(self.district)

    def travel_speed_kmh(self, hour: int) -> float:
        """The speed from the band the hour falls in."""
        speed = 0.0
        for start, band_speed in parse_travel_speeds(self.travel_speeds):
            if start <= hour:
                speed = band_speed
        return speed


class WhistleRule(models.Model):
    """Time limits of a summons for one kind of whistle in one district."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="whistle_rules",
        limit_choices_to=DISTRICTS,
    )
    kind = models.CharField(_("whistle kind"), max_length=16, choices=WhistleKind.choices)
    acknowledge_within = models.PositiveIntegerField(
        _("acknowledge within"), default=10, validators=TIME_LIMIT
    )
    acknowledge_unit = models.CharField(
        _("acknowledgement unit"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )
    arrive_within = models.PositiveIntegerField(
        _("arrive within"), default=30, validators=TIME_LIMIT
    )
    arrive_unit = models.CharField(
        _("arrival unit"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )

    class Meta:
        verbose_name = _("whistle time limits")
        verbose_name_plural = _("whistle time limits")
        ordering = ["district__code", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind"],
                name="whistle_rule_unique_kind",
                violation_error_message=_(
                    "The district already has time limits for this kind of whistle: change those."
                ),
            ),
            time_limit_check(
                "acknowledge_within", "acknowledge_unit", "whistle_rule_acknowledge_limit"
            ),
            time_limit_check("arrive_within", "arrive_unit", "whistle_rule_arrive_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.get_kind_display()}"

    def clean(self) -> None:
        check_time_limits(
            self, ("acknowledge_within", "acknowledge_unit"), ("arrive_within", "arrive_unit")
        )


class CalendarYear(models.Model):
    """A year whose official schedule of holidays and moved workdays has been entered here.

    The calendar package knows the years up to its release; for a later year a deployment
    enters the State Council's schedule as CalendarDay rows and marks the year complete.
    """

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_years",
        limit_choices_to=DISTRICTS,
    )
    year = models.PositiveIntegerField(
        _("year"),
        validators=[
            MinValueValidator(FIRST_CALENDAR_YEAR, _("Enter a year from %(limit_value)s to 2100.")),
            MaxValueValidator(LAST_CALENDAR_YEAR, _("Enter a year from 2000 to %(limit_value)s.")),
        ],
    )
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("entered calendar year")
        verbose_name_plural = _("entered calendar years")
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(
                Coalesce("district", 0),
                "year",
                name="calendar_year_unique",
                violation_error_message=_(
                    "This year is already entered, for the same district (or for every district)."
                ),
            ),
            bounds_check("calendar_year_in_range", year=(FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR)),
        ]

    def __str__(self) -> str:
        return f"{self.year}" + (f" · {self.district}" if self.district_id else "")


class CalendarDay(models.Model):
    """A day whose status differs from the usual week: a holiday, or a moved workday (调休)."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_days",
        limit_choices_to=DISTRICTS,
    )
    date = models.DateField(_("date"), validators=[_validate_calendar_date])
    is_workday = models.BooleanField(_("workday"))
    name = models.CharField(_("note"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                Coalesce("district", 0),
                "date",
                name="calendar_day_unique",
                violation_error_message=_("This day is already in this year's calendar."),
            ),
            models.CheckConstraint(
                condition=models.Q(
                    date__gte=date(FIRST_CALENDAR_YEAR, 1, 1),
                    date__lte=date(LAST_CALENDAR_YEAR, 12, 31),
                ),
                name="calendar_day_in_range",
                violation_error_message=_("A number lies outside the bounds the policy allows."),
            ),
        ]

    def __str__(self) -> str:
        state = _("working day") if self.is_workday else _("rest day")
        return f"{self.date} {state} {self.name}".strip()


class ChainTarget(models.TextChoices):
    """Who a step of the acknowledgement chain reaches."""

    BACKUP = "backup", _("the backup on duty")
    DEPARTMENT_HEAD = "department_head", _("the department head")
    TOWNSHIP_CHIEF = "township_chief", _("the township chief of lanes")


class ShortLimitRule(models.TextChoices):
    """What becomes of the chain for a summons whose acknowledgement limit is shorter than it."""

    COMPRESS = "compress", _("compress: every step, closer together")
    CUT = "cut", _("cut: leave out the steps that would come too late")


class AcknowledgementChain(models.Model):
    """Who hears of a summons nobody has acknowledged yet, and when.

    A summons goes to the department's person on duty (and to its desk); each step, after its
    wait, passes it on while nobody has acknowledged: to the backup on duty, the department
    head, the township chief of lanes. The steps must all fall before the acknowledgement
    deadline of a routine whistle (whistle.policies.chains).
    """

    district = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="acknowledgement_chain",
        limit_choices_to=DISTRICTS,
        error_messages={
            "unique": _("The district already has an acknowledgement chain: change that one.")
        },
    )
    is_active = models.BooleanField(_("active"), default=True)
    when_limit_shorter = models.CharField(
        _("when a summons has less time to acknowledge than the chain takes"),
        max_length=16,
        choices=ShortLimitRule.choices,
        default=ShortLimitRule.COMPRESS,
    )

    class Meta:
        verbose_name = _("acknowledgement chain")
        verbose_name_plural = _("acknowledgement chains")

    def __str__(self) -> str:
        return str(self.district)


class AcknowledgementStep(models.Model):
    """One step of an acknowledgement chain: whom it reaches, and after how long a wait."""

    chain = models.ForeignKey(
        AcknowledgementChain,
        verbose_name=_("acknowledgement chain"),
        on_delete=models.CASCADE,
        related_name="steps",
    )
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    wait_minutes = models.PositiveIntegerField(
        _("wait (minutes)"),
        validators=[MinValueValidator(1), at_most(YEAR_IN_MINUTES)],
        help_text=_("After the summons (first step) or the step before, while nobody acknowledges"),
    )
    target = models.CharField(_("reaches"), max_length=20, choices=ChainTarget.choices)

    class Meta:
        verbose_name = _("acknowledgement step")
        verbose_name_plural = _("acknowledgement steps")
        ordering = ["chain", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "position"],
                name="acknowledgement_step_order",
                violation_error_message=_(
                    "Two steps of the chain have the same order: number them 1, 2, 3…"
                ),
            ),
            bounds_check("acknowledgement_step_wait", wait_minutes=(1, YEAR_IN_MINUTES)),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_target_display()}"


class HotlineDeadlineClass(models.Model):
    """A class of 12345 hotline orders (接诉即办) and its two time limits in one district: by
    when the township must reply to the caller (the respond limit) and by when the problem
    must be solved (the resolve limit). Counted from the moment the township receives the
    order. Without rows a district uses `DEFAULT_HOTLINE_DEADLINE_CLASSES`."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="hotline_deadline_classes",
        limit_choices_to=DISTRICTS,
    )
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=40)
    aliases = models.CharField(
        _("other names"),
        max_length=200,
        blank=True,
        help_text=_(
            "How the hotline platform's export writes this class (its urgency column), "
            "comma-separated"
        ),
    )
    respond_within = models.PositiveIntegerField(_("reply within"), validators=TIME_LIMIT)
    respond_unit = models.CharField(
        _("reply unit"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_HOURS,
    )
    resolve_within = models.PositiveIntegerField(_("resolve within"), validators=TIME_LIMIT)
    resolve_unit = models.CharField(
        _("resolution unit"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_HOURS,
    )
    is_default = models.BooleanField(
        _("default class"),
        default=False,
        help_text=_("The class of an order that comes without one"),
    )
    position = models.PositiveSmallIntegerField(_("position in lists"), default=0)

    class Meta:
        verbose_name = _("hotline deadline class")
        verbose_name_plural = _("hotline deadline classes")
        ordering = ["district__code", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "code"],
                name="hotline_deadline_class_unique_code",
                violation_error_message=_(
                    "The district already has a deadline class with this code."
                ),
            ),
            models.UniqueConstraint(
                fields=["district"],
                condition=models.Q(is_default=True),
                name="hotline_deadline_class_one_default",
                violation_error_message=_(
                    "The district already has a default class: untick it there first."
                ),
            ),
            time_limit_check("respond_within", "respond_unit", "hotline_deadline_class_respond"),
            time_limit_check("resolve_within", "resolve_unit", "hotline_deadline_class_resolve"),
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.name}"

    def clean(self) -> None:
        check_time_limits(
            self, ("respond_within", "respond_unit"), ("resolve_within", "resolve_unit")
        )

    @property
    def words(self) -> list[str]:
        """Every way of naming the class: its code, its name and its other names."""
        return [self.code, self.name, *(w.strip() for w in self.aliases.split(",") if w.strip())]


# The feedback deadlines of the 2021 draft rules of 接诉即办 (docs/hotline.md): 2 hours for
# emergencies and threats to life or property, 24 hours for water, power, gas and heating,
# 7 days general, 15 days complex. The rules give one deadline per class, by which the unit
# reports what it did; the resolve limit starts equal to it and a district that allows more
# time for the work itself raises it. (code, name, other names, reply within, its unit,
# resolve within, its unit, default)
DEFAULT_HOTLINE_DEADLINE_CLASSES: tuple[tuple[str, Any, str, int, str, int, str, bool], ...] = (
    (
        "emergency",
        _("emergency"),
        "紧急,特急,急",
        2,
        DurationUnit.NATURAL_HOURS,
        2,
        DurationUnit.NATURAL_HOURS,
        False,
    ),
    (
        "utilities",
        _("water, power, gas and heating"),
        "水电气热,水电气暖,较急",
        24,
        DurationUnit.NATURAL_HOURS,
        24,
        DurationUnit.NATURAL_HOURS,
        False,
    ),
    (
        "general",
        _("general"),
        "一般,普通",
        7,
        DurationUnit.NATURAL_DAYS,
        7,
        DurationUnit.NATURAL_DAYS,
        True,
    ),
    (
        "complex",
        _("complex"),
        "复杂,疑难",
        15,
        DurationUnit.NATURAL_DAYS,
        15,
        DurationUnit.NATURAL_DAYS,
        False,
    ),
)


def shown_class_name(code: str, stored: str) -> str:
    """A deadline class's name in the active language: a built-in class still named as it
    was made (its name in one of the product's languages: the deployment's, when the
    district's rows were made) reads in the reader's language; a name a district gave its
    class is its own and shown as stored."""
    built_in = _BUILT_IN_CLASS_NAMES.get(code)
    if built_in is None:
        return stored
    made = set()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            made.add(str(built_in))
    return str(built_in) if stored in made else stored


_BUILT_IN_CLASS_NAMES: dict[str, Any] = {
    code: name for code, name, *_rest in DEFAULT_HOTLINE_DEADLINE_CLASSES
}


def default_hotline_deadline_classes(district: Jurisdiction | None) -> list[HotlineDeadlineClass]:
    """The default classes as unsaved rows of the district, names in the active language."""
    return [
        HotlineDeadlineClass(
            district=district,
            code=code,
            name=str(name),
            aliases=aliases,
            respond_within=respond,
            respond_unit=respond_unit,
            resolve_within=resolve,
            resolve_unit=resolve_unit,
            is_default=is_default,
            position=position,
        )
        for position, (
            code,
            name,
            aliases,
            respond,
            respond_unit,
            resolve,
            resolve_unit,
            is_default,
        ) in enumerate(DEFAULT_HOTLINE_DEADLINE_CLASSES, start=1)
    ]


# The fields of a 12345 order that an import of the hotline platform's export fills, and the
# column headers a typical export gives them. A district whose platform names its columns
# otherwise stores its own mapping (`HotlineImportMapping`).
HOTLINE_ORDER_FIELDS: tuple[str, ...] = (
    "order_number",
    "called_at",
    "caller_name",
    "caller_phone",
    "description",
    "address",
    "lon",
    "lat",
    "lane",
    "category",
    "deadline_class",
    "channel",
)
DEFAULT_HOTLINE_COLUMNS: dict[str, list[str]] = {
    "order_number": ["工单编号", "工单号", "order number"],
    "called_at": ["来电时间", "受理时间", "called at"],
    "caller_name": ["来电人", "诉求人", "来电人姓名", "caller"],
    "caller_phone": ["联系电话", "来电号码", "联系方式", "phone"],
    "description": ["诉求内容", "问题描述", "description"],
    "address": ["地址", "诉求地址", "事发地址", "address"],
    "lon": ["经度", "longitude", "lon"],
    "lat": ["纬度", "latitude", "lat"],
    "lane": ["街巷", "街巷名称", "lane"],
    "category": ["诉求类别", "问题分类", "category"],
    "deadline_class": ["紧急程度", "办理时限类别", "urgency"],
    "channel": ["来源", "工单来源", "channel"],
}


def _validate_hotline_columns(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_('Write an object such as {"order_number": ["工单编号"]}.'))
    for field, headers in value.items():
        if field not in HOTLINE_ORDER_FIELDS:
            raise ValidationError(
                _("%(field)s is not a field of an order; the fields are: %(fields)s"),
                params={"field": field, "fields": ", ".join(HOTLINE_ORDER_FIELDS)},
            )
        if (
            not isinstance(headers, list)
            or not headers
            or not all(isinstance(h, str) and h.strip() for h in headers)
        ):
            raise ValidationError(
                _("Give the column headers of %(field)s as a list of texts."),
                params={"field": field},
            )


class HotlineImportMapping(models.Model):
    """Which column of the hotline platform's export fills which field of an order, for one
    district. Fields left out keep the default headers (`DEFAULT_HOTLINE_COLUMNS`)."""

    district = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="hotline_import_mapping",
        limit_choices_to=DISTRICTS,
        error_messages={
            "unique": _("The district already has its hotline import columns: change those.")
        },
    )
    columns = models.JSONField(
        _("columns"),
        default=dict,
        blank=True,
        validators=[_validate_hotline_columns],
        help_text=_(
            "For each field of an order the column headers that may fill it, e.g. "
            '{"order_number": ["工单编号"], "description": ["诉求内容"]}'
        ),
    )

    class Meta:
        verbose_name = _("hotline import columns")
        verbose_name_plural = _("hotline import columns")

    def __str__(self) -> str:
        return str(self.district)


def hotline_columns(district: Jurisdiction | None) -> dict[str, list[str]]:
    """The column headers of each order field for the district: its mapping over the
    defaults."""
    columns = {field: list(headers) for field, headers in DEFAULT_HOTLINE_COLUMNS.items()}
    if district is not None:
        mapping = HotlineImportMapping.objects.filter(district=district).first()
        if mapping is not None and isinstance(mapping.columns, dict):
            columns.update({k: list(v) for k, v in mapping.columns.items() if k in columns})
    return columns


# Which unit of a township handles a category lives in its own module.
from whistle.policies.routing import CategoryRoute as CategoryRoute  # noqa: E402
