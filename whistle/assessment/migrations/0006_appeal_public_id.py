import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    model = apps.get_model("assessment", "Appeal")
    for pk in model.objects.values_list("pk", flat=True):
        model.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("assessment", "0005_hotline_reply_limit_per_order")]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="public id"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appeal",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
            ),
        ),
    ]
