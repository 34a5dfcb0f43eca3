"""Notification preferences, push subscriptions, group robots and webhook endpoints are kept
in memory under the directory's revision token: a change to them gives it a new value
(whistle.organisation.map_triggers)."""

from django.db import migrations

from whistle.organisation import map_triggers

TABLES = (
    "notifications_notificationpreference",
    "notifications_pushsubscription",
    "notifications_grouprobot",
    "notifications_webhookendpoint",
)


WATCHING = map_triggers.Watching(TABLES, map_triggers.DIRECTORY)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0009_directory_revision"),
        ("notifications", "0005_webhook_secret_not_editable"),
    ]

    operations = [migrations.RunPython(WATCHING.install, WATCHING.uninstall, elidable=False)]
