# Drops indexes that a composite index (or the unique constraint) already leads, and the LIKE twins of unique
# text keys never searched by prefix: every insert paid for them (issue 6).

import django.db.models.deletion
from django.db import migrations, models

from anshin.core.immutable import sqlite_rebuilt


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0002_immutable'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='subject_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='contenttypes.contenttype'),
        ),
        sqlite_rebuilt("core_auditevent"),
    ]
