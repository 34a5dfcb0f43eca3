from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationConfig(AppConfig):
    name = "whistle.organisation"
    label = "organisation"
    verbose_name = _("City and organisation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from whistle import checks  # noqa: F401  (registers the project's system checks)

        post_migrate.connect(_ensure_map_triggers, sender=self)


def _ensure_map_triggers(using: str = "default", **kwargs: Any) -> None:
    """After every migrate and flush: the map's triggers and token as the map needs them
    (a migration that rebuilt a table on SQLite dropped its triggers)."""
    from django.db import connections

    from whistle.organisation import map_triggers

    map_triggers.ensure(connections[using])
