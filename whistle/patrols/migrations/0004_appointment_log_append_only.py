"""Database triggers that keep the chiefs' appointment log append-only: UPDATE and DELETE
refused, and TRUNCATE on PostgreSQL (whistle.organisation.log_triggers)."""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("patrols_appointmentevent", "the appointment log is append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0003_training_sessions_attendance_and_recognitions"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
