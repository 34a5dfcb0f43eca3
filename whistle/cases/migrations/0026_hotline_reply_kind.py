from typing import Any

from django.db import migrations, models


def replies_done(apps: Any, schema_editor: Any) -> None:
    """A reply recorded before replies said what they are was the result (办理结果): done."""
    HotlineOrder = apps.get_model("cases", "HotlineOrder")
    HotlineOrder.objects.filter(replied_at__isnull=False, reply_kind="").update(reply_kind="done")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0025_case_status_rated"),
    ]

    operations = [
        migrations.AddField(
            model_name="hotlineorder",
            name="reply_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("done", "done"),
                    ("in_progress", "in progress"),
                    ("not_ours", "not our duty"),
                    ("cannot_solve", "cannot be solved for now"),
                ],
                max_length=16,
                verbose_name="kind of reply",
            ),
        ),
        migrations.RunPython(replies_done, migrations.RunPython.noop),
    ]
