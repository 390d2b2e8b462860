"""Japanese substring search, shared by the job and listing searches: Japanese has no word breaks, so no
stemming — each of the first five space-separated words must appear in one of the fields.

On PostgreSQL a word is first narrowed by an n-gram GIN index, then checked by the same `icontains` as on
SQLite, so the results are identical. LIKE '%記事%' cannot use a btree index and pg_trgm needs three
characters, while Japanese search words are often two: the index (migrations jobs 0003, orders 0003) holds
`anshin_grams(fields...)`, the distinct 1- and 2-character substrings of each upper-cased field, and a word
must contain all of `anshin_word_grams(word)` — its 2-character substrings, or itself when one character.
Each caller needs such an index over exactly its `fields` (in that order) for the planner to use it."""

from functools import reduce
from operator import or_

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value

MAX_WORDS = 5


class _ContainsAll(Func):
    """`left @> right` on two arrays."""

    function = ""
    arg_joiner = " @> "
    output_field = BooleanField()


def substring_search(queryset: QuerySet, q: str, fields: tuple[str, ...]) -> QuerySet:
    indexed = connections[queryset.db].vendor == "postgresql"
    for word in (q or "").split()[:MAX_WORDS]:
        matches = reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields))
        if indexed:
            grams = _ContainsAll(Func(*map(F, fields), function="anshin_grams"),
                                 Func(Value(word), function="anshin_word_grams"))
            queryset = queryset.filter(grams, matches)
        else:
            queryset = queryset.filter(matches)
    return queryset
