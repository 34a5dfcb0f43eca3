import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    for name in ("Whistle", "SupervisionNotice"):
        model = apps.get_model("cases", name)
        for pk in model.objects.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_hotline_orders")]

    operations = [
        migrations.AddField(
            model_name="whistle",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="public id"),
        ),
        migrations.AddField(
            model_name="supervisionnotice",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="public id"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="whistle",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
            ),
        ),
        migrations.AlterField(
            model_name="supervisionnotice",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
            ),
        ),
    ]
