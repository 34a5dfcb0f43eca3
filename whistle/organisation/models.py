"""The city as the mechanism sees it: jurisdictions, lanes, grid cells, departments, people.

Official codes nest: a township's 9-digit code starts with its district's 6-digit code
(GB/T 2260), a community's 12-digit code with its township's, a grid cell's 15-digit code
with its community's. Scoping queries rely on that prefix property.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from whistle.organisation import geo


def _validate_polygon(value: Any) -> None:
    if value in (None, {}):
        return
    try:
        geo.polygon_rings(value)
    except geo.GeometryError as exc:
        raise ValidationError(
            _("边界不是有效的 GeoJSON 多边形：%(error)s"), params={"error": exc}
        ) from exc


def _validate_line(value: Any) -> None:
    try:
        geo.line_positions(value)
    except geo.GeometryError as exc:
        raise ValidationError(
            _("中心线不是有效的 GeoJSON 线：%(error)s"), params={"error": exc}
        ) from exc


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


class Jurisdiction(BoundingBoxMixin):
    """A node of the administrative tree: city → district → township → community."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区")
        TOWNSHIP = "township", _("街乡")
        COMMUNITY = "community", _("社区/村")

    class Form(models.TextChoices):
        """What kind of township or community it is."""

        NONE = "", _("—")
        STREET_OFFICE = "street_office", _("街道")
        TOWN = "town", _("乡镇")
        COMMUNITY = "community", _("社区")
        VILLAGE = "village", _("村")

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

    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    form = models.CharField(_("类型"), max_length=16, choices=Form.choices, blank=True)
    code = models.CharField(
        _("行政区划代码"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3}(\d{3})?)?$", _("代码应为 6、9 或 12 位数字"))],
    )
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    boundary = models.JSONField(
        _("边界 (GeoJSON)"), null=True, blank=True, validators=[_validate_polygon]
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_bbox(self.boundary)
        if kwargs.get("update_fields") is not None and "boundary" in kwargs["update_fields"]:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
            }
        super().save(*args, **kwargs)

    def clean(self) -> None:
        expected = self.CODE_LENGTHS.get(self.Level(self.level)) if self.level else None
        if expected and self.code and len(self.code) != expected:
            raise ValidationError(
                {
                    "code": _("%(level)s代码应为 %(n)s 位")
                    % {"level": self.get_level_display(), "n": expected}
                }
            )
        parent_level = self.PARENT_LEVEL.get(self.Level(self.level)) if self.level else None
        if parent_level:
            if self.parent is None:
                raise ValidationError({"parent": _("需要上级行政区划")})
            if self.parent.level != parent_level:
                raise ValidationError({"parent": _("上级的层级不对")})
            if self.level != self.Level.DISTRICT and not self.code.startswith(self.parent.code):
                raise ValidationError({"code": _("代码应以上级代码开头")})

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

    name = models.CharField(_("名称"), max_length=100)
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("街乡"),
        on_delete=models.PROTECT,
        related_name="lanes",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    community = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        related_name="community_lanes",
        null=True,
        blank=True,
        limit_choices_to={"level": Jurisdiction.Level.COMMUNITY},
    )
    centre_line = models.JSONField(_("中心线 (GeoJSON)"), validators=[_validate_line])
    length_m = models.FloatField(_("长度（米）"), editable=False, default=0.0)
    checklist = models.JSONField(
        _("巡查清单"),
        default=list,
        blank=True,
        help_text=_("巡查时逐项检查的条目；留空则使用“十无”清单"),
    )

    class Meta:
        verbose_name = _("街巷")
        verbose_name_plural = _("街巷")
        ordering = ["township__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "name"], name="lane_unique_name_in_township"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.length_m = round(geo.line_length_m(self.centre_line), 1)
        self.set_bbox(self.centre_line)
        if kwargs.get("update_fields") is not None and "centre_line" in kwargs["update_fields"]:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "length_m",
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
            }
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.township_id and self.township.level != Jurisdiction.Level.TOWNSHIP:
            raise ValidationError({"township": _("请选择街乡")})
        community = self.community
        if community is not None and self.township_id and community.parent_id != self.township_id:
            raise ValidationError({"community": _("社区不属于该街乡")})


class GridCell(BoundingBoxMixin):
    """A grid cell (网格): 6-digit district + 3 township + 3 community + 3 serial digits."""

    code = models.CharField(
        _("网格编码"),
        max_length=15,
        unique=True,
        validators=[RegexValidator(r"^\d{15}$", _("网格编码应为 15 位数字"))],
    )
    community = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"level": Jurisdiction.Level.COMMUNITY},
    )
    boundary = models.JSONField(
        _("边界 (GeoJSON)"), null=True, blank=True, validators=[_validate_polygon]
    )

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_bbox(self.boundary)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.community_id and self.code and not self.code.startswith(self.community.code):
            raise ValidationError({"code": _("网格编码应以社区代码开头")})


