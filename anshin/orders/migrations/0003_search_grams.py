"""PostgreSQL only: the GIN index behind the listing search (anshin.core.search; the functions come from
jobs 0003). Partial on active listings, the only ones the search lists."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_listing_search_grams ON orders_listing "
                              "USING gin (anshin_grams(title, description)) WHERE state = 'active'")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS orders_listing_search_grams")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("jobs", "0003_search_grams"), ("orders", "0002_orderdelivery_message")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
