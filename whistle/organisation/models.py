"""The city as the mechanism sees it: jurisdictions, lanes, grid cells, departments, people.

Official codes nest: a township's 9-digit code starts with its district's 6-digit code
(GB/T 2260), a community's 12-digit code with its township's, a grid cell's 15-digit code
with its community's. Scoping queries rely on that prefix property.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from whistle.organisation import geo
from whistle.organisation.names import english_name_field, in_reader_language


def _validate_polygon(value: Any) -> None:
    if value in (None, {}):
        return
    try:
        geo.polygon_rings(value)
    except geo.GeometryError as exc:
        raise ValidationError(
            _("The boundary is not a valid GeoJSON polygon: %(error)s"), params={"error": exc}
        ) from exc


def _validate_line(value: Any) -> None:
    try:
        geo.line_positions(value)
    except geo.GeometryError as exc:
        raise ValidationError(
            _("The centre line is not a valid GeoJSON LineString: %(error)s"), params={"error": exc}
        ) from exc


BBOX_FIELDS = ("min_lon", "min_lat", "max_lon", "max_lat")


class BoundingBoxMixin(models.Model):
    """A geometry's extent, kept beside it so spatial look-ups can filter in the database."""

    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def set_bbox(self, geometry: Any) -> None:
        if geometry:
            self.min_lon, self.min_lat, self.max_lon, self.max_lat = geo.geometry_bbox(geometry)
        else:
            self.min_lon = self.min_lat = self.max_lon = self.max_lat = None

    def derive_fields(self) -> None:
        """Compute what the model keeps beside its geometry (save() does it; bulk_create
        callers must call it themselves)."""
        self.set_bbox(getattr(self, "boundary", None))


class Jurisdiction(BoundingBoxMixin):
    """A node of the administrative tree: city → district → township → community."""

    class Level(models.TextChoices):
        CITY = "city", _("city")
        DISTRICT = "district", _("district")
        TOWNSHIP = "township", _("township")
        COMMUNITY = "community", _("community")

    class Form(models.TextChoices):
        """What kind of township or community it is."""

        NONE = "", _("—")
        STREET_OFFICE = "street_office", _("street office")
        TOWN = "town", _("town")
        COMMUNITY = "community", _("community")
        VILLAGE = "village", _("village")

    CODE_LENGTHS = {
        Level.CITY: 6,
        Level.DISTRICT: 6,
        Level.TOWNSHIP: 9,
        Level.COMMUNITY: 12,
    }
    PARENT_LEVEL = {
        Level.DISTRICT: Level.CITY,
        Level.TOWNSHIP: Level.DISTRICT,
        Level.COMMUNITY: Level.TOWNSHIP,
    }

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    form = models.CharField(_("form"), max_length=16, choices=Form.choices, blank=True)
    code = models.CharField(
        _("official code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3}(\d{3})?)?$", _("A code has 6, 9 or 12 digits"))],
        error_messages={"unique": _("Another area already has this official code.")},
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = english_name_field()
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    boundary = models.JSONField(
        _("boundary (GeoJSON)"), null=True, blank=True, validators=[_validate_polygon]
    )

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_fields()
        if kwargs.get("update_fields") is not None and "boundary" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], *BBOX_FIELDS}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        expected = self.CODE_LENGTHS.get(self.Level(self.level)) if self.level else None
        if expected and self.code and len(self.code) != expected:
            raise ValidationError(
                {
                    "code": _("A %(level)s code has %(n)s digits")
                    % {"level": self.get_level_display(), "n": expected}
                }
            )
        parent_level = self.PARENT_LEVEL.get(self.Level(self.level)) if self.level else None
        if parent_level:
            if self.parent is None:
                raise ValidationError({"parent": _("A parent jurisdiction is required")})
            if self.parent.level != parent_level:
                raise ValidationError({"parent": _("The parent is at the wrong level")})
            if self.level != self.Level.DISTRICT and not self.code.startswith(self.parent.code):
                raise ValidationError({"code": _("The code must start with the parent's code")})

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)

    @property
    def district(self) -> Jurisdiction | None:
        node: Jurisdiction | None = self
        while node is not None and node.level != self.Level.DISTRICT:
            node = node.parent
        return node

    def contains_point(self, lon: float, lat: float) -> bool:
        return bool(self.boundary) and geo.polygon_contains(self.boundary, (lon, lat))


