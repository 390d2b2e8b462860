from anshin.ledger.models import Posting


def postings_for(code: str):
    """An account's history, newest first, each posting with its entry (kind, memo, time)."""
    return Posting.objects.filter(account__code=code).select_related("entry").order_by("-entry__created_at", "-id")
