"""Snapshots now keep summaries of the reply and inspection delays instead of every delay. They are a cache:
the old ones are dropped, and pages and the clock compute new ones."""

from django.db import migrations


def drop_snapshots(apps, schema_editor):
    apps.get_model("accounts", "FiguresSnapshot").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_figures_snapshot")]
    operations = [migrations.RunPython(drop_snapshots, migrations.RunPython.noop)]
