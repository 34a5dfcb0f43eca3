"""The districts' categories and their major classes are kept in memory under the directory's
revision token, for the API's look-up by code: a change to them gives it a new value
(whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLES = ("policies_majorclass", "policies_category")


WATCHING = map_triggers.Watching(TABLES, map_triggers.DIRECTORY)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0012_category_route_directory_revision"),
    ]

    operations = [migrations.RunPython(WATCHING.install, WATCHING.uninstall, elidable=False)]
