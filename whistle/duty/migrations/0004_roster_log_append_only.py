"""Database triggers that keep the duty roster log append-only: UPDATE and DELETE refused, and
TRUNCATE on PostgreSQL (whistle.organisation.log_triggers).
"""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("duty_rosterlogentry", "the roster log is append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("duty", "0003_rotation_on_duty_position"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
