"""A checkpoint's timestamp token is append-only in the database, as the checkpoint is:
UPDATE and DELETE refused, and TRUNCATE on PostgreSQL (whistle.organisation.log_triggers);
listed in whistle.cases.triggers so that verify-trail names a missing trigger."""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("cases_checkpointtimestamp", "checkpoint timestamps are append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_checkpoint_timestamp"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
