from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from whistle.policies.calendar import (
    PACKAGE_FIRST_YEAR,
    PACKAGE_LAST_YEAR,
    horizon_warnings,
    join_sentences,
)
from whistle.policies.models import (
    CalendarDay,
    CalendarYear,
    Category,
    DistrictPolicy,
    MajorClass,
    WhistleRule,
)


@admin.register(MajorClass)
class MajorClassAdmin(admin.ModelAdmin):
    list_display = ["district", "kind", "code", "name"]
    list_filter = ["district", "kind"]
    search_fields = ["name", "code"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "major",
        "code",
        "acknowledge_within",
        "acknowledge_unit",
        "arrive_within",
        "arrive_unit",
        "resolve_within",
        "resolve_unit",
        "is_active",
    ]
    list_filter = ["major__district", "major__kind", "major"]
    search_fields = ["name", "keywords"]
    filter_horizontal = ["responsible_sectors"]


@admin.register(DistrictPolicy)
class DistrictPolicyAdmin(admin.ModelAdmin):
    list_display = ["district", "working_periods", "checkin_radius_m", "lane_snap_m"]


@admin.register(WhistleRule)
class WhistleRuleAdmin(admin.ModelAdmin):
    list_display = [
        "district",
        "kind",
        "acknowledge_within",
        "acknowledge_unit",
        "arrive_within",
        "arrive_unit",
    ]
    list_filter = ["district", "kind"]


class CalendarWarningsMixin:
    """Shows, where years and days are entered, which years the calendar knows and what is
    missing, so that the next year's schedule is entered in time."""

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        if request.method == "GET":
            messages.info(
                request,
                _("The calendar package knows the official schedules of %(first)s to %(last)s.")
                % {"first": PACKAGE_FIRST_YEAR, "last": PACKAGE_LAST_YEAR},
            )
            for warning in horizon_warnings():
                messages.warning(request, join_sentences(warning.message, warning.hint))
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    list_display = ["year", "district", "source", "entered_days"]
    list_filter = ["district"]
    search_fields = ["source"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        return super().get_queryset(request).select_related("district")

    @admin.display(description=_("days entered"))
    def entered_days(self, obj: CalendarYear) -> int:
        # One query per row: a changelist holds a few dozen years at most.
        days = CalendarDay.objects.filter(date__year=obj.year)
        if obj.district_id is None:
            return days.filter(district__isnull=True).count()
        return days.filter(district_id=obj.district_id).count()


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    list_display = ["date", "weekday", "is_workday", "name", "district"]
    list_filter = ["is_workday", "district"]
    search_fields = ["name"]
    date_hierarchy = "date"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarDay]:
        return super().get_queryset(request).select_related("district")

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])
