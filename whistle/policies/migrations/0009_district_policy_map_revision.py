"""A district's lane matching distance is part of the map each process keeps in memory: a
change to the district policies gives the map a new revision (whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLE = "policies_districtpolicy"


def install(apps, schema_editor):
    map_triggers.install(schema_editor, TABLE)


def uninstall(apps, schema_editor):
    map_triggers.uninstall(schema_editor, TABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0002_map_revision"),
        ("policies", "0008_checkin_offline_confirm_after_minutes"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
