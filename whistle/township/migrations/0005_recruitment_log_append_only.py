"""Database triggers that keep the steward recruitment log append-only: UPDATE and DELETE refused, and
TRUNCATE on PostgreSQL (whistle.organisation.log_triggers).
"""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("township_recruitmentevent", "the recruitment log is append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("township", "0004_stationed_staff_roster_attendance_leave_assessment"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
