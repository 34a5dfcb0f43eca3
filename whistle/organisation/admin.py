from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whistle.organisation.admin_people import PicksPeople, held, labelled_person
from whistle.organisation.admin_scope import DistrictScoped, SuperusersOnly, is_superuser
from whistle.organisation.models import (
    CentreMembership,
    Department,
    GridCell,
    Jurisdiction,
    Lane,
    Person,
    Role,
    RoleAssignment,
    Sector,
)
from whistle.organisation.staffing import announce_staffing_changed


def shared_lanes(saved: list[Any]) -> list[str]:
    """A warning for each lane that a lane-chief role among the rows just `saved` leaves with
    more than one lane chief. A lane may have several, but a chief given a lane as a handover
    leaves the earlier one's role running unless it is removed: the warning says so."""
    lanes = {
        row.lane_id
        for row in saved
        if isinstance(row, RoleAssignment) and row.role == Role.LANE_CHIEF and row.lane_id
    }
    chiefs: dict[int, list[RoleAssignment]] = {}
    for row in (
        RoleAssignment.objects.filter(role=Role.LANE_CHIEF, lane_id__in=lanes)
        .select_related("lane", "person")
        .order_by("lane_id", "pk")
    ):
        chiefs.setdefault(row.lane_id, []).append(row)  # type: ignore[arg-type]
    return [
        gettext(
            "%(lane)s now has %(count)s lane chiefs: %(names)s. A lane may have several; if "
            "this is a handover, remove the earlier chief's role."
        )
        % {
            "lane": rows[0].lane,
            "count": len(rows),
            "names": gettext(", ").join(row.person.display_name for row in rows),
        }
        for rows in chiefs.values()
        if len(rows) > 1
    ]


class AnnouncesStaffing:
    """Every change this admin makes to people or their roles (a person's page, the roles'
    page, a lane's chiefs and stewards, a township's centre: saving a form with its inlines,
    deleting one row or a selection) is announced in the same transaction
    (`announce_staffing_changed`): a role ended or an account deactivated here may leave a
    pending appeal with nobody who may rule on it, and a role given may give one someone."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: Any) -> None:
        # The admin saves the row (`save_model`) and then its inlines here, in one transaction.
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        announce_staffing_changed(trigger="admin", by=request.user)
        saved = (
            [form.instance]
            + [row for formset in formsets for row in getattr(formset, "new_objects", [])]
            + [
                row
                for formset in formsets
                for row, _fields in getattr(formset, "changed_objects", [])
            ]
        )
        for warning in shared_lanes(saved):
            self.message_user(request, warning, messages.WARNING)  # type: ignore[attr-defined]

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            super().delete_model(request, obj)  # type: ignore[misc]
            announce_staffing_changed(trigger="admin", by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            super().delete_queryset(request, queryset)  # type: ignore[misc]
            announce_staffing_changed(trigger="admin", by=request.user)


@admin.register(Jurisdiction)
class JurisdictionAdmin(DistrictScoped, admin.ModelAdmin):
    changed_by_district = False
    list_display = ["code", "name", "name_en", "level", "form", "parent"]
    list_filter = ["level", "form"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent"]


class LaneRoleForm(forms.ModelForm):
    takes_over = forms.BooleanField(
        label=_("takes over"),
        required=False,
        help_text=_(
            "For a lane chief who replaces the present one: the earlier lane chief's role ends "
            "when you save."
        ),
    )


def _appointed(row: RoleAssignment) -> bool:
    """Whether a lane chief's role on the lane comes with a running appointment by a chiefs'
    office (the patrols app's `ChiefAppointment`, reached by its relation to the person so
    that this app does not import it): only that office's own action ends it."""
    return row.lane_id is not None and bool(
        row.person.chief_appointments.filter(
            lane_id=row.lane_id, role=row.role, ends_on__isnull=True
        ).exists()
    )