class Sector(models.Model):
    """A field of public duty (城管, 公安, 消防, 房管…) that departments hold."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        verbose_name = _("职能领域")
        verbose_name_plural = _("职能领域")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A body that holds enforcement or service power and can be summoned."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("区职能部门（委办局）")
        DISPATCHED = "dispatched", _("派出机构")
        TOWNSHIP_TEAM = "township_team", _("街乡执法队")

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    sector = models.ForeignKey(
        Sector, verbose_name=_("职能领域"), on_delete=models.PROTECT, related_name="departments"
    )
    district = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("所属区"),
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level": Jurisdiction.Level.DISTRICT},
    )
    serves = models.ManyToManyField(
        Jurisdiction,
        verbose_name=_("服务范围"),
        related_name="served_by",
        blank=True,
        help_text=_("服务的区或街乡；留空表示服务所属区全域"),
    )
    phone = models.CharField(_("值班电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["district__code", "name"]

    def __str__(self) -> str:
        return self.name


class CentreMembership(models.Model):
    """How a department takes part in a township's 1+5+N comprehensive enforcement centre."""

    class Role(models.TextChoices):
        CORE = "core", _("主体（城管）")
        STATIONED = "stationed", _("常驻")
        ON_CALL = "on_call", _("随叫随到")

    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("街乡"),
        on_delete=models.CASCADE,
        related_name="centre_memberships",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="centre_memberships",
    )
    role = models.CharField(_("参与方式"), max_length=16, choices=Role.choices)
    people: models.ManyToManyField[Person, Any] = models.ManyToManyField(
        "Person",
        verbose_name=_("常驻或值守人员"),
        related_name="centre_duties",
        blank=True,
    )

    class Meta:
        verbose_name = _("综合执法中心成员")
        verbose_name_plural = _("综合执法中心成员（1+5+N）")
        ordering = ["township__code", "role", "department__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "department"], name="centre_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.township} · {self.department} · {self.get_role_display()}"


class Person(AbstractUser):
    """Anyone who signs in: chiefs, stewards, dispatchers, officers, assessors, residents."""

    name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username


class Role(models.TextChoices):
    DISTRICT_CHIEF = "district_chief", _("区级总街巷长")
    TOWNSHIP_CHIEF = "township_chief", _("街乡总街巷长")
    STREET_CHIEF = "street_chief", _("街长")
    LANE_CHIEF = "lane_chief", _("巷长")
    STEWARD = "steward", _("小巷管家")
    DISPATCHER = "dispatcher", _("街乡指挥中心调度员")
    TOWNSHIP_ASSESSOR = "township_assessor", _("街乡考核员")
    DEPARTMENT_OFFICER = "department_officer", _("部门执法人员")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    CHIEFS_OFFICE = "chiefs_office", _("街巷长办公室工作人员")
    DISTRICT_ASSESSOR = "district_assessor", _("区考核员")
    ADMINISTRATOR = "administrator", _("系统管理员")
    RESIDENT = "resident", _("居民")


class Scope(models.TextChoices):
    NONE = "none", _("无")
    DISTRICT = "district", _("区")
    TOWNSHIP = "township", _("街乡")
    LANE = "lane", _("街巷")
    DEPARTMENT = "department", _("部门")


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


class RoleAssignment(models.Model):
    """One role held by one person within one scope. A person may hold several."""

    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("区或街乡"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    lane = models.ForeignKey(
        Lane,
        verbose_name=_("街巷"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
    )

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["person__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "role", "jurisdiction", "lane", "department"],
                name="role_assignment_unique",
                nulls_distinct=False,
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
            raise ValidationError(_("一个角色只能有一个范围：区或街乡、街巷、部门三选一"))
        if self.jurisdiction is not None and self.jurisdiction.level not in {
            Jurisdiction.Level.DISTRICT.value,
            Jurisdiction.Level.TOWNSHIP.value,
        }:
            raise ValidationError({"jurisdiction": _("角色范围只能是区或街乡")})
        allowed = ROLE_SCOPES.get(self.role, ())
        if self.role and self.scope not in allowed:
            names = "、".join(str(Scope(s).label) for s in allowed)
            raise ValidationError(
                _("角色“%(role)s”的范围应为：%(scopes)s")
                % {"role": self.get_role_display(), "scopes": names}
            )
