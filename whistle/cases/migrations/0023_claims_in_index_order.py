"""The deadline sweep's four indexes hold the rows' moment and then their id, the order its
claims take them in, and only the rows that have a moment.

A claim takes the due rows oldest first, then by id, at most a chunk (`whistle.cases.deadlines`).
Over an index of the moment alone PostgreSQL reads every row due at the same moment and sorts
them to take a chunk: a burst of thousands due together (a whistle's departments share their
deadlines; a calendar's change moves many at once) was read whole for each chunk. SQLite's
indexes end with the rowid already and took a chunk either way. The rows without a moment
(closed summonses, answered orders: most of them, in time) are no longer in these indexes.
"""


from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0022_event_chain_checked_per_statement'),
        ('organisation', '0010_person_directory_columns'),
        ('policies', '0013_category_directory_revision'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='case',
            name='case_backlog_review',
        ),
        migrations.RemoveIndex(
            model_name='hotlineorder',
            name='hotline_reply_check',
        ),
        migrations.RemoveIndex(
            model_name='summons',
            name='summons_next_check',
        ),
        migrations.RemoveIndex(
            model_name='supervisionnotice',
            name='supervision_next_check',
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('backlog_review_reminder_at__isnull', False)), fields=['backlog_review_reminder_at', 'id'], name='case_backlog_review'),
        ),
        migrations.AddIndex(
            model_name='hotlineorder',
            index=models.Index(condition=models.Q(('reply_check_at__isnull', False)), fields=['reply_check_at', 'id'], name='hotline_reply_check'),
        ),
        migrations.AddIndex(
            model_name='summons',
            index=models.Index(condition=models.Q(('next_check_at__isnull', False)), fields=['next_check_at', 'id'], name='summons_next_check'),
        ),
        migrations.AddIndex(
            model_name='supervisionnotice',
            index=models.Index(condition=models.Q(('next_check_at__isnull', False)), fields=['next_check_at', 'id'], name='supervision_next_check'),
        ),
    ]