class Lane(BoundingBoxMixin):
    """A street or alley (街巷) with its centre line and the people who answer for it."""

    name = models.CharField(_("name"), max_length=100)
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="lanes",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    community = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="community_lanes",
        null=True,
        blank=True,
        limit_choices_to={"level": Jurisdiction.Level.COMMUNITY},
    )
    centre_line = models.JSONField(_("centre line (GeoJSON)"), validators=[_validate_line])
    length_m = models.FloatField(_("length (m)"), editable=False, default=0.0)
    checklist = models.JSONField(
        _("patrol checklist"),
        default=list,
        blank=True,
        help_text=_('Items checked on each patrol; empty means the "ten noes" list'),
    )

    class Meta:
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")
        ordering = ["township__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "name"],
                name="lane_unique_name_in_township",
                violation_error_message=_("The township already has a lane with this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_fields()
        if kwargs.get("update_fields") is not None and "centre_line" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "length_m", *BBOX_FIELDS}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        """The lane's public page, which its signboard's QR code opens."""
        return reverse("lanes:detail", args=[self.pk])

    def clean(self) -> None:
        if self.township_id and self.township.level != Jurisdiction.Level.TOWNSHIP:
            raise ValidationError({"township": _("Choose a township")})
        community = self.community
        if community is not None and self.township_id and community.parent_id != self.township_id:
            raise ValidationError({"community": _("The community is not in this township")})

    def derive_fields(self) -> None:
        self.length_m = round(geo.line_length_m(self.centre_line), 1)
        self.set_bbox(self.centre_line)


class GridCell(BoundingBoxMixin):
    """A grid cell (网格): 6-digit district + 3 township + 3 community + 3 serial digits."""

    code = models.CharField(
        _("grid code"),
        max_length=15,
        unique=True,
        validators=[RegexValidator(r"^\d{15}$", _("A grid code has 15 digits"))],
        error_messages={"unique": _("Another grid cell already has this code.")},
    )
    community = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"level": Jurisdiction.Level.COMMUNITY},
    )
    boundary = models.JSONField(
        _("boundary (GeoJSON)"), null=True, blank=True, validators=[_validate_polygon]
    )

    class Meta:
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.derive_fields()
        if kwargs.get("update_fields") is not None and "boundary" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], *BBOX_FIELDS}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.community_id and self.code and not self.code.startswith(self.community.code):
            raise ValidationError({"code": _("The grid code must start with the community's code")})


class MapRevision(models.Model):
    """One row whose token changes, by database triggers, with every change to the city's map:
    jurisdictions, lanes, grid cells and the districts' lane matching distance. Each process
    keeps the map in memory (`whistle.organisation.places`) and reads it again when the token
    it was read under is no longer the current one. The token is random, not a counter, so a
    rolled-back change never leaves a process holding a map under the token that comes back.
    """

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("map revision")
        verbose_name_plural = _("map revisions")

    def __str__(self) -> str:
        return self.token


