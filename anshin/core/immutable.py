"""Database triggers that make tables append-only (and ledger entries balanced) below the ORM, so neither a
bug nor a stray SQL session can rewrite history. Used from migrations, for PostgreSQL and SQLite."""

from django.db import migrations

APPEND_ONLY_TABLES = ("ledger_posting", "ledger_journalentry", "core_auditevent")


def sqlite_create(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
        for op in ("UPDATE", "DELETE")
    ]


def sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]


def append_only(table: str) -> migrations.RunPython:
    def forward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"""
                CREATE OR REPLACE FUNCTION {table}_immutable() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {table}_immutable();
            """)
        elif vendor == "sqlite":
            for sql in sqlite_create(table):
                schema_editor.execute(sql)

    def backward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}; "
                                  f"DROP FUNCTION IF EXISTS {table}_immutable();")
        elif vendor == "sqlite":
            for sql in sqlite_drop(table):
                schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)


def sqlite_rebuilt(*tables: str) -> migrations.RunPython:
    """After a migration that alters a field of these tables: SQLite rebuilt them (new table, copy, rename) and
    their triggers went with the old ones, so they are made again. PostgreSQL alters in place and keeps them."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for table in tables:
                for sql in sqlite_create(table):
                    schema_editor.execute(sql)

    return migrations.RunPython(forward, migrations.RunPython.noop)


def balanced_entries() -> migrations.RunPython:
    """PostgreSQL: at commit, every journal entry touched must have postings summing to zero."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("""
            CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger AS $$
            BEGIN
                IF (SELECT COALESCE(SUM(amount), 0) FROM ledger_posting WHERE entry_id = NEW.entry_id) <> 0 THEN
                    RAISE EXCEPTION USING MESSAGE = 'journal entry ' || NEW.entry_id || ' is not balanced';
                END IF;
                RETURN NULL;
            END; $$ LANGUAGE plpgsql;
            CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();
        """)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting; "
                                  "DROP FUNCTION IF EXISTS ledger_entry_balanced();")

    return migrations.RunPython(forward, backward)
