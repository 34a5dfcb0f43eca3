"""Who may use the admin, and for which rows.

The admin shows rows as they are stored, without the product's masking and scoping, so it is
held to these rules (docs/security.md, "The admin"); cases, which follow the pages' scope
and masking, are held in whistle.cases.admin:

- Other personal data and the operational record (patrols, notifications, people and their
  roles, tokens) are for superusers only.
- A district's own data (its policy, categories, calendar, deadline classes, chains, import
  mapping, assessment schemes, its places and departments) is read by district staff of that
  district only, and changed only by an administrator of that district, who can neither
  pick nor save another district's rows. Rows of no district (the national calendar, the
  sectors) are read by all staff and changed by superusers.
- A list's filters by a related row (a township, a department, a lane) offer only the rows
  of the person's districts (`ScopedLists`), like the lists and the forms' choices.
- Places, departments and sectors are named in the reader's language (`display_name`) in
  the forms' choices, the lists' columns and the lists' filters; other rows as they name
  themselves.

Superusers and administrators without a district see every district.
"""

from __future__ import annotations

from functools import cache, reduce
from operator import attrgetter, or_
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from whistle.organisation.admin_numbers import ModelMinimum
from whistle.organisation.models import Department, Jurisdiction, Role, RoleAssignment, Sector
from whistle.organisation.scoping import sees_everything

EVERY_DISTRICT_HELP = _(
    "Leave empty only for what applies to every district; choose a district for that "
    "district alone."
)


def is_superuser(person: Any) -> bool:
    return bool(getattr(person, "is_active", False) and getattr(person, "is_superuser", False))


def _district_of(row: RoleAssignment) -> Jurisdiction | None:
    if row.jurisdiction is not None:
        return row.jurisdiction.district
    if row.lane is not None:
        return row.lane.township.district
    if row.department is not None:
        return row.department.district
    return None


def district_codes(person: Any, *, administered: bool = False) -> frozenset[str]:
    """Codes of the districts a person's roles lie in; with `administered`, only those they
    hold the administrator's role for. Read once per request."""
    attribute = "_admin_districts" if administered else "_staff_districts"
    cached = getattr(person, attribute, None)
    if cached is None:
        rows = RoleAssignment.objects.held_by(person).select_related(
            "jurisdiction__parent__parent", "lane__township__parent", "department__district"
        )
        if administered:
            rows = rows.filter(role=Role.ADMINISTRATOR)
        found = (_district_of(row) for row in rows)
        cached = frozenset(d.code for d in found if d is not None)
        setattr(person, attribute, cached)
    return cached


def _within(path: str, codes: frozenset[str]) -> Q:
    code = f"{path}__code__startswith" if path else "code__startswith"
    return reduce(or_, (Q(**{code: c}) for c in sorted(codes)), Q(pk__in=[]))


# Rows that name themselves by their name alone, which has an English form (`display_name`).
NAMED_IN_TWO_LANGUAGES = (Jurisdiction, Department, Sector)


def _shown(obj: Any) -> str:
    """A choice as the reader reads it: a place's, a department's or a sector's name in the
    reader's language; any other row as it names itself."""
    return obj.display_name if isinstance(obj, NAMED_IN_TWO_LANGUAGES) else str(obj)


def _named_with_place(path: str) -> Any:
    """A choice's label preceded by the name of the jurisdiction its `path` leads to."""

    def label(obj: Any) -> str:
        place = obj
        for step in path.split("__"):
            place = getattr(place, step)
        return f"{_shown(place)} · {_shown(obj)}"

    return label