class DirectoryRevision(models.Model):
    """One row whose token changes, by database triggers, with every change to who is told of
    what and which unit handles what: people's reach, roles, centre duties, the township's
    units and their routes, notification preferences, push subscriptions, group robots,
    webhook endpoints, the districts' categories and deadline classes, and the API's tokens
    (`whistle.organisation.map_triggers.DIRECTORY_TABLES`). Each process
    keeps what it read of them (`whistle.organisation.directory`) while the token stays the
    one it was read under. Random, as the map's token is."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("directory revision")
        verbose_name_plural = _("directory revisions")

    def __str__(self) -> str:
        return self.token


class RoadNetwork(models.Model):
    """A district's road network, imported whole from a GeoJSON file (`whistle import roads`)
    and replaced whole by the next import. Its revision changes with every import, so each
    process keeps the graph in memory (`whistle.organisation.roads`) until it changes."""

    district = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.CASCADE,
        related_name="road_network",
        limit_choices_to={"level": Jurisdiction.Level.DISTRICT},
    )
    revision = models.UUIDField(_("revision"), default=uuid.uuid4)
    source = models.CharField(_("imported from"), max_length=255)
    imported_at = models.DateTimeField(_("imported at"))
    node_count = models.PositiveIntegerField(_("junctions and ends"))
    segment_count = models.PositiveIntegerField(_("road segments"))
    length_m = models.FloatField(_("length (m)"))

    class Meta:
        verbose_name = _("road network")
        verbose_name_plural = _("road networks")

    def __str__(self) -> str:
        return str(self.district)


class RoadSegment(models.Model):
    """A stretch of road between two junctions or ends of the network. Its ends are the
    junctions' positions exactly, so segments that meet share their end's coordinates; a
    one-way segment runs from its start to its end."""

    network = models.ForeignKey(
        RoadNetwork,
        verbose_name=_("road network"),
        on_delete=models.CASCADE,
        related_name="segments",
    )
    start_lon = models.FloatField(_("start longitude"))
    start_lat = models.FloatField(_("start latitude"))
    end_lon = models.FloatField(_("end longitude"))
    end_lat = models.FloatField(_("end latitude"))
    length_m = models.FloatField(_("length (m)"))
    highway = models.CharField(_("kind of road"), max_length=40)
    name = models.CharField(_("name"), max_length=200, blank=True)
    line = models.JSONField(_("line (GeoJSON)"))
    # True when the road is travelled only from its start to its end (OSM ``oneway``).
    oneway = models.BooleanField(_("one way"), default=False)

    class Meta:
        verbose_name = _("road segment")
        verbose_name_plural = _("road segments")

    def __str__(self) -> str:
        return self.name or self.highway


class Sector(models.Model):
    """A field of public duty (城管, 公安, 消防, 房管…) that departments hold."""

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        error_messages={"unique": _("Another sector already has this code.")},
    )
    name = models.CharField(_("name"), max_length=60)
    name_en = english_name_field(max_length=60)

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)


def check_station(row: Department | CentreMembership) -> None:
    """A station position is a point: both coordinates or neither."""
    if (row.station_lon is None) != (row.station_lat is None):
        raise ValidationError(_("Enter both the longitude and the latitude of the station"))


class Department(models.Model):
    """A body that holds enforcement or service power and can be summoned."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("district functional department")
        DISPATCHED = "dispatched", _("dispatched agency")
        TOWNSHIP_TEAM = "township_team", _("township enforcement team")

    code = models.SlugField(
        _("code"),
        max_length=60,
        unique=True,
        error_messages={"unique": _("Another department already has this code.")},
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = english_name_field()
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sector = models.ForeignKey(
        Sector, verbose_name=_("sector"), on_delete=models.PROTECT, related_name="departments"
    )
    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level": Jurisdiction.Level.DISTRICT},
    )
    serves = models.ManyToManyField(
        Jurisdiction,
        verbose_name=_("serves"),
        related_name="served_by",
        blank=True,
        help_text=_("Districts or townships served; empty means the whole of its district"),
    )
    phone = models.CharField(_("duty phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Where its people set out from when whistled (a base, WGS-84), for the reachability
    # model (whistle.assessment.reachability); empty means not known.
    station_lon = models.FloatField(
        _("station longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    station_lat = models.FloatField(
        _("station latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["district__code", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)

    def clean(self) -> None:
        check_station(self)

    @property
    def station(self) -> geo.Position | None:
        if self.station_lon is None or self.station_lat is None:
            return None
        return (self.station_lon, self.station_lat)


class CentreMembership(models.Model):
    """How a department takes part in a township's 1+5+N comprehensive enforcement centre."""

    class Role(models.TextChoices):
        CORE = "core", _("core (urban management)")
        STATIONED = "stationed", _("stationed")
        ON_CALL = "on_call", _("on call")

    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.CASCADE,
        related_name="centre_memberships",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="centre_memberships",
    )
    role = models.CharField(_("participation"), max_length=16, choices=Role.choices)
    people: models.ManyToManyField[Person, Any] = models.ManyToManyField(
        "Person",
        verbose_name=_("stationed or on-call people"),
        related_name="centre_duties",
        blank=True,
    )
    # Where the department's people in this centre set out from; empty means the
    # department's own station.
    station_lon = models.FloatField(
        _("station longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    station_lat = models.FloatField(
        _("station latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )

    class Meta:
        verbose_name = _("enforcement centre member")
        verbose_name_plural = _("enforcement centre members (1+5+N)")
        ordering = ["township__code", "role", "department__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "department"],
                name="centre_membership_unique",
                violation_error_message=_(
                    "The department is already a member of the township's centre."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.township} · {self.department} · {self.get_role_display()}"

    def clean(self) -> None:
        check_station(self)

    @property
    def station(self) -> geo.Position | None:
        """The centre's own station of the department, else the department's."""
        if self.station_lon is not None and self.station_lat is not None:
            return (self.station_lon, self.station_lat)
        return self.department.station


class Person(AbstractUser):
    """Anyone who signs in: chiefs, stewards, dispatchers, officers, assessors, residents."""

    # Not a column: set on the object of a request made with an API token, whose roles are
    # only some of the person's (`RoleAssignment.objects.held_by`). None: all of them.
    role_limit: frozenset[int] | None = None

    name = models.CharField(_("full name"), max_length=60, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username


class Role(models.TextChoices):
    DISTRICT_CHIEF = "district_chief", _("district chief of lanes")
    TOWNSHIP_CHIEF = "township_chief", _("township chief of lanes")
    STREET_CHIEF = "street_chief", _("street chief")
    LANE_CHIEF = "lane_chief", _("lane chief")
    STEWARD = "steward", _("alley steward")
    DISPATCHER = "dispatcher", _("township dispatcher")
    TOWNSHIP_ASSESSOR = "township_assessor", _("township assessor")
    DEPARTMENT_OFFICER = "department_officer", _("department officer")
    DEPARTMENT_HEAD = "department_head", _("department head")
    CHIEFS_OFFICE = "chiefs_office", _("chiefs' office staff")
    DISTRICT_ASSESSOR = "district_assessor", _("district assessor")
    ADMINISTRATOR = "administrator", _("administrator")
    RESIDENT = "resident", _("resident")


class Scope(models.TextChoices):
    NONE = "none", _("none")
    DISTRICT = "district", _("district")
    TOWNSHIP = "township", _("township")
    LANE = "lane", _("lane")
    DEPARTMENT = "department", _("department")


# Which scopes each role may be given. The first is the usual one.
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.DISTRICT_CHIEF: (Scope.DISTRICT,),
    Role.TOWNSHIP_CHIEF: (Scope.TOWNSHIP,),
    Role.STREET_CHIEF: (Scope.LANE,),
    Role.LANE_CHIEF: (Scope.LANE,),
    Role.STEWARD: (Scope.LANE,),
    Role.DISPATCHER: (Scope.TOWNSHIP,),
    Role.TOWNSHIP_ASSESSOR: (Scope.TOWNSHIP,),
    Role.DEPARTMENT_OFFICER: (Scope.DEPARTMENT,),
    Role.DEPARTMENT_HEAD: (Scope.DEPARTMENT,),
    Role.CHIEFS_OFFICE: (Scope.DISTRICT, Scope.TOWNSHIP),
    Role.DISTRICT_ASSESSOR: (Scope.DISTRICT,),
    Role.ADMINISTRATOR: (Scope.NONE, Scope.DISTRICT),
    Role.RESIDENT: (Scope.NONE,),
}


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def held_by(self, person: Any) -> RoleAssignmentQuerySet:
        """The roles the person acts in: every role they hold, or, for a request made with an
        API token that carries only some of them (`Person.role_limit`), those that are still
        held. A token never grants more than its person holds."""
        rows = self.filter(person=person)
        limit = getattr(person, "role_limit", None)
        if limit is not None:
            rows = rows.filter(pk__in=sorted(limit))
        return rows


class RoleAssignment(models.Model):
    """One role held by one person within one scope. A person may hold several."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("district or township"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    lane = models.ForeignKey(
        Lane,
        verbose_name=_("lane"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    # Printed on the lane's signboard and its public page. The person's own mobile
    # (`Person.phone`) is personal data and never shown there: this is the number the post
    # answers on, given for publication (an office or duty number, or one the person agreed
    # to publish).
    public_phone = models.CharField(
        _("public contact number"),
        max_length=40,
        blank=True,
        help_text=_(
            "Shown on the lane's public page and signboard. Leave empty to show no number."
        ),
    )

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["person__username", "role"]
        constraints = [
            # Coalesce so that an empty scope counts as a value: SQLite cannot say NULLS NOT
            # DISTINCT.
            models.UniqueConstraint(
                "person",
                "role",
                Coalesce("jurisdiction", 0),
                Coalesce("lane", 0),
                Coalesce("department", 0),
                name="role_assignment_unique",
                violation_error_message=_("The person already holds this role in this place."),
            ),
        ]

    def __str__(self) -> str:
        target = self.lane or self.department or self.jurisdiction
        role = self.get_role_display()
        return f"{self.person} · {role}" + (f" · {target}" if target else "")

    @property
    def scope(self) -> str:
        if self.lane_id:
            return Scope.LANE
        if self.department_id:
            return Scope.DEPARTMENT
        if self.jurisdiction is not None:
            if self.jurisdiction.level == Jurisdiction.Level.DISTRICT:
                return Scope.DISTRICT
            return Scope.TOWNSHIP
        return Scope.NONE

    def clean(self) -> None:
        targets = [t for t in (self.jurisdiction_id, self.lane_id, self.department_id) if t]
        if len(targets) > 1:
            raise ValidationError(
                _("A role has one scope only: a district or township, a lane, or a department")
            )
        if self.jurisdiction is not None and self.jurisdiction.level not in {
            Jurisdiction.Level.DISTRICT.value,
            Jurisdiction.Level.TOWNSHIP.value,
        }:
            raise ValidationError(
                {"jurisdiction": _("A role's jurisdiction is a district or a township")}
            )
        allowed = ROLE_SCOPES.get(self.role, ())
        if self.role and self.scope not in allowed:
            names = _(", ").join(str(Scope(s).label) for s in allowed)
            raise ValidationError(
                _('The role "%(role)s" takes this scope: %(scopes)s')
                % {"role": self.get_role_display(), "scopes": names}
            )


# The street office's units live in their own module; imported here so Django finds them.
from whistle.organisation.units import TownshipUnit as TownshipUnit  # noqa: E402
from whistle.organisation.units import UnitLogEntry as UnitLogEntry  # noqa: E402
