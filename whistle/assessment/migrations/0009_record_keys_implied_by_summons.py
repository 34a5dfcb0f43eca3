"""The assessment records keep the database's checks of their summons and scheme only: the
case, district, township and department they copy from the summons are held by the summons'
own keys (Django still refuses to delete one a record refers to). The second index on the
case goes, and so do the single-column indexes on the district, township and department,
each the first column of an index with the month (docs/assessment.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessment', '0008_scheme_revision'),
        ('cases', '0018_summons_department_recent'),
        ('organisation', '0010_person_directory_columns'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='summonsassessment',
            name='assessment__case_id_a39f61_idx',
        ),
        migrations.AlterField(
            model_name='summonsassessment',
            name='case',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.case', verbose_name='case'),
        ),
        migrations.AlterField(
            model_name='summonsassessment',
            name='department',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='assessments', to='organisation.department', verbose_name='department'),
        ),
        migrations.AlterField(
            model_name='summonsassessment',
            name='district',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisation.jurisdiction', verbose_name='district'),
        ),
        migrations.AlterField(
            model_name='summonsassessment',
            name='township',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisation.jurisdiction', verbose_name='township'),
        ),
    ]
