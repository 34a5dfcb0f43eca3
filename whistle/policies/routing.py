"""Which unit of a township's street office handles a category of problem (按类分办).

One row per township and category: a category goes to at most one unit of a township, so a
case's office follows from its township and category alone. The cases app reads it
(`office_for`) when a case is reported or filed; the rows are written by
`whistle.policies.offices` only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from whistle.organisation import directory
from whistle.organisation.models import Jurisdiction, TownshipUnit


class CategoryRoute(models.Model):
    township = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Jurisdiction.Level.TOWNSHIP},
    )
    category = models.ForeignKey(
        "policies.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="routes",
    )
    unit = models.ForeignKey(
        TownshipUnit,
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        related_name="routes",
    )

    class Meta:
        verbose_name = _("category routing")
        verbose_name_plural = _("category routings")
        ordering = ["township__code", "category__major__code", "category__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "category"], name="category_route_one_unit_per_township"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category_id} → {self.unit}"


def office_for(township_id: int | None, category_id: int | None) -> TownshipUnit | None:
    """The unit in use that handles the category in the township, or None. Kept per process
    while the directory's token stands (`whistle.organisation.directory`: the triggers watch
    the routes and the units), so a filing reads no route."""
    if township_id is None or category_id is None:
        return None

    def load() -> TownshipUnit | None:
        route = (
            CategoryRoute.objects.filter(
                township_id=township_id, category_id=category_id, unit__is_active=True
            )
            .select_related("unit")
            .first()
        )
        return route.unit if route is not None else None

    return directory.kept(("office_for", township_id, category_id), load)
