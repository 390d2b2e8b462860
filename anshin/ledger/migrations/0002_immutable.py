from django.db import migrations

from anshin.core.immutable import append_only, balanced_entries


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [append_only("ledger_posting"), append_only("ledger_journalentry"), balanced_entries()]
