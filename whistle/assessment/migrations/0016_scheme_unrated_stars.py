"""A scheme's setting for a summons nobody rated (`Scheme.unrated_stars`): empty, leaving
"how well" out as before, for every existing scheme; the database refuses anything but 1 to 5
stars."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0015_appeal_ruler_check'),
        ('organisation', '0011_unique_messages'),
    ]

    operations = [
        migrations.AddField(
            model_name='scheme',
            name='unrated_stars',
            field=models.PositiveSmallIntegerField(blank=True, choices=[(None, 'leave “how well” out'), (1, 'count it as 1 star'), (2, 'count it as 2 stars'), (3, 'count it as 3 stars'), (4, 'count it as 4 stars'), (5, 'count it as 5 stars')], default=None, error_messages={'invalid_choice': 'Count a summons nobody rated as 1 to 5 stars, or leave “how well” out.'}, help_text='Until the township rates it: leave “how well” out of its total, or count it as a rating of so many stars. Its record still says it was not rated.', null=True, verbose_name='a summons nobody rated'),
        ),
        migrations.AddConstraint(
            model_name='scheme',
            constraint=models.CheckConstraint(condition=models.Q(('unrated_stars__isnull', True), models.Q(('unrated_stars__gte', 1), ('unrated_stars__lt', 6)), _connector='OR'), name='assessment_scheme_unrated_stars', violation_error_message='Count a summons nobody rated as 1 to 5 stars, or leave “how well” out.'),
        ),
    ]
