"""The routes of categories to a township's units and the districts' deadline classes of
hotline orders are kept in memory under the directory's revision token: a change to them gives
it a new value (whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLES = ("policies_categoryroute", "policies_hotlinedeadlineclass")


def install(apps, schema_editor):
    for table in TABLES:
        map_triggers.install(schema_editor, table, map_triggers.DIRECTORY)


def uninstall(apps, schema_editor):
    for table in TABLES:
        map_triggers.uninstall(schema_editor, table, map_triggers.DIRECTORY)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0009_directory_revision"),
        ("policies", "0011_category_routes"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