class LaneChiefsFormSet(BaseInlineFormSet):
    """A lane's chiefs and stewards. A lane chief's row ticked "takes over" hands the lane
    over in the same save: every other lane chief's row of the lane is deleted with it (the
    admin's history names them). `handovers` keeps (the new chief's row, the earlier ones)."""

    handovers: list[tuple[RoleAssignment, list[RoleAssignment]]]

    def clean(self) -> None:
        self.handovers = []
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        chiefs = [form for form in kept if form.cleaned_data.get("role") == Role.LANE_CHIEF]
        takers = [form for form in kept if form.cleaned_data.get("takes_over")]
        for form in takers:
            if form not in chiefs:
                form.add_error("takes_over", _("Only a lane chief takes over from a lane chief."))
        if len(takers) > 1:
            raise ValidationError(_("One lane chief takes over at a time."))
        if len(takers) == 1 and takers[0] in chiefs:
            earlier = [form for form in chiefs if form is not takers[0] and form.instance.pk]
            appointed = [form for form in earlier if _appointed(form.instance)]
            for form in appointed:
                said = gettext(
                    "%(person)s is lane chief here by an appointment of the chiefs' office, "
                    "which only that office ends: the assessment of chiefs counts the days of "
                    "the appointment."
                ) % {"person": form.instance.person.display_name}
                form.add_error(
                    "person",
                    ValidationError(
                        format_html(
                            '{} <a href="{}">{}</a>',
                            said,
                            reverse("lanes:appointments", args=[form.instance.lane_id]),
                            gettext("Open the lane's chiefs page"),
                        )
                    ),
                )
            if earlier and not appointed:
                for form in earlier:
                    form.cleaned_data["DELETE"] = True
                # Which rows go is worked out again from the marks just made.
                self.__dict__.pop("_deleted_form_indexes", None)
                self.handovers.append((takers[0].instance, [form.instance for form in earlier]))
        super().clean()


class LaneRoleInline(PicksPeople, SuperusersOnly, admin.TabularInline):
    model = RoleAssignment
    form = LaneRoleForm
    formset = LaneChiefsFormSet
    fk_name = "lane"
    fields = ["person", "role", "public_phone", "takes_over"]
    autocomplete_fields = ["person"]
    # The search of the roles' admin (`RoleAssignmentAdmin`).
    people_url_name = "organisation_roleassignment_people"
    extra = 0
    verbose_name = _("chief or steward")
    verbose_name_plural = _("chiefs and stewards")


@admin.register(Lane)
class LaneAdmin(AnnouncesStaffing, DistrictScoped, admin.ModelAdmin):
    list_display = ["name", "township", "community", "length_m"]
    list_filter = ["township"]
    search_fields = ["name"]
    autocomplete_fields = ["township", "community"]
    readonly_fields = ["length_m"]
    inlines = [LaneRoleInline]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        # The lane's people are personal data: superusers only.
        return self.inlines if is_superuser(request.user) else []

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: Any) -> None:
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for chief, earlier in getattr(formset, "handovers", []):
                text = gettext("%(person)s takes over as lane chief of %(lane)s from %(earlier)s.")
                said = {
                    "person": chief.person.display_name,
                    "lane": form.instance,
                    "earlier": gettext(", ").join(row.person.display_name for row in earlier),
                }
                self.message_user(request, text % said, messages.SUCCESS)


@admin.register(GridCell)
class GridCellAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["code", "community"]
    search_fields = ["code"]
    autocomplete_fields = ["community"]


@admin.register(Sector)
class SectorAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Department)
class DepartmentAdmin(DistrictScoped, admin.ModelAdmin):
    list_display = ["name", "name_en", "kind", "sector", "district", "is_active"]
    list_filter = ["kind", "sector", "district"]
    search_fields = ["name", "name_en", "code"]
    filter_horizontal = ["serves"]


@admin.register(CentreMembership)
class CentreMembershipAdmin(AnnouncesStaffing, SuperusersOnly, admin.ModelAdmin):
    list_display = ["township", "department", "role"]
    list_filter = ["role", "township"]
    autocomplete_fields = ["township", "department", "people"]


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "person"
    fields = ["role", "jurisdiction", "lane", "department", "public_phone"]
    autocomplete_fields = ["jurisdiction", "lane", "department"]
    extra = 0


@admin.register(Person)
class PersonAdmin(AnnouncesStaffing, SuperusersOnly, UserAdmin):
    list_display = ["username", "name", "phone", "is_staff", "is_active"]
    search_fields = ["username", "name", "phone"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Contact"), {"fields": ("name", "phone")}),
    )
    inlines = [RoleInline]


class _Named:
    """The object as the admin's messages name it (`text`), otherwise the object itself."""

    def __init__(self, obj: Any, text: str) -> None:
        self._obj = obj
        self._text = text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __str__(self) -> str:
        return self._text


def role_named(row: RoleAssignment) -> _Named:
    """A role as the message that it was added or changed names it: "巷长 · 人民市场东巷，由
    何志强 · hezhiqiang · 东城区（…）担任", the person told apart as the picker tells them."""
    text = gettext("%(role)s, held by %(person)s") % {
        "role": held(row),
        "person": labelled_person(row.person_id),
    }
    return _Named(row, text)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(PicksPeople, AnnouncesStaffing, SuperusersOnly, admin.ModelAdmin):
    list_display = ["person_shown", "role", "jurisdiction", "lane", "department"]
    list_select_related = ["person", "jurisdiction", "lane", "department"]
    list_filter = ["role"]
    search_fields = ["person__username", "person__name"]
    autocomplete_fields = ["person", "jurisdiction", "lane", "department"]

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        return super().response_add(request, role_named(obj), post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        return super().response_change(request, role_named(obj))
