"""A person's names, username and administrator flags join the columns whose update gives the
directory a new revision token: the API keeps each token's person in memory under it
(whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLE = "organisation_person"
# The columns watched before.
EARLIER = map_triggers.Revision(
    map_triggers.DIRECTORY.name,
    map_triggers.DIRECTORY.table,
    {TABLE: ("is_active", "phone", "email")},
)


def install(apps, schema_editor):
    map_triggers.uninstall(schema_editor, TABLE, map_triggers.DIRECTORY)
    map_triggers.install(schema_editor, TABLE, map_triggers.DIRECTORY)


def uninstall(apps, schema_editor):
    map_triggers.uninstall(schema_editor, TABLE, EARLIER)
    map_triggers.install(schema_editor, TABLE, EARLIER)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0009_directory_revision"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
