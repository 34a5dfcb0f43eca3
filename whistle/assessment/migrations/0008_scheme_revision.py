"""The schemes' revision token and the triggers that change it with every change to the
schemes and their components (whistle.organisation.map_triggers.SCHEMES)."""

import uuid

from django.db import migrations, models

from whistle.organisation import map_triggers


def install(apps, schema_editor):
    apps.get_model("assessment", "SchemeRevision").objects.create(token=uuid.uuid4().hex)
    for table in map_triggers.SCHEME_TABLES:
        map_triggers.install(schema_editor, table, map_triggers.SCHEMES)


def uninstall(apps, schema_editor):
    for table in map_triggers.SCHEME_TABLES:
        map_triggers.uninstall(schema_editor, table, map_triggers.SCHEMES)


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0007_scheme_stationed_share"),
    ]

    operations = [
        migrations.CreateModel(
            name="SchemeRevision",
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
                "verbose_name": "scheme revision",
                "verbose_name_plural": "scheme revisions",
            },
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
