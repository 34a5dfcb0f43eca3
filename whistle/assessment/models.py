"""The assessment of summonses (一次一考核, 下考上): schemes, records, scores and appeals.

Records are derived from the trail and the summons and stored; nobody types them in. Every
stored number can be recomputed from the trail (`whistle recompute-scores --check`). The rules
are written out in docs/assessment.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from whistle.assessment.periods import Period, validate_month_start
from whistle.cases.models import Attachment, Summons, claim_index
from whistle.organisation.models import Department, Jurisdiction
from whistle.organisation.names import english_name_field, in_reader_language
from whistle.policies.models import LONGEST_LIMIT, YEAR_IN_MINUTES, DurationUnit, bounds_check

DISTRICTS = {"level": Jurisdiction.Level.DISTRICT}
TOWNSHIPS = {"level": Jurisdiction.Level.TOWNSHIP}
ZERO = Decimal("0")
HUNDRED = Decimal("100")
# The longest appeal window: about a year of working days, as any working-day time limit.
LONGEST_APPEAL_WORKING_DAYS = LONGEST_LIMIT[DurationUnit.WORKING_DAYS]
# How often the worker looks again whether someone may rule on a pending appeal
# (`Appeal.ruler_check_at`, `whistle.assessment.ruler_checks`): the net under changes of
# people and roles that announce nothing (a shell, SQL, another program writing the
# database). An hour: the office and the staffers hear within the hour, and the sweep reads
# each pending appeal's office no more than 24 times a day.
RULER_CHECK_EVERY = timedelta(hours=1)


def parse_share(text: str) -> Fraction:
    """Read a share as a fraction ("1/3"), a decimal ("0.4") or a percentage ("40%")."""
    value = (text or "").strip()
    try:
        share = Fraction(value[:-1].strip()) / 100 if value.endswith("%") else Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValidationError(
            _("Enter a share as 1/3, 0.4 or 40%%; cannot read: %(value)s"),
            params={"value": value},
        ) from None
    if not 0 <= share <= 1:
        raise ValidationError(_("A share lies between 0 and 1: %(value)s"), params={"value": value})
    return share


def validate_share(value: str) -> None:
    parse_share(value)


def validate_late_bands(value: Any) -> None:
    """Bands look like [[10, 10], [30, 30]]: late up to 10 minutes loses 10 points, up to 30
    minutes 30 points; later than the last band counts as the floor."""
    message = _(
        "Late bands are a list of [up to minutes, points deducted] with rising minutes, at "
        "most %(minutes)s minutes and 100 points"
    ) % {"minutes": YEAR_IN_MINUTES}
    if not isinstance(value, list):
        raise ValidationError(message)
    previous = 0
    for band in value:
        if (
            not isinstance(band, list | tuple)
            or len(band) != 2
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in band)
            or band[0] <= previous
            or band[0] > YEAR_IN_MINUTES
            or not 0 <= band[1] <= HUNDRED
        ):
            raise ValidationError(message)
        previous = band[0]


# What a scheme may count a summons nobody rated as (`Scheme.unrated_stars`): one of the
# township's own ratings, 1 to 5 stars.
RATING_STARS = range(1, 6)
UNRATED_STARS_ERROR = _("Count a summons nobody rated as 1 to 5 stars, or leave “how well” out.")


def _count_as(stars: int) -> str:
    return ngettext("count it as %(stars)d star", "count it as %(stars)d stars", stars) % {
        "stars": stars
    }


def unrated_stars_choices() -> list[tuple[int | None, Any]]:
    """Leave "how well" out (the default), or count it as 1 to 5 stars (in the reader's
    language, read when shown)."""
    count_as = lazy(_count_as, str)
    return [(None, _("leave “how well” out")), *((n, count_as(n)) for n in RATING_STARS)]


def points_field(verbose_name: Any, default: str, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=6,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(ZERO), MaxValueValidator(HUNDRED)],
        **kwargs,
    )


def weight_field(verbose_name: Any, default: str) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=5,
        decimal_places=4,
        default=Decimal(default),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("1"))],
    )


class Scheme(models.Model):
    """How a district scores summonses, in force from a month until the next scheme.

    Every part score lies between 0 and 100. A scheme whose months include a closed period
    cannot be changed; a change is a new scheme from an open month on.
    """

    class LateMode(models.TextChoices):
        PER_MINUTE = "per_minute", _("per minute late")
        BANDS = "bands", _("in bands of minutes")

    class MonthWeighting(models.TextChoices):
        # Months under the same scheme pool their records, so a period under one scheme
        # is scored as one: the mean of all its records.
        RECORDS = "records", _("each month weighs as many records as it has")
        MONTHS = "months", _("each month weighs the same")

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="assessment_schemes",
        limit_choices_to=DISTRICTS,
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = english_name_field()
    valid_from = models.DateField(
        _("in force from (month)"),
        validators=[validate_month_start],
        help_text=_("The first day of the first month scored with this scheme"),
    )
    weight_came = weight_field(_("weight of 'did it come'"), "0.3")
    weight_acted = weight_field(_("weight of 'did it act'"), "0.4")
    weight_quality = weight_field(_("weight of 'how well'"), "0.3")
    on_time_points = points_field(_("points for arriving on time"), "100")
    late_mode = models.CharField(
        _("deduction for lateness"), max_length=16, choices=LateMode.choices, default="per_minute"
    )
    late_points_per_minute = models.DecimalField(
        _("points deducted per minute late"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("2"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(HUNDRED)],
    )
    late_bands = models.JSONField(
        _("late bands"),
        default=list,
        blank=True,
        validators=[validate_late_bands],
        help_text=_(
            "[[10, 10], [30, 30]]: up to 10 minutes late loses 10 points, up to 30 loses 30"
        ),
    )
    late_floor_points = points_field(
        _("least points for a late arrival"),
        "20",
        help_text=_("A late arrival never scores less than this"),
    )
    no_show_points = points_field(_("points when the department never came"), "0")
    handled_points = points_field(_("points for handling the problem"), "100")
    decline_upheld_points = points_field(_("points for a decline the township upheld"), "100")
    decline_overruled_deduction = points_field(
        _("points deducted for a decline the township overruled"), "20"
    )
    abandoned_points = points_field(_("points when the department never acted"), "0")
    rework_deduction = points_field(_("points deducted per rework"), "10")
    points_per_star = points_field(_("points per star of the township's rating"), "20")
    resident_share = weight_field(_("share of the resident's satisfaction in 'how well'"), "0.5")
    # A summons nobody rated (no rating of the township's, no evaluation of the case): left
    # out of the total (None), or counted as this many stars. Its record still says that
    # nobody rated it (`SummonsAssessment.stars_standing_in`).
    unrated_stars = models.PositiveSmallIntegerField(
        _("a summons nobody rated"),
        null=True,
        blank=True,
        default=None,
        choices=unrated_stars_choices(),
        error_messages={"invalid_choice": UNRATED_STARS_ERROR},
        help_text=_(
            "Until the township rates it: leave “how well” out of its total, or count it as "
            "a rating of so many stars. Its record still says it was not rated."
        ),
    )
    township_share = models.CharField(
        _("share of the township evaluation in the annual score"),
        max_length=20,
        default="1/3",
        validators=[validate_share],
        help_text=_("1/3, 0.4 or 40%"),
    )
    # The township's monthly assessment of the department's stationed staff
    # (whistle.township, power 4), as the component STATIONED_COMPONENT. 0 leaves it out.
    stationed_share = models.CharField(
        _("share of the stationed staff's assessment in the annual score"),
        max_length=20,
        default="0",
        validators=[validate_share],
        help_text=_(
            "The townships' monthly assessment of the department's stationed people; "
            "0 leaves it out. 1/10, 0.1 or 10%"
        ),
    )
    appeal_working_days = models.PositiveIntegerField(
        _("appeal within (working days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(LONGEST_APPEAL_WORKING_DAYS)],
    )
    month_weighting = models.CharField(
        _("how a quarter or a year combines its months"),
        max_length=16,
        choices=MonthWeighting.choices,
        default=MonthWeighting.RECORDS,
        help_text=_(
            "A quarter or a year is scored month by month under each month's scheme, then "
            "its months are combined as the latest scheme in it says."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["district__code", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "valid_from"],
                name="assessment_scheme_unique_start",
                violation_error_message=_(
                    "A version of the district's scheme already starts in this month."
                ),
            ),
            bounds_check(
                "assessment_scheme_appeal_window",
                appeal_working_days=(1, LONGEST_APPEAL_WORKING_DAYS),
            ),
            models.CheckConstraint(
                condition=models.Q(late_points_per_minute__gte=0, late_points_per_minute__lte=100),
                name="assessment_scheme_late_points",
                violation_error_message=_("Points lie between 0 and 100."),
            ),
            models.CheckConstraint(
                condition=models.Q(unrated_stars__isnull=True)
                | models.Q(
                    unrated_stars__gte=RATING_STARS.start, unrated_stars__lt=RATING_STARS.stop
                ),
                name="assessment_scheme_unrated_stars",
                violation_error_message=UNRATED_STARS_ERROR,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.name} · {self.valid_from:%Y-%m}"

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)

    def clean(self) -> None:
        weights = self.weight_came + self.weight_acted + self.weight_quality
        if weights != Decimal("1"):
            raise ValidationError(_("The weights of the three questions must add up to 1"))
        if self.late_mode == self.LateMode.BANDS and not self.late_bands:
            raise ValidationError({"late_bands": _("Enter at least one band")})
        if self.district_id and self.valid_from:
            frozen = ClosedPeriod.last_closed_month(self.district_id)
            if frozen is not None and self.valid_from <= frozen:
                raise ValidationError(
                    _("Periods up to %(month)s are closed; a new scheme must start after them")
                    % {"month": f"{frozen:%Y-%m}"}
                )

    def counted_stars(self, rating: int | None, excused: bool) -> int | None:
        """The stars "how well" counts: the rating; for a summons nobody rated, the
        scheme's `unrated_stars` (None: left out); none for a department that did not have
        to come, which did nothing of its own to rate."""
        if rating is not None:
            return rating
        return None if excused else self.unrated_stars

    @property
    def share(self) -> Fraction:
        return parse_share(self.township_share)

    @property
    def stationed_part(self) -> Fraction:
        return parse_share(self.stationed_share or "0")

    def check_shares(self, component_weights: Iterable[str]) -> None:
        """Refuse a scheme whose parts do not add up to the whole score: the township
        evaluation's share, the stationed staff's and the other components' must add up to
        1 (100%). Every way of editing a scheme calls this with the components it is about
        to keep."""
        total = (
            self.share
            + self.stationed_part
            + sum((parse_share(w) for w in component_weights), Fraction(0))
        )
        if total != 1:
            raise ValidationError(
                _(
                    "The share of the township evaluation and the shares of the other "
                    "components must add up to 1; they add up to %(total)s"
                ),
                params={"total": f"{Decimal(100 * total.numerator) / total.denominator:.2f}%"},
            )


# The component the townships' monthly assessments of stationed staff feed
# (`Scheme.stationed_share`); its scores are written by whistle.township, never typed in.
STATIONED_COMPONENT = "stationed"


class SchemeComponent(models.Model):
    """A part of the annual score other than the township evaluation, e.g. the district's
    own inspections; its score (0–100) is entered or imported per department and period."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="components"
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    name_en = english_name_field()
    weight = models.CharField(
        _("share in the annual score"), max_length=20, validators=[validate_share]
    )

    class Meta:
        verbose_name = _("other score component")
        verbose_name_plural = _("other score components")
        ordering = ["scheme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "code"],
                name="scheme_component_unique_code",
                violation_error_message=_("The scheme already has a component with this code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)

    def clean(self) -> None:
        if self.code == STATIONED_COMPONENT:
            raise ValidationError(
                {
                    "code": _(
                        "The code %(code)s is the stationed staff's assessment, set by its "
                        "share in the scheme"
                    )
                    % {"code": STATIONED_COMPONENT}
                }
            )
        if self.scheme_id:
            frozen = ClosedPeriod.last_closed_month(self.scheme.district_id)
            if frozen is not None and self.scheme.valid_from <= frozen:
                raise ValidationError(
                    _("This scheme scored closed periods; make a new scheme instead")
                )

    @property
    def share(self) -> Fraction:
        return parse_share(self.weight)


class ClosedPeriod(models.Model):
    """A period whose records and scores are frozen: nothing recomputes them any more."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="closed_assessment_periods",
        limit_choices_to=DISTRICTS,
    )
    period = models.CharField(_("period"), max_length=8)
    last_month = models.DateField(_("last month"), editable=False)
    closed_at = models.DateTimeField(_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("closed period")
        verbose_name_plural = _("closed periods")
        ordering = ["district__code", "last_month"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "period"],
                name="closed_period_unique",
                violation_error_message=_("This period of the district is already closed."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.period}"

    @classmethod
    def last_closed_month(cls, district_id: int) -> Any:
        return (
            cls.objects.filter(district_id=district_id)
            .order_by("-last_month")
            .values_list("last_month", flat=True)
            .first()
        )

    @classmethod
    def frozen_months(cls, district_id: int) -> set[Any]:
        months: set[Any] = set()
        for key in cls.objects.filter(district_id=district_id).values_list("period", flat=True):
            months.update(Period.parse(key).months())
        return months


class ComponentScore(models.Model):
    """A department's score (0–100) in one other component for one period."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=DISTRICTS,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="component_scores",
    )
    component = models.SlugField(_("component code"), max_length=40)
    period = models.CharField(_("period"), max_length=8)
    score = points_field(_("score"), "0")
    source = models.CharField(_("source"), max_length=200, blank=True)
    entered_at = models.DateTimeField(_("entered at"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("other component score")
        verbose_name_plural = _("other component scores")
        ordering = ["district__code", "period", "department__code", "component"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "component", "period"],
                name="component_score_unique",
                violation_error_message=_(
                    "The department already has a score of this component for this period."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.component} · {self.period}: {self.score}"


class Came(models.TextChoices):
    ON_TIME = "on_time", _("came on time")
    LATE = "late", _("came late")
    NO_SHOW = "no_show", _("never came")
    NOT_APPLICABLE = "not_applicable", _("no arrival obligation")
    PENDING = "pending", _("not due yet")


class Acted(models.TextChoices):
    HANDLED = "handled", _("handled")
    DECLINE_UPHELD = "decline_upheld", _("declined, decline upheld")
    DECLINE_OVERRULED = "decline_overruled", _("declined, overruled, then handled")
    ABANDONED = "abandoned", _("never acted")
    NOT_APPLICABLE = "not_applicable", _("released before acting")
    PENDING = "pending", _("still open")


# A record's own values, as the engine computes, compares and writes them.
RECORD_FIELDS = (
    "case_id",
    "district_id",
    "township_id",
    "department_id",
    "month",
    "scheme_id",
    "settled",
    "settled_at",
    "came",
    "late_minutes",
    "acted",
    "rework_count",
    "rating",
    "rating_comment",
    "resident_satisfied",
    "excused",
    "provisional",
    "came_score",
    "acted_score",
    "quality_score",
    "total",
    "corrected",
    "trail_seq",
    "event_ids",
)


class SummonsAssessment(models.Model):
    """The assessment record of one summons, derived from the trail; never typed in."""

    # The summons and the scheme are the record's keys checked by the database. The case,
    # the district, the township and the department are copied from the summons (its case,
    # its department, the department's district, the whistle's or the case's township), each
    # of those held by the summons' own checked keys; the database does not check them again
    # for every record written, and deleting one through Django is still refused while a
    # record refers to it (PROTECT). Their indexes: the case's own; the district's, the
    # township's and the department's are the first column of the indexes with the month
    # below. Why each is safe: docs/assessment.md, "The records' keys and indexes".
    summons = models.OneToOneField(
        Summons, verbose_name=_("summons"), on_delete=models.PROTECT, related_name="assessment"
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="assessments",
        db_constraint=False,
        db_index=False,
    )
    month = models.DateField(_("month"))
    scheme = models.ForeignKey(
        Scheme, verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="records"
    )
    # Counted in scores once the department's part is over (case closed, released, decline
    # upheld or checked out).
    settled = models.BooleanField(_("settled"), default=False)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    came = models.CharField(_("did it come"), max_length=16, choices=Came.choices)
    late_minutes = models.PositiveIntegerField(_("minutes late"), null=True, blank=True)
    acted = models.CharField(_("did it act"), max_length=20, choices=Acted.choices)
    rework_count = models.PositiveIntegerField(_("reworks"), default=0)
    rating = models.PositiveSmallIntegerField(_("township's rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    resident_satisfied = models.BooleanField(_("resident satisfied"), null=True, blank=True)
    # Its decline upheld, or released before it arrived: not rated, by nobody's stand-in.
    excused = models.BooleanField(_("did not have to come"), default=False)
    # Past its handling deadline and unfinished: counted as "never acted" for now, until the
    # summons settles (scoring.provisional).
    provisional = models.BooleanField(_("unfinished, counted as not acted for now"), default=False)
    came_score = models.DecimalField(
        _("score: came"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    acted_score = models.DecimalField(
        _("score: acted"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    quality_score = models.DecimalField(
        _("score: how well"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2, null=True, blank=True)
    corrected = models.BooleanField(_("corrected on appeal"), default=False)
    # The last sequence number of the case's trail this record was computed from.
    trail_seq = models.PositiveIntegerField(_("trail position"), default=0)
    event_ids = models.JSONField(_("trail events used"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("assessment record")
        verbose_name_plural = _("assessment records")
        ordering = ["month", "summons_id"]
        indexes = [
            models.Index(fields=["district", "month"]),
            models.Index(fields=["department", "month"]),
            models.Index(fields=["township", "month"]),
        ]

    def __str__(self) -> str:
        return f"{self.summons_id} · {self.total}"

    @property
    def stars_standing_in(self) -> int | None:
        """The stars the scheme counted in "how well" for a summons nobody rated
        (`Scheme.counted_stars`); None when it is rated or the scheme leaves it out."""
        return None if self.rating is not None else self.scheme.counted_stars(None, self.excused)


class ScoreCell(models.Model):
    """Running sums of the settled records of one department in one township and month.

    Scores of any period are computed from these cells, so that adding one record changes
    one cell instead of making every score read all records again.
    """

    district = models.ForeignKey(
        Jurisdiction, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        Jurisdiction, verbose_name=_("township"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    records = models.PositiveIntegerField(_("records"), default=0)
    total_sum = models.DecimalField(_("sum of totals"), max_digits=16, decimal_places=2, default=0)
    came_sum = models.DecimalField(
        _("sum of 'came' scores"), max_digits=16, decimal_places=2, default=0
    )
    came_count = models.PositiveIntegerField(_("'came' scores counted"), default=0)
    acted_sum = models.DecimalField(
        _("sum of 'acted' scores"), max_digits=16, decimal_places=2, default=0
    )
    acted_count = models.PositiveIntegerField(_("'acted' scores counted"), default=0)
    quality_sum = models.DecimalField(
        _("sum of 'how well' scores"), max_digits=16, decimal_places=2, default=0
    )
    quality_count = models.PositiveIntegerField(_("'how well' scores counted"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), default=0)
    rating_count = models.PositiveIntegerField(_("ratings counted"), default=0)
    on_time_count = models.PositiveIntegerField(_("arrivals on time"), default=0)
    late_count = models.PositiveIntegerField(_("late arrivals"), default=0)
    no_show_count = models.PositiveIntegerField(_("never came"), default=0)
    rework_sum = models.PositiveIntegerField(_("reworks"), default=0)

    class Meta:
        verbose_name = _("score cell")
        verbose_name_plural = _("score cells")
        ordering = ["month", "department_id", "township_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "township", "month"], name="score_cell_unique"
            )
        ]
        indexes = [models.Index(fields=["district", "month"])]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.township_id}/{self.month:%Y-%m}"


class DepartmentResult(models.Model):
    """A department's score for one period: the township evaluation, the other components,
    the total and the rank in its district."""

    district = models.ForeignKey(
        Jurisdiction, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="results"
    )
    period = models.CharField(_("period"), max_length=8)
    scheme = models.ForeignKey(
        Scheme, verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="results"
    )
    records = models.PositiveIntegerField(_("records"), default=0)
    township_score = models.DecimalField(
        _("township evaluation"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    components = models.JSONField(_("other components"), default=dict, blank=True)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    complete = models.BooleanField(_("complete"), default=True)
    # The months of the period under each scheme, or under none, with the department's
    # score over them: the total combines these (docs/assessment.md).
    parts = models.JSONField(_("parts of the period"), default=list, blank=True)
    frozen = models.BooleanField(_("frozen"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("department score")
        verbose_name_plural = _("department scores")
        # Complete results ranked first; the unranked after them.
        ordering = [
            "district__code",
            "period",
            models.F("rank").asc(nulls_last=True),
            "department__code",
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "period"], name="department_result_unique"
            )
        ]
        indexes = [models.Index(fields=["district", "period"])]

    def __str__(self) -> str:
        return f"{self.department} · {self.period}: {self.total}"


class Appeal(models.Model):
    """A department's appeal (申诉) against its assessment record, ruled by the district
    chiefs' office. An upheld appeal corrects the record through its trail event."""

    class Part(models.TextChoices):
        CAME = "came", _("did it come")
        ACTED = "acted", _("did it act")
        REWORK = "rework", _("reworks")

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting ruling")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    uuid = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    summons = models.ForeignKey(
        Summons, verbose_name=_("summons"), on_delete=models.PROTECT, related_name="appeals"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="appeals"
    )
    part = models.CharField(_("contested part"), max_length=16, choices=Part.choices)
    requested = models.JSONField(_("requested correction"), default=dict)
    reason = models.TextField(_("reason"))
    evidence = models.TextField(_("evidence"), blank=True)
    attachments = models.ManyToManyField(
        Attachment, verbose_name=_("evidence files"), related_name="+", blank=True
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    ruled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ruled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ruled_at = models.DateTimeField(_("ruled at"), null=True, blank=True)
    ruling_note = models.TextField(_("ruling"), blank=True)
    correction = models.JSONField(_("correction applied"), default=dict, blank=True)
    # When the people who add staff were told that nobody in the district chiefs' office may
    # rule on it (`whistle.assessment.actions.nobody_may_rule`): on filing, or once a change of
    # people or roles left it so. Empty while someone may; they are told once each time it
    # comes to that.
    nobody_rules_since = models.DateTimeField(
        _("nobody may rule on it since"), null=True, blank=True
    )
    # When the worker looks again whether someone may rule on it (`RULER_CHECK_EVERY` after
    # filing and after each look), for the changes of people and roles that announce
    # nothing; empty once it is ruled on.
    ruler_check_at = models.DateTimeField(_("next check for a ruler"), null=True, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at"]
        indexes = [
            models.Index(fields=["status", "filed_at"]),
            claim_index("ruler_check_at", "appeal_ruler_check"),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.summons_id} · {self.get_status_display()}"


class SchemeRevision(models.Model):
    """One row whose token changes, by database triggers, with every change to the schemes
    and their components (`whistle.organisation.map_triggers.SCHEMES`): by an action, the
    admin, `QuerySet.update()`, raw SQL or another program. The incremental update keeps the
    schemes it read (`whistle.assessment.engine.scheme_book`) while the token stays the one
    they were read under. Random, as the map's token is."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("scheme revision")
        verbose_name_plural = _("scheme revisions")

    def __str__(self) -> str:
        return self.token


class ScoringState(models.Model):
    """Where the incremental update stopped reading the trail (one row)."""

    last_event_id = models.BigIntegerField(_("last trail event read"), default=0)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("scoring state")
        verbose_name_plural = _("scoring state")

    def __str__(self) -> str:
        return str(self.last_event_id)


# Chiefs' patrols: how often each lane must be walked when a district has not said otherwise.
# Lane chiefs answer for one alley each and walk it weekly; street chiefs (division-level
# cadres with a longer street and other duties) fortnightly.
DEFAULT_PATROL_EVERY_DAYS = {"lane_chief": 7, "street_chief": 14}
DEFAULT_PATROL_MIN_COVERAGE = Decimal("0.50")


class PatrolRequirement(models.Model):
    """How often a district's chiefs of one role must patrol each of their lanes.

    The chiefs' office assesses chiefs against it: a lane is covered in a period when its
    chief made at least (days of the period ÷ every_days, rounded down) patrols of it that
    each came near at least `min_coverage` of the lane's length. Without a row the defaults
    apply: lane chiefs every 7 days, street chiefs every 14, half the lane.
    """

    class ChiefRole(models.TextChoices):
        STREET_CHIEF = "street_chief", _("street chief")
        LANE_CHIEF = "lane_chief", _("lane chief")

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="patrol_requirements",
        limit_choices_to=DISTRICTS,
    )
    role = models.CharField(_("role"), max_length=32, choices=ChiefRole.choices)
    every_days = models.PositiveIntegerField(
        _("patrol each lane every (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("7: weekly; 14: fortnightly"),
    )
    min_coverage = models.DecimalField(
        _("least share of the lane a patrol must cover"),
        max_digits=3,
        decimal_places=2,
        default=DEFAULT_PATROL_MIN_COVERAGE,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("1"))],
        help_text=_(
            "0.50: the route came near at least half of the lane; 0: every finished patrol counts"
        ),
    )

    class Meta:
        verbose_name = _("patrol requirement")
        verbose_name_plural = _("patrol requirements")
        ordering = ["district__code", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "role"],
                name="patrol_requirement_unique_role",
                violation_error_message=_(
                    "The district already has a patrol requirement for this role."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.get_role_display()} · {self.every_days}"


# The hotline's weights when a district has not set its own: one county's 30 / 35 / 35, and a
# request answered within a day.
DEFAULT_HOTLINE_RESPONSE_WEIGHT = "30%"
DEFAULT_HOTLINE_RESOLUTION_WEIGHT = "35%"
DEFAULT_HOTLINE_SATISFACTION_WEIGHT = "35%"


class HotlineScheme(models.Model):
    """How a district weighs the 12345 hotline's three rates (三率), in force from a month
    until the district's next hotline scheme. Without one, 30% / 35% / 35%. (How long the
    township has to reply is each order's deadline class: `HotlineDeadlineClass`.)"""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="hotline_schemes",
        limit_choices_to=DISTRICTS,
    )
    valid_from = models.DateField(
        _("in force from (month)"),
        validators=[validate_month_start],
        help_text=_("The first day of the first month weighed with this scheme"),
    )
    response_weight = models.CharField(
        _("weight of the response rate"),
        max_length=20,
        default=DEFAULT_HOTLINE_RESPONSE_WEIGHT,
        validators=[validate_share],
        help_text=_("1/3, 0.3 or 30%"),
    )
    resolution_weight = models.CharField(
        _("weight of the resolution rate"),
        max_length=20,
        default=DEFAULT_HOTLINE_RESOLUTION_WEIGHT,
        validators=[validate_share],
        help_text=_("1/3, 0.35 or 35%"),
    )
    satisfaction_weight = models.CharField(
        _("weight of the satisfaction rate"),
        max_length=20,
        default=DEFAULT_HOTLINE_SATISFACTION_WEIGHT,
        validators=[validate_share],
        help_text=_("1/3, 0.35 or 35%"),
    )

    class Meta:
        verbose_name = _("hotline weighting")
        verbose_name_plural = _("hotline weightings")
        ordering = ["district__code", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "valid_from"],
                name="hotline_scheme_unique_start",
                violation_error_message=_(
                    "A hotline weighting of the district already starts in this month."
                ),
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.district} · {self.valid_from:%Y-%m} · {self.response_weight} / "
            f"{self.resolution_weight} / {self.satisfaction_weight}"
        )

    def clean(self) -> None:
        try:
            total = sum(
                (
                    parse_share(self.response_weight),
                    parse_share(self.resolution_weight),
                    parse_share(self.satisfaction_weight),
                ),
                Fraction(0),
            )
        except ValidationError:
            return  # the field validators name the unreadable weight
        if total != 1:
            raise ValidationError(_("The weights of the three rates must add up to 1"))
