# Nudges have no reminder of their own (the nudge is the reminder): the sweeper no longer needs the column.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0005_no_redundant_indexes'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='nudge',
            name='remind_at',
        ),
    ]
