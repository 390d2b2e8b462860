"""Japanese substring search, shared by the job and listing searches: Japanese has no word breaks, so no
stemming — each of the first five space-separated words must appear in one of the fields."""

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

MAX_WORDS = 5


def substring_search(queryset: QuerySet, q: str, fields: tuple[str, ...]) -> QuerySet:
    for word in (q or "").split()[:MAX_WORDS]:
        queryset = queryset.filter(reduce(or_, (Q(**{f"{field}__icontains": word}) for field in fields)))
    return queryset
