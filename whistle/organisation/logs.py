"""What every append-only log of changes shares: when a change was made, by whom and in
which role, and a row that is written once and never changed or removed.

The logs themselves belong to the apps whose changes they record (the township's powers,
the recruitment of stewards, the units of a street office, the duty rosters, the chiefs'
appointments, the changes to contact addresses); each names what it is about and what was
recorded. The database refuses UPDATE and DELETE on every one as well (the tables listed in
`whistle/cases/triggers.py`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyLog(models.Model):
    """An abstract log entry. A log that asks more of a field (an actor always named, a
    role left blank by the public) declares the field again."""

    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The role the actor acted in.
    actor_role = models.CharField(_("as"), max_length=32)

    # How a refused change names the log ("the roster log is append-only").
    log_name = "the log"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError(f"{self.log_name} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"{self.log_name} is append-only")
