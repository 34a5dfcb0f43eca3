"""Database triggers that keep the township's powers log append-only: UPDATE and DELETE refused, and
TRUNCATE on PostgreSQL (whistle.organisation.log_triggers).
"""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("township_townshiplogentry", "the township powers log is append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("township", "0001_matters_opinions_and_personnel_recommendations"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