def jurisdiction_path(model: type[Model]) -> str | None:
    """The path from a model to the jurisdiction that places it ("" for a jurisdiction
    itself); None for rows of no place, such as sectors or people."""
    if issubclass(model, Jurisdiction):
        return ""
    for name in ("district", "township", "community"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.related_model is Jurisdiction:
            return name
    for name, inner in (
        ("major", "district"),
        ("scheme", "district"),
        ("chain", "district"),
        ("department", "district"),
    ):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        related = field.related_model
        if isinstance(related, type) and jurisdiction_path(related) == inner:
            return f"{name}__{inner}"
    return None


def _at_path(row: Model, path: str) -> Any:
    """The row `path` leads to from `row` ("" for the row itself), or None where it ends
    early."""
    target: Any = row
    for name in path.split("__") if path else ():
        target = getattr(target, name, None)
        if target is None:
            return None
    return target


def place_limit(person: Any, model: type[Model]) -> Q | None:
    """Which rows of `model` a person's lists may offer: those of their districts (as
    `district_codes` gives them); None for no limit (rows of no place, or a person who sees
    every district)."""
    path = jurisdiction_path(model)
    if path is None or sees_everything(person):
        return None
    return _within(path, district_codes(person))


class DistrictRelatedFilter(admin.RelatedFieldListFilter):
    """A list's filter by a related row (a department, a township, a sector) that offers
    only the rows of the person's districts, each named as the reader reads it (`_shown`):
    the rows listed are the district's, and the filter names no other district's places or
    departments either."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        ordering = self.field_admin_ordering(field, request, model_admin)
        rows = field.related_model._default_manager.complex_filter(field.get_limit_choices_to())
        limit = place_limit(request.user, field.related_model)
        if limit is not None:
            rows = rows.filter(limit)
        if ordering:
            rows = rows.order_by(*ordering)
        key = attrgetter(field.remote_field.get_related_field().attname)
        return [(key(row), _shown(row)) for row in rows]


def _foreign_key(model: type[Model], entry: Any) -> Any:
    """The foreign key a list's column or filter `entry` ("township", "major__district")
    ends in, or None for any other entry (a method's name, a callable, a plain field)."""
    if not isinstance(entry, str):
        return None
    try:
        field = get_fields_from_path(model, entry)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return None
    return field if isinstance(field, ForeignKey) else None


def _named_in_two_languages(model: type[Model], entry: Any) -> bool:
    field = _foreign_key(model, entry)
    return field is not None and issubclass(field.related_model, NAMED_IN_TWO_LANGUAGES)


@cache
def named_column(model: type[Model], path: str) -> Any:
    """A list's column of the place, department or sector at `path`, named in the reader's
    language; headed, sorted and kept on one line as the admin does the field's own column.
    One per column, so that the list knows it again when sorting by it."""
    field = get_fields_from_path(model, path)[-1]

    @admin.display(description=field.verbose_name, ordering=path)
    def column(row: Model) -> Any:
        target = _at_path(row, path)
        if target is None:
            return None
        return format_html('<span class="nowrap">{}</span>', _shown(target))

    column.__name__ = path  # the column's CSS classes, "column-township" and "field-township"
    return column


class ScopedLists:
    """A list's filters by a related row offer only the person's districts' rows
    (`DistrictRelatedFilter`), and its columns and filters of places, departments and
    sectors name them in the reader's language (`named_column`); the other columns and
    filters stay as they are. The related rows of the columns are read with the list."""

    def get_list_filter(self, request: HttpRequest) -> Any:
        entries = super().get_list_filter(request)  # type: ignore[misc]
        model = self.model  # type: ignore[attr-defined]
        scoped: list[Any] = []
        for entry in entries:
            if isinstance(entry, str):
                related = get_fields_from_path(model, entry)[-1].related_model
                if isinstance(related, type) and (
                    jurisdiction_path(related) is not None
                    or issubclass(related, NAMED_IN_TWO_LANGUAGES)
                ):
                    entry = (entry, DistrictRelatedFilter)
            scoped.append(entry)
        return scoped

    def get_list_display(self, request: HttpRequest) -> Any:
        entries = super().get_list_display(request)  # type: ignore[misc]
        model = self.model  # type: ignore[attr-defined]
        return [
            named_column(model, entry) if _named_in_two_languages(model, entry) else entry
            for entry in entries
        ]

    def get_list_select_related(self, request: HttpRequest) -> Any:
        chosen = super().get_list_select_related(request)  # type: ignore[misc]
        if chosen is True:
            return chosen
        model = self.model  # type: ignore[attr-defined]
        entries = super().get_list_display(request)  # type: ignore[misc]
        if chosen is False:
            # Left to itself the admin would join the related rows of its columns, but it
            # no longer takes a named column for one: every such column is joined here,
            # those that may be empty too.
            return [entry for entry in entries if _foreign_key(model, entry)] or False
        named = [entry for entry in entries if _named_in_two_languages(model, entry)]
        return [*chosen, *(path for path in named if path not in chosen)]


class SuperusersOnly(ScopedLists):
    """For admins of personal data and of the operational record; their lists as
    `ScopedLists` shows them."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_view_permission(request, obj)  # type: ignore[misc]
        return allowed and is_superuser(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        allowed: bool = super().has_add_permission(request, *args)  # type: ignore[misc]
        return allowed and is_superuser(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_change_permission(request, obj)  # type: ignore[misc]
        return allowed and is_superuser(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_delete_permission(request, obj)  # type: ignore[misc]
        return allowed and is_superuser(request.user)


class DistrictScoped(ModelMinimum, ScopedLists):
    """For admins of a district's own data; see the module's docstring."""

    # Rows without a place (e.g. the national calendar) are shared: every member of staff
    # reads them, superusers change them.
    shared_rows = False
    # False where even a district's administrator only reads (the places themselves: a
    # changed code would move the district's scope).
    changed_by_district = True

    def _path(self) -> str | None:
        return jurisdiction_path(self.model)  # type: ignore[attr-defined]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        path = self._path()
        if sees_everything(request.user) or path is None:
            return rows
        scope = _within(path, district_codes(request.user))
        if self.shared_rows:
            scope |= Q(**{f"{path}__isnull": True})
        return rows.filter(scope)

    def may_change(self, request: HttpRequest, obj: Any = None) -> bool:
        """Whether this person may write here, and to this row if one is given."""
        person = request.user
        if sees_everything(person):
            return True
        codes = district_codes(person, administered=True)
        path = self._path()
        if not codes or not self.changed_by_district or path is None:
            return False
        if obj is None:
            return True
        place = _at_path(obj, path)
        return place is not None and any(place.code.startswith(c) for c in codes)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        allowed: bool = super().has_add_permission(request, *args)  # type: ignore[misc]
        return allowed and self.may_change(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_change_permission(request, obj)  # type: ignore[misc]
        return allowed and self.may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_delete_permission(request, obj)  # type: ignore[misc]
        return allowed and self.may_change(request, obj)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        # Another district's row is as absent as a row that never was: 404, as on the pages.
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404
        return obj

    def _limit(self, request: HttpRequest, db_field: Any, field: Any) -> Any:
        if field is None:
            return field
        if issubclass(db_field.related_model, NAMED_IN_TWO_LANGUAGES):
            field.label_from_instance = _shown
        path = jurisdiction_path(db_field.related_model)
        everything = sees_everything(request.user)
        codes = frozenset() if everything else district_codes(request.user, administered=True)
        if path and (everything or len(codes) > 1):
            # Rows of several districts look alike ("事件 05 街面秩序" in each): each choice
            # names its place.
            field.queryset = field.queryset.select_related(path)
            field.label_from_instance = _named_with_place(path)
        own = self._path()
        may_be_empty = db_field.name == self._optional_district()
        if everything:
            if may_be_empty:
                field.help_text = EVERY_DISTRICT_HELP
            return field
        if path is not None:
            field.queryset = field.queryset.filter(_within(path, codes))
        if own and db_field.name == own.split("__")[0]:
            # Empty would mean every district: a district's administrator picks theirs,
            # already chosen, and with no empty choice beside it, when it is the only one.
            field.required = True
            if may_be_empty:
                field.help_text = _("It applies to the chosen district only.")
            only = list(field.queryset.complex_filter(db_field.get_limit_choices_to())[:2])
            if len(only) == 1:
                field.initial = only[0].pk
                field.empty_label = None
        return field

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        return self._limit(request, db_field, field)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        return self._limit(request, db_field, field)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form offers only the person's districts; this holds also for a forged post.
        if not self.may_change(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def _optional_district(self) -> str | None:
        """The row's own district field when it may be left empty, which means every
        district (a calendar day, an entered year); None for the others."""
        path = self._path()
        if not path or "__" in path:
            return None
        field = self.model._meta.get_field(path)  # type: ignore[attr-defined]
        return path if field.null else None

    def _say_every_district(self, request: HttpRequest, obj: Any) -> None:
        """After a row is saved with its optional district left empty, say that it
        applies to every district."""
        name = self._optional_district()
        if name is not None and getattr(obj, name) is None:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("The %(name)s “%(row)s” applies to every district: no district was chosen.")
                % {"name": self.model._meta.verbose_name, "row": obj},  # type: ignore[attr-defined]
                messages.WARNING,
            )

    def response_add(self, request: HttpRequest, obj: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().response_add(request, obj, *args, **kwargs)  # type: ignore[misc]
        self._say_every_district(request, obj)
        return response

    def response_change(self, request: HttpRequest, obj: Any) -> Any:
        response = super().response_change(request, obj)  # type: ignore[misc]
        self._say_every_district(request, obj)
        return response
