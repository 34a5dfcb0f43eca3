from datetime import MAXYEAR, MINYEAR
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from whistle.organisation.admin_numbers import ModelMinimum
from whistle.organisation.admin_scope import DistrictScoped
from whistle.organisation.models import Jurisdiction
from whistle.policies.calendar import (
    PACKAGE_FIRST_YEAR,
    PACKAGE_LAST_YEAR,
    calendar_change,
    horizon_warnings,
    join_sentences,
    lacks_rest_days,
    pointless_workday,
)
from whistle.policies.chains import check_chain, routine_acknowledgement, shortest_time
from whistle.policies.models import (
    DEFAULT_HOTLINE_DEADLINE_CLASSES,
    AcknowledgementChain,
    AcknowledgementStep,
    CalendarDay,
    CalendarYear,
    Category,
    CategoryAttribute,
    DistrictPolicy,
    HotlineDeadlineClass,
    HotlineImportMapping,
    MajorClass,
    WhistleKind,
    WhistleRule,
    time_limit_text,
    within_calendar_years,
)
from whistle.policies.signals import announce_calendar_entered


@admin.register(MajorClass)
class MajorClassAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["district", "kind", "code", "name", "name_en"]
    list_filter = ["district", "kind"]
    search_fields = ["name", "name_en", "code"]


class CategoryAttributeInline(ModelMinimum, admin.TabularInline):
    """The questions a resident's request of the category answers (Open311 attributes)."""

    model = CategoryAttribute
    extra = 0
    fields = [
        "order",
        "code",
        "description",
        "datatype",
        "required",
        "datatype_description",
        "values",
        "is_active",
    ]


def _label(name: str) -> Any:
    """A column's header: the field's own name."""
    field = Category._meta.get_field(name)
    assert isinstance(field, Field)
    return field.verbose_name


@admin.register(Category)
class CategoryAdmin(DistrictScoped, admin.ModelAdmin):
    """The list fits beside the admin's menu and filters at 1366 px: both names in one
    column, each time limit with its unit in one."""

    inlines = [CategoryAttributeInline]
    list_display = ["names", "major_class", "code", "acknowledgement", "resolution", "is_active"]
    list_select_related = ["major"]
    list_filter = ["major__district", "major__kind", "major"]
    search_fields = ["name", "name_en", "keywords", "keywords_en"]
    filter_horizontal = ["responsible_sectors"]

    @admin.display(description=_label("name"), ordering="name")
    def names(self, obj: Category) -> str:
        """The name, with the English name below it when the district gave one."""
        if not obj.name_en:
            return obj.name
        return format_html('{}<br><span class="quiet">{}</span>', obj.name, obj.name_en)

    @property
    def media(self) -> forms.Media:
        return super().media + forms.Media(css={"all": ["whistle/admin-list.css"]})

    @admin.display(description=_label("major"), ordering="major")
    def major_class(self, obj: Category) -> str:
        # As a method, not the field: the admin keeps a related row's column on one line.
        return str(obj.major)

    @admin.display(description=_label("acknowledge_within"), ordering="acknowledge_within")
    def acknowledgement(self, obj: Category) -> str:
        return time_limit_text(obj.acknowledge_within, obj.acknowledge_unit)

    @admin.display(description=_label("resolve_within"), ordering="resolve_within")
    def resolution(self, obj: Category) -> str:
        return time_limit_text(obj.resolve_within, obj.resolve_unit)


@admin.register(DistrictPolicy)
class DistrictPolicyAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["district", "working_periods", "checkin_radius_m", "lane_snap_m"]


_CHAIN_FIRST = _("Shorten the district's acknowledgement chain first.")


