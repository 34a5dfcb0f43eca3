"""Every pending appeal gets the worker's look for someone to rule on it
(`Appeal.ruler_check_at`), due at once, so the first sweep settles each.

An appeal still pending from before `nobody_rules_since` existed (0014) has no mark, even
when its filing told the staffers that nobody may rule on it: that filing wrote their message
("Nobody may rule on the appeal", linking the superusers to the admin's new role form) under
the appeal's own trail event (`summons.appealed`, its data naming the appeal). Such an
appeal gets the mark its filing would set now (the moment of that event), so that neither
the sweep nor the next change of people or roles tells them again. An appeal whose filing
told nobody so (someone could rule then, or it was filed before the product told anyone)
keeps no mark: the first sweep decides, and tells the staffers if nobody may rule on it now.

Self-contained: the historical models, and the message's id and key written out here as
the filing wrote them (`whistle.assessment.actions._tell_staffers`,
`whistle.notifications.status.event_key`).
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

APPEALED = "summons.appealed"
NOBODY_MAY_RULE = "Nobody may rule on the appeal: %(department)s, case %(case)s"
STAFFING_FORM = "/admin/organisation/roleassignment/add/"


def mark_and_schedule(apps, schema_editor):
    Appeal = apps.get_model("assessment", "Appeal")
    Event = apps.get_model("cases", "Event")
    Notification = apps.get_model("notifications", "Notification")
    now = timezone.now()
    for appeal in Appeal.objects.filter(status="pending").order_by("pk"):
        values = {"ruler_check_at": now}
        if appeal.nobody_rules_since is None:
            filed = (
                Event.objects.filter(
                    kind=APPEALED, summons_id=appeal.summons_id, data__appeal=appeal.pk
                )
                .order_by("seq")
                .first()
            )
            told = filed is not None and (
                Notification.objects.filter(dedupe_key=f"event:{filed.hash}")
                .filter(
                    Q(payload__message__subject=NOBODY_MAY_RULE)
                    | Q(link__startswith=STAFFING_FORM)
                )
                .exists()
            )
            if told:
                values["nobody_rules_since"] = filed.at
        Appeal.objects.filter(pk=appeal.pk).update(**values)


class Migration(migrations.Migration):

    dependencies = [
        ("assessment", "0014_appeal_nobody_rules_since"),
        ("cases", "0026_hotline_reply_kind"),
        ("notifications", "0012_unique_messages"),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="ruler_check_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="next check for a ruler"
            ),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(("ruler_check_at__isnull", False)),
                fields=["ruler_check_at", "id"],
                name="appeal_ruler_check",
            ),
        ),
        migrations.RunPython(mark_and_schedule, migrations.RunPython.noop),
    ]
