"""Database triggers that keep the log of the township units append-only: UPDATE and DELETE refused, and
TRUNCATE on PostgreSQL (whistle.organisation.log_triggers).
"""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("organisation_unitlogentry", "the township units log is append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0006_township_units"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