class WhistleRuleForm(forms.ModelForm):
    """A routine whistle's acknowledgement limit may not fall below the district's
    acknowledgement chain: the chain must always finish before the deadline."""

    class Meta:
        model = WhistleRule
        fields = [
            "district",
            "kind",
            "acknowledge_within",
            "acknowledge_unit",
            "arrive_within",
            "arrive_unit",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        district = cleaned.get("district")
        amount = cleaned.get("acknowledge_within")
        unit = cleaned.get("acknowledge_unit")
        if cleaned.get("kind") != WhistleKind.ROUTINE or not district or not amount or not unit:
            return cleaned
        waits = list(
            AcknowledgementStep.objects.filter(
                chain__district=district, chain__is_active=True
            ).values_list("wait_minutes", flat=True)
        )
        try:
            check_chain(waits, shortest_time(amount, unit))
        except ValidationError as exc:
            raise ValidationError({"acknowledge_within": [*exc.messages, _CHAIN_FIRST]}) from None
        return cleaned


@admin.register(WhistleRule)
class WhistleRuleAdmin(DistrictScoped, admin.ModelAdmin):
    form = WhistleRuleForm
    list_display = [
        "district",
        "kind",
        "acknowledge_within",
        "acknowledge_unit",
        "arrive_within",
        "arrive_unit",
    ]
    list_filter = ["district", "kind"]


class StepFormSet(forms.BaseInlineFormSet):
    """The steps of a chain, checked together: their waits must add up to less than the
    routine acknowledgement limit of the district."""

    def clean(self) -> None:
        super().clean()
        chain: AcknowledgementChain = self.instance
        if any(form.errors for form in self.forms) or chain.district_id is None:
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        kept.sort(key=lambda data: data.get("position") or 0)
        waits = [data["wait_minutes"] for data in kept if data.get("wait_minutes")]
        check_chain(waits, routine_acknowledgement(chain.district))


class StepInline(ModelMinimum, admin.TabularInline):
    model = AcknowledgementStep
    formset = StepFormSet
    extra = 1
    fields = ["position", "wait_minutes", "target"]


@admin.register(AcknowledgementChain)
class AcknowledgementChainAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["district", "is_active", "when_limit_shorter", "steps_text"]
    inlines = [StepInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AcknowledgementChain]:
        return super().get_queryset(request).select_related("district").prefetch_related("steps")

    @admin.display(description=_("steps"))
    def steps_text(self, obj: AcknowledgementChain) -> str:
        return " → ".join(
            f"{step.get_target_display()} (+{step.wait_minutes})" for step in obj.steps.all()
        )


class HotlineDeadlineClassForm(forms.ModelForm):
    """One name, one class: a district's class may not take the name of another of its
    classes, its own rows or the built-in classes it keeps (named in any of the product's
    languages), so that the order form and an export's urgency column name one class."""

    class Meta:
        model = HotlineDeadlineClass
        fields = [
            "district",
            "code",
            "name",
            "aliases",
            "respond_within",
            "respond_unit",
            "resolve_within",
            "resolve_unit",
            "is_default",
            "position",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        district = cleaned.get("district")
        name = (cleaned.get("name") or "").strip()
        code = cleaned.get("code") or ""
        if not district or not name:
            return cleaned
        others = HotlineDeadlineClass.objects.filter(district=district).exclude(code=code)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        taken = {row.name.strip().casefold(): row.code for row in others}
        own_codes = set(
            HotlineDeadlineClass.objects.filter(district=district).values_list("code", flat=True)
        )
        if self.instance.pk is not None:
            own_codes.discard(self.instance.code)
        for built_in, built_in_name, *_rest in DEFAULT_HOTLINE_DEADLINE_CLASSES:
            if built_in in own_codes or built_in == code:
                continue
            for language, _language_name in settings.LANGUAGES:
                with translation.override(language):
                    taken.setdefault(str(built_in_name).casefold(), built_in)
        clash = taken.get(name.casefold())
        if clash is not None:
            raise ValidationError(
                {
                    "name": _(
                        "The district already has a deadline class named %(name)s "
                        "(%(code)s): give this one another name."
                    )
                    % {"name": name, "code": clash}
                }
            )
        return cleaned


@admin.register(HotlineDeadlineClass)
class HotlineDeadlineClassAdmin(DistrictScoped, admin.ModelAdmin):
    form = HotlineDeadlineClassForm
    list_display = [
        "name",
        "district",
        "code",
        "respond_within",
        "respond_unit",
        "resolve_within",
        "resolve_unit",
        "is_default",
    ]
    list_filter = ["district"]
    search_fields = ["name", "code", "aliases"]


@admin.register(HotlineImportMapping)
class HotlineImportMappingAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["district"]


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
                messages.warning(
                    request, join_sentences(warning.message, warning.advice(in_admin=True))
                )
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


CalendarRow = CalendarYear | CalendarDay


def _scope(row: CalendarRow) -> tuple[Jurisdiction | None, int]:
    year = row.year if isinstance(row, CalendarYear) else row.date.year
    return row.district, year


# A calendar row's district and year, and for a calendar day what became of it.
_Entry = tuple[tuple[Jurisdiction | None, int], dict[str, Any] | None]


def _where(row: CalendarRow) -> tuple[int | None, Any]:
    return row.district_id, row.date if isinstance(row, CalendarDay) else row.year


def _entry(row: CalendarRow, change: str) -> _Entry:
    day = calendar_change(row, change) if isinstance(row, CalendarDay) else None
    return _scope(row), day


class CalendarEnteredMixin:
    """After a calendar year or day is saved or deleted here, the deadlines computed on an
    assumed calendar of that year are computed again (whistle.policies.signals), in the same
    transaction, and the admin says what changed: after its own message that the row was
    added, changed or deleted, once the page's work is done."""

    REPORTS = "_calendar_entered_reports"

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]
        return self._then_report(request, response)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().delete_view(request, *args, **kwargs)  # type: ignore[misc]
        return self._then_report(request, response)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # The list's action "delete selected".
        response = super().changelist_view(request, *args, **kwargs)  # type: ignore[misc]
        return self._then_report(request, response)

    def _then_report(self, request: HttpRequest, response: Any) -> Any:
        for report in request.__dict__.pop(self.REPORTS, []):
            messages.info(request, report)
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change:
            before = type(obj).objects.filter(pk=obj.pk).select_related("district").first()
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        entries = [_entry(obj, "changed" if before is not None else "added")]
        if before is not None and _where(before) != _where(obj):
            entries = [_entry(before, "removed"), _entry(obj, "added")]
        self._announce(request, entries)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        entries = [_entry(obj, "removed")]
        super().delete_model(request, obj)  # type: ignore[misc]
        self._announce(request, entries)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        entries = [_entry(row, "removed") for row in queryset.select_related("district")]
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        self._announce(request, entries)

    def _announce(self, request: HttpRequest, entries: list[_Entry]) -> None:
        by_district: dict[Jurisdiction | None, tuple[set[int], list[dict[str, Any]]]] = {}
        for (district, year), day in entries:
            years, changes = by_district.setdefault(district, (set(), []))
            years.add(year)
            if day is not None:
                changes.append(day)
        for district, (years, changes) in by_district.items():
            reports = announce_calendar_entered(
                years=years,
                district=district,
                trigger="admin",
                by=request.user.get_username(),
                changes=changes,
            )
            request.__dict__.setdefault(self.REPORTS, []).extend(reports)


class CalendarYearForm(forms.ModelForm):
    """A year the calendar package does not know is entered only once its holidays are: an
    entered year without a single rest day would count New Year's Day and the Spring
    Festival as working days (docs/calendar.md)."""

    class Meta:
        model = CalendarYear
        fields = ["district", "year", "source"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        year = cleaned.get("year")
        if not isinstance(year, int) or not within_calendar_years(year):
            return cleaned  # the year's own check says what is wrong with it
        district = cleaned.get("district")
        if lacks_rest_days(year, district):
            if district is None:
                message = _(
                    "No rest day of %(year)s is entered for every district yet: enter the "
                    "year's public holidays and moved workdays under Calendar days first, "
                    "then the year. Without them New Year's Day and the Spring Festival "
                    "would count as working days."
                )
            else:
                message = _(
                    "No rest day of %(year)s is entered for %(district)s or for every "
                    "district yet: enter the year's public holidays and moved workdays "
                    "under Calendar days first, then the year. Without them New Year's Day "
                    "and the Spring Festival would count as working days."
                )
            raise ValidationError(message % {"year": year, "district": district})
        return cleaned


@admin.register(CalendarYear)
class CalendarYearAdmin(
    DistrictScoped, CalendarEnteredMixin, CalendarWarningsMixin, admin.ModelAdmin
):
    form = CalendarYearForm
    shared_rows = True
    list_display = ["year", "district", "source", "entered_days"]
    list_filter = ["district"]
    search_fields = ["source"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        return super().get_queryset(request).select_related("district")

    @admin.display(description=_("days entered"))
    def entered_days(self, obj: CalendarYear) -> int:
        # One query per row: a changelist holds a few dozen years at most. A year no date
        # can hold (a row written before years were bounded) has no days.
        if not MINYEAR <= obj.year <= MAXYEAR:
            return 0
        days = CalendarDay.objects.filter(date__year=obj.year)
        if obj.district_id is None:
            return days.filter(district__isnull=True).count()
        return days.filter(district_id=obj.district_id).count()


class CalendarDayForm(forms.ModelForm):
    """A working day entered on a weekday that is a working day anyway changes nothing: a
    moved workday (调休) is a Saturday or Sunday, or a day that is otherwise a rest day (a
    district working on a city-wide holiday)."""

    class Meta:
        model = CalendarDay
        fields = ["district", "date", "is_workday", "name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day = cleaned.get("date")
        if not cleaned.get("is_workday") or day is None or not within_calendar_years(day.year):
            return cleaned
        district = cleaned.get("district")
        if pointless_workday(day, district):
            raise ValidationError(
                {
                    "is_workday": _(
                        "%(date)s is a %(weekday)s and a working day already: a working day "
                        "entered on it changes nothing. A moved workday is a Saturday or "
                        "Sunday, or a day that is otherwise a rest day."
                    )
                    % {"date": day.isoformat(), "weekday": WEEKDAYS[day.weekday()]}
                }
            )
        return cleaned


@admin.register(CalendarDay)
class CalendarDayAdmin(
    DistrictScoped, CalendarEnteredMixin, CalendarWarningsMixin, admin.ModelAdmin
):
    form = CalendarDayForm
    shared_rows = True
    list_display = ["date", "weekday", "is_workday", "name", "district"]
    list_filter = ["is_workday", "district"]
    search_fields = ["name"]
    date_hierarchy = "date"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarDay]:
        return super().get_queryset(request).select_related("district")

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])
