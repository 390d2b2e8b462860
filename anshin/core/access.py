"""Access is by party: one helper, used by every view and API handler. Anyone else gets 404, so the
existence of other people's deals is never revealed."""

from django.db.models import Model, QuerySet

from anshin.core.errors import NotFound


def for_party(queryset: QuerySet, user) -> QuerySet:
    """Rows of `queryset` that `user` is a party to; operators see all. Models define `party_q(user)`."""
    if not user.is_authenticated:
        return queryset.none()
    if getattr(user, "is_operator", False):
        return queryset
    # A semi-join (`pk IN (…)`), not a JOIN + DISTINCT: party_q's joins (thread members, client OR worker)
    # would otherwise duplicate rows, and DISTINCT over whole rows costs on every list and page.
    parties = queryset.model._base_manager.filter(queryset.model.party_q(user)).values("pk")
    return queryset.filter(pk__in=parties)


def get_for_party(queryset_or_model, user, **lookup) -> Model:
    queryset = queryset_or_model if isinstance(queryset_or_model, QuerySet) else queryset_or_model.objects.all()
    obj = for_party(queryset, user).filter(**lookup).first()
    if obj is None:
        raise NotFound()
    return obj
