# Drops indexes that a composite index (or the unique constraint) already leads, and the LIKE twins of unique
# text keys never searched by prefix: every insert paid for them (issue 6).

import django.db.models.deletion
from django.db import migrations, models

from anshin.core.immutable import sqlite_rebuilt


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0002_immutable'),
    ]

    operations = [
        migrations.AlterField(
            model_name='journalentry',
            name='idempotency_key',
            field=models.CharField(max_length=128),
        ),
        migrations.AlterField(
            model_name='journalentry',
            name='ref',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='posting',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='postings', to='ledger.account'),
        ),
        migrations.AddIndex(
            model_name='journalentry',
            index=models.Index(fields=['ref'], name='journal_entry_ref'),
        ),
        migrations.AddConstraint(
            model_name='journalentry',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='journal_entry_idempotency_key'),
        ),
        sqlite_rebuilt("ledger_journalentry", "ledger_posting"),
    ]
