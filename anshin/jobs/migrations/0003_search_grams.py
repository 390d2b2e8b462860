"""PostgreSQL only: the n-gram functions and the GIN index behind the job search (anshin.core.search).
Partial on open jobs, the only ones the search lists. Built CONCURRENTLY so job writes go on during a deploy."""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION anshin_grams(VARIADIC fields text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
  SELECT coalesce(array_agg(DISTINCT substr(u, i, n)), '{}')
  FROM unnest(fields) AS f(field), upper(f.field) AS u, generate_series(1, 2) AS n,
       generate_series(1, length(u) - n + 1) AS i
$$;
CREATE OR REPLACE FUNCTION anshin_word_grams(word text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN length(word) = 1 THEN ARRAY[upper(word)]
              ELSE ARRAY(SELECT DISTINCT substr(upper(word), i, 2) FROM generate_series(1, length(word) - 1) AS i)
         END
$$;
"""
# COST 1000: evaluating anshin_grams row by row is slow; the planner must reach for the index instead.


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)
        schema_editor.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_job_search_grams ON jobs_job "
                              "USING gin (anshin_grams(title, description, skills)) WHERE state = 'open'")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS jobs_job_search_grams")
        schema_editor.execute("DROP FUNCTION IF EXISTS anshin_word_grams(text); "
                              "DROP FUNCTION IF EXISTS anshin_grams(VARIADIC text[])")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("jobs", "0002_scout_testtask")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
