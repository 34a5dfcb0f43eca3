from django.contrib import admin

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


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "district", "source"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name", "district"]
    list_filter = ["is_workday", "district"]
    date_hierarchy = "date"
