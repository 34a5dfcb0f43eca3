"""The routes of categories to a township's units and the districts' deadline classes of
hotline orders are kept in memory under the directory's revision token: a change to them gives
it a new value (whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLES = ("policies_categoryroute", "policies_hotlinedeadlineclass")


WATCHING = map_triggers.Watching(TABLES, map_triggers.DIRECTORY)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0009_directory_revision"),
        ("policies", "0011_category_routes"),
    ]

    operations = [migrations.RunPython(WATCHING.install, WATCHING.uninstall, elidable=False)]
