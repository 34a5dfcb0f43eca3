"""The street office's own units after the reform (街道大部门制改革): the offices (综合保障、
党群工作、社区建设、民生保障、社区平安、城市管理办公室), the discipline committee (纪工委), the
comprehensive enforcement team (综合执法队) and the centres (党群服务中心、市民服务中心、
网格化服务管理中心、综治中心), each with its responsibility list (职责清单) and its people.

Which problem categories a unit handles — how a case is routed to it — is kept beside the
categories (`whistle.policies.routing.CategoryRoute`), and every change goes through
`whistle.policies.offices`, which writes a `UnitLogEntry`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from whistle.organisation.logs import AppendOnlyLog
from whistle.organisation.names import english_name_field, in_reader_language

RESPONSIBILITY_MAX = 300
RESPONSIBILITIES_MAX = 40


class TownshipUnit(models.Model):
    """One unit of a township's street office."""

    class Kind(models.TextChoices):
        OFFICE = "office", _("office")
        DISCIPLINE = "discipline", _("discipline committee")
        ENFORCEMENT = "enforcement", _("comprehensive enforcement team")
        CENTRE = "centre", _("centre")

    township = models.ForeignKey(
        "organisation.Jurisdiction",
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="units",
        limit_choices_to={"level": "township"},
    )
    kind = models.CharField(_("kind of unit"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    name_en = english_name_field()
    responsibilities = models.JSONField(_("responsibility list"), default=list, blank=True)
    members: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("people of the unit"),
        related_name="township_units",
        blank=True,
    )
    position = models.PositiveSmallIntegerField(_("position in the list"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("township unit")
        verbose_name_plural = _("township units")
        ordering = ["township__code", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], name="township_unit_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"/township/offices/{self.pk}/"

    @property
    def display_name(self) -> str:
        """The name in the reader's language (`in_reader_language`)."""
        return in_reader_language(self.name, self.name_en)


class UnitLogEntry(AppendOnlyLog):
    """One change of a township's units, as it was made. Written by the actions only, never
    changed or removed."""

    class Action(models.TextChoices):
        CREATED = "unit.created", _("unit created")
        CHANGED = "unit.changed", _("unit changed")
        IMPORTED = "unit.imported", _("unit imported")

    log_name = "the township units log"

    township = models.ForeignKey(
        "organisation.Jurisdiction",
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        TownshipUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="log"
    )
    # The actor's role is "import" for the import command.
    action = models.CharField(_("what"), max_length=32, choices=Action.choices)
    # {"field": [before, after], ...}
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("township unit log entry")
        verbose_name_plural = _("township units log")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return str(self.get_action_display())
