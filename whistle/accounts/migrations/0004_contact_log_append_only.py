"""Database triggers that keep the log of changes to contact addresses append-only: UPDATE
and DELETE refused, and TRUNCATE on PostgreSQL (whistle.organisation.log_triggers).

The log names neither a code nor an address, so erasing a person's data changes none of its
rows; a person it names cannot be deleted (PROTECT), as with every other log.
"""

from django.db import migrations

from whistle.organisation.log_triggers import AppendOnly

LOG = AppendOnly("accounts_contactlogentry", "the log of contact address changes is append-only")
install, uninstall = LOG.install, LOG.uninstall


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_pending_contact_expiry_and_forgetting"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
