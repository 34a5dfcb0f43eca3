"""Policies each district edits as data: problem categories with their time limits, the
working calendar, working hours, and the rules of whistles and check-ins."""

from __future__ import annotations

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from whistle.organisation.models import Jurisdiction, Sector

DISTRICTS = {"level": Jurisdiction.Level.DISTRICT}


class DurationUnit(models.TextChoices):
    NATURAL_MINUTES = "natural_minutes", _("自然分钟")
    NATURAL_HOURS = "natural_hours", _("自然小时")
    NATURAL_DAYS = "natural_days", _("自然日")
    WORKING_HOURS = "working_hours", _("工作小时")
    WORKING_DAYS = "working_days", _("工作日")


class WhistleKind(models.TextChoices):
    ROUTINE = "routine", _("日常哨")
    TOUGH = "tough", _("攻坚哨")
    EMERGENCY = "emergency", _("应急哨")


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")


two_digits = RegexValidator(r"^\d{2}$", _("应为 2 位数字"))


class MajorClass(models.Model):
    """A major class (大类) of components or events, 2-digit code as in the national standard."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("区"),
        on_delete=models.CASCADE,
        related_name="major_classes",
        limit_choices_to=DISTRICTS,
    )
    kind = models.CharField(_("部件/事件"), max_length=16, choices=CategoryKind.choices)
    code = models.CharField(_("大类代码"), max_length=2, validators=[two_digits])
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        verbose_name = _("问题大类")
        verbose_name_plural = _("问题大类")
        ordering = ["district__code", "kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind", "code"], name="major_class_unique_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"


class Category(models.Model):
    """A subclass (小类) of problem with the departments usually responsible and its time limits."""

    major = models.ForeignKey(
        MajorClass, verbose_name=_("大类"), on_delete=models.CASCADE, related_name="categories"
    )
    code = models.CharField(_("小类代码"), max_length=2, validators=[two_digits])
    name = models.CharField(_("名称"), max_length=80)
    keywords = models.CharField(
        _("关键词"), max_length=300, blank=True, help_text=_("用于根据描述推荐分类，逗号分隔")
    )
    responsible_sectors = models.ManyToManyField(
        Sector, verbose_name=_("通常负责的职能领域"), related_name="categories", blank=True
    )
    acknowledge_within = models.PositiveIntegerField(
        _("签收时限"), default=30, validators=[MinValueValidator(1)]
    )
    acknowledge_unit = models.CharField(
        _("签收时限单位"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )
    arrive_within = models.PositiveIntegerField(
        _("到场时限"), default=30, validators=[MinValueValidator(1)]
    )
    arrive_unit = models.CharField(
        _("到场时限单位"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )
    resolve_within = models.PositiveIntegerField(
        _("处置时限"), default=4, validators=[MinValueValidator(1)]
    )
    resolve_unit = models.CharField(
        _("处置时限单位"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.WORKING_HOURS,
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("问题分类")
        verbose_name_plural = _("问题分类")
        ordering = ["major__district__code", "major__kind", "major__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["major", "code"], name="category_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.full_code} {self.name}"

    @property
    def full_code(self) -> str:
        """The 4-digit class code: 2-digit major class + 2-digit subclass."""
        return f"{self.major.code}{self.code}"


_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_working_periods(text: str) -> list[tuple[time, time]]:
    """Parse "09:00-12:00,13:30-17:30" into ordered, non-overlapping (start, end) pairs."""
    periods: list[tuple[time, time]] = []
    for chunk in text.split(","):
        match = _PERIOD.match(chunk)
        if not match:
            raise ValidationError(
                _("工作时段格式应为 09:00-12:00,13:30-17:30，无法识别：%(chunk)s"),
                params={"chunk": chunk.strip()},
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValidationError(_("时间无效：%(chunk)s"), params={"chunk": chunk.strip()})
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValidationError(
                _("时段结束应晚于开始：%(chunk)s"), params={"chunk": chunk.strip()}
            )
        if periods and start < periods[-1][1]:
            raise ValidationError(_("时段应按时间先后排列且不重叠"))
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
            raise ValidationError(_("应为 0 到 1 之间的小数，逗号分隔")) from None
        if not 0 < number < 1:
            raise ValidationError(_("应为 0 到 1 之间的小数，逗号分隔"))


def _validate_minutes(value: str) -> None:
    for chunk in value.split(","):
        if chunk.strip() and not chunk.strip().isdigit():
            raise ValidationError(_("应为分钟数，逗号分隔"))


class DistrictPolicy(models.Model):
    """The rules of the mechanism a district sets for itself."""

    district = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("区"),
        on_delete=models.CASCADE,
        related_name="policy",
        limit_choices_to=DISTRICTS,
    )
    working_periods = models.CharField(
        _("工作时段"),
        max_length=100,
        default="09:00-12:00,13:30-17:30",
        validators=[_validate_periods],
        help_text=_("工作日内计算工作时间的时段，北京时间"),
    )
    checkin_radius_m = models.PositiveIntegerField(
        _("报到有效半径（米）"), default=300, validators=[MinValueValidator(1)]
    )
    lane_snap_m = models.PositiveIntegerField(
        _("街巷匹配距离（米）"),
        default=50,
        help_text=_("问题位置距街巷中心线在此距离内即归属该街巷"),
    )
    reminder_fractions = models.CharField(
        _("提醒时点（时限比例）"),
        max_length=60,
        default="0.5",
        blank=True,
        validators=[_validate_fractions],
        help_text=_("如 0.5 表示时限过半时提醒，逗号分隔"),
    )
    reminder_minutes_before = models.CharField(
        _("提前提醒（分钟）"),
        max_length=60,
        default="5",
        blank=True,
        validators=[_validate_minutes],
        help_text=_("到期前多少分钟提醒，逗号分隔"),
    )
    escalate_to_district_after_minutes = models.PositiveIntegerField(
        _("升级到区街巷长办公室（超时后分钟）"), default=60
    )
    duplicate_radius_m = models.PositiveIntegerField(_("疑似重复：距离（米）"), default=100)
    duplicate_window_hours = models.PositiveIntegerField(_("疑似重复：时间（小时）"), default=72)

    class Meta:
        verbose_name = _("区级规则")
        verbose_name_plural = _("区级规则")

    def __str__(self) -> str:
        return str(self.district)


class WhistleRule(models.Model):
    """Time limits of a summons for one kind of whistle in one district."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("区"),
        on_delete=models.CASCADE,
        related_name="whistle_rules",
        limit_choices_to=DISTRICTS,
    )
    kind = models.CharField(_("哨类"), max_length=16, choices=WhistleKind.choices)
    acknowledge_within = models.PositiveIntegerField(
        _("签收时限"), default=10, validators=[MinValueValidator(1)]
    )
    acknowledge_unit = models.CharField(
        _("签收时限单位"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )
    arrive_within = models.PositiveIntegerField(
        _("到场报到时限"), default=30, validators=[MinValueValidator(1)]
    )
    arrive_unit = models.CharField(
        _("到场报到时限单位"),
        max_length=20,
        choices=DurationUnit.choices,
        default=DurationUnit.NATURAL_MINUTES,
    )

    class Meta:
        verbose_name = _("吹哨时限")
        verbose_name_plural = _("吹哨时限")
        ordering = ["district__code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["district", "kind"], name="whistle_rule_unique_kind")
        ]

    def __str__(self) -> str:
        return f"{self.district} · {self.get_kind_display()}"


class CalendarYear(models.Model):
    """A year whose official schedule of holidays and moved workdays has been entered here.

    The calendar package knows the years up to its release; for a later year a deployment
    enters the State Council's schedule as CalendarDay rows and marks the year complete.
    """

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("区"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_years",
        limit_choices_to=DISTRICTS,
        help_text=_("留空表示全市通用"),
    )
    year = models.PositiveIntegerField(_("年份"), validators=[MinValueValidator(2000)])
    source = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("已录入的年度日历")
        verbose_name_plural = _("已录入的年度日历")
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "year"], name="calendar_year_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}" + (f" · {self.district}" if self.district_id else "")


class CalendarDay(models.Model):
    """A day whose status differs from the usual week: a holiday, or a moved workday (调休)."""

    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("区"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_days",
        limit_choices_to=DISTRICTS,
        help_text=_("留空表示全市通用"),
    )
    date = models.DateField(_("日期"))
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("说明"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "date"], name="calendar_day_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        state = _("工作日") if self.is_workday else _("休息日")
        return f"{self.date} {state} {self.name}".strip()
