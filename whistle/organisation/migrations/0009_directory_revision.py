"""The directory's revision token and the triggers that change it on the organisation's tables
(whistle.organisation.map_triggers); the policies' and notifications' tables get theirs in
their own migrations."""

import uuid

from django.db import migrations, models

from whistle.organisation import map_triggers

TABLES = (
    "organisation_person",
    "organisation_roleassignment",
    "organisation_centremembership",
    "organisation_centremembership_people",
    "organisation_townshipunit",
)


def install(apps, schema_editor):
    apps.get_model("organisation", "DirectoryRevision").objects.create(token=uuid.uuid4().hex)
    for table in TABLES:
        map_triggers.install(schema_editor, table, map_triggers.DIRECTORY)


def uninstall(apps, schema_editor):
    for table in TABLES:
        map_triggers.uninstall(schema_editor, table, map_triggers.DIRECTORY)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0008_road_segment_one_way"),
    ]

    operations = [
        migrations.CreateModel(
            name="DirectoryRevision",
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
                "verbose_name": "directory revision",
                "verbose_name_plural": "directory revisions",
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
