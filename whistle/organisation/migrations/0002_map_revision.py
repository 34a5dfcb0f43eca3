"""The map's revision token and the triggers that change it (whistle.organisation.map_triggers)."""

import uuid

from django.db import migrations, models

from whistle.organisation import map_triggers

TABLES = ("organisation_jurisdiction", "organisation_lane", "organisation_gridcell")


def install(apps, schema_editor):
    apps.get_model("organisation", "MapRevision").objects.create(token=uuid.uuid4().hex)
    for table in TABLES:
        map_triggers.install(schema_editor, table)


def uninstall(apps, schema_editor):
    for table in TABLES:
        map_triggers.uninstall(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="MapRevision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name": "map revision",
                "verbose_name_plural": "map revisions",
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
