"""`__in` with a list of integers or texts is one array parameter on PostgreSQL — `col = ANY(%s)` — instead of
one placeholder per value. The clock's batches filter by 500 to 1,000 keys at a time (contracts, accounts, dedupe
keys), and building those placeholders (Django) and splitting them again (psycopg), for every such query, cost
about a tenth of a batch. PostgreSQL plans `IN (…)` as `= ANY(array)` itself, so the plan is the same.

Registered for every field and foreign key by `CoreConfig.ready()`. Anything else — another database, a
subquery, other types (dates, booleans, JSON), a composite key — is Django's own `IN`."""

from django.core.exceptions import EmptyResultSet, FieldError
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

INTEGER_TYPES = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                           "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                           "PositiveSmallIntegerField"})
TEXT_TYPES = frozenset({"CharField", "TextField"})


class ArrayIn:
    def as_sql(self, compiler, connection):
        values = self._array_values(connection)
        if values is None:
            return super().as_sql(compiler, connection)
        if not values:
            raise EmptyResultSet  # as Django's IN: nothing can match
        lhs_sql, params = self.process_lhs(compiler, connection)
        return f"{lhs_sql} = ANY(%s)", (*params, values)

    def _array_values(self, connection) -> list | None:
        """The prepared values, when they can travel as one array; else None."""
        if connection.vendor != "postgresql" or not self.rhs_is_direct_value():
            return None
        try:
            field = self.lhs.output_field
        except (AttributeError, FieldError):
            return None
        while field.is_relation:  # a foreign key compares its target's values
            field = field.target_field
        kind = field.get_internal_type()
        plain = int if kind in INTEGER_TYPES else str if kind in TEXT_TYPES else None
        values = [value for value in self.rhs if value is not None]  # NULL never equals anything
        if plain is None or any(type(value) is not plain for value in values):  # bool is an int: not here
            return None
        return values


class FieldArrayIn(ArrayIn, In):
    pass


class RelatedArrayIn(ArrayIn, RelatedIn):
    pass
