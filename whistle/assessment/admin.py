"""Admin: schemes, component scores, the chiefs' patrol requirements and the hotline's
weights are entered here; records, cells, scores and appeals are derived or go through the
actions, so the admin only shows them."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from whistle.assessment.editing import rescore_from
from whistle.assessment.models import (
    Appeal,
    ClosedPeriod,
    ComponentScore,
    DepartmentResult,
    HotlineScheme,
    PatrolRequirement,
    Scheme,
    SchemeComponent,
    SummonsAssessment,
    parse_share,
)
from whistle.organisation.admin_numbers import ModelMinimum
from whistle.organisation.admin_scope import DistrictScoped
from whistle.organisation.models import Jurisdiction


class ReadOnlyAdmin(DistrictScoped, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SchemeComponentFormSet(BaseInlineFormSet):
    """The components as edited together with their scheme: the township evaluation's share
    (the scheme form's, as changed) and the components kept must add up to 1."""

    def clean(self) -> None:
        super().clean()
        try:
            parse_share(self.instance.township_share)
            parse_share(self.instance.stationed_share)
        except ValidationError:
            return  # the scheme form names the unreadable share
        kept = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            if "weight" not in data:
                return  # the row names its own error
            kept.append(data["weight"])
        self.instance.check_shares(kept)


class SchemeComponentInline(ModelMinimum, admin.TabularInline):
    model = SchemeComponent
    formset = SchemeComponentFormSet
    extra = 1


@admin.register(Scheme)
class SchemeAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = [
        "district",
        "name",
        "valid_from",
        "township_share",
        "weight_came",
        "weight_acted",
        "weight_quality",
        "late_mode",
    ]
    list_filter = ["district"]
    inlines = [SchemeComponentInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "district",
                    "name",
                    "name_en",
                    "valid_from",
                    "township_share",
                    "stationed_share",
                    "month_weighting",
                ]
            },
        ),
        (
            _("Weights of the three questions"),
            {"fields": ["weight_came", "weight_acted", "weight_quality"]},
        ),
        (
            _("Did it come"),
            {
                "fields": [
                    "on_time_points",
                    "late_mode",
                    "late_points_per_minute",
                    "late_bands",
                    "late_floor_points",
                    "no_show_points",
                ]
            },
        ),
        (
            _("Did it act"),
            {
                "fields": [
                    "handled_points",
                    "decline_upheld_points",
                    "decline_overruled_deduction",
                    "abandoned_points",
                    "rework_deduction",
                ]
            },
        ),
        (_("How well"), {"fields": ["points_per_star", "resident_share", "unrated_stars"]}),
        (_("Appeals"), {"fields": ["appeal_working_days"]}),
    ]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Rescore what the saved scheme scores, from the earlier of its old and new first
        month, so that the stored scores agree with it (`whistle recompute-scores --check`)."""
        super().save_related(request, form, formsets, change)
        scheme = form.instance
        starts = [scheme.valid_from, form.initial.get("valid_from")]
        rescore_from(scheme.district, min(d for d in starts if d is not None))
        before = form.initial.get("district")
        if before is not None and before != scheme.district_id:
            rescore_from(Jurisdiction.objects.get(pk=before), min(d for d in starts if d))


@admin.register(ComponentScore)
class ComponentScoreAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["department", "component", "period", "score", "source", "entered_at"]
    list_filter = ["district", "component", "period"]
    search_fields = ["department__name", "department__code"]
    readonly_fields = ["entered_at", "entered_by"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.entered_at = timezone.now()
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(ReadOnlyAdmin):
    list_display = ["district", "period", "closed_at", "closed_by"]
    list_filter = ["district"]


@admin.register(SummonsAssessment)
class SummonsAssessmentAdmin(ReadOnlyAdmin):
    list_display = [
        "summons",
        "department",
        "township",
        "month",
        "came",
        "late_minutes",
        "acted",
        "rework_count",
        "rating",
        "total",
        "settled",
        "corrected",
    ]
    list_filter = ["district", "month", "came", "acted", "settled", "corrected"]
    search_fields = ["department__name", "case__reference"]
    list_select_related = ["summons__case", "summons__department", "department", "township"]


@admin.register(DepartmentResult)
class DepartmentResultAdmin(ReadOnlyAdmin):
    list_display = [
        "period",
        "rank",
        "department",
        "records",
        "township_score",
        "total",
        "complete",
        "frozen",
    ]
    list_filter = ["district", "period", "frozen"]
    list_select_related = ["department"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["department", "summons", "part", "status", "filed_at", "ruled_at"]
    list_filter = ["status", "part", "department__district"]
    list_select_related = ["department", "summons__case", "summons__department"]


@admin.register(PatrolRequirement)
class PatrolRequirementAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["district", "role", "every_days", "min_coverage"]
    list_filter = ["district", "role"]


HOTLINE_WEIGHTS = ("response_weight", "resolution_weight", "satisfaction_weight")


class HotlineSchemeForm(forms.ModelForm):
    """The three rates' weights as a person types them: full-width digits, ％ and ／ (as a
    Chinese keyboard gives them) read as 30% or 1/3, and stored so."""

    class Meta:
        model = HotlineScheme
        fields = ["district", "valid_from", *HOTLINE_WEIGHTS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in HOTLINE_WEIGHTS:
            value = cleaned.get(name)
            if isinstance(value, str):
                cleaned[name] = "".join(unicodedata.normalize("NFKC", value).split())
        return cleaned


@admin.register(HotlineScheme)
class HotlineSchemeAdmin(DistrictScoped, admin.ModelAdmin):
    form = HotlineSchemeForm
    list_display = [
        "district",
        "valid_from",
        "response_weight",
        "resolution_weight",
        "satisfaction_weight",
    ]
    list_filter = ["district"]
