"""A district's lane matching distance is part of the map each process keeps in memory: a
change to the district policies gives the map a new revision (whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

WATCHING = map_triggers.Watching(("policies_districtpolicy",))


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0002_map_revision"),
        ("policies", "0008_checkin_offline_confirm_after_minutes"),
    ]

    operations = [migrations.RunPython(WATCHING.install, WATCHING.uninstall, elidable=False)]
