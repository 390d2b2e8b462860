"""Reading listings and orders. An order read after one of its deadlines is settled on the spot (like
contracts), so nobody ever sees a state the clock has already decided."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch

from anshin import rules
from anshin.core import audit, clock
from anshin.core.access import for_party, get_for_party
from anshin.core.errors import NotFound
from anshin.core.flows import Actor
from anshin.core.models import AuditEvent
from anshin.core.search import substring_search
from anshin.orders.flow import CANCEL_REQUEST_FLOW, LISTING_FLOW, ORDER_FLOW
from anshin.orders.models import CancelRequest, HearingQuestion, Listing, ListingOption, Order
from anshin.orders.services import order_settle_due, reasons_for, side_of

SORTS = {"new": ("-created_at", "-id"), "price_low": ("price", "-id"), "price_high": ("-price", "-id")}
SORT_LABELS = {"new": "新着順", "price_low": "価格の安い順", "price_high": "価格の高い順"}


# --- listings -------------------------------------------------------------------------------------------


def listing_search(*, q: str = "", category: str = "", price_min: int | None = None, price_max: int | None = None,
                   sort: str = "new"):
    """Active listings, Japanese substring search on title/description (like job_search). Queryset with
    `seller` prefetched: fetched for the page's rows only, where a JOIN would run for every match."""
    listings = Listing.objects.filter(state="active").prefetch_related("seller")
    listings = substring_search(listings, q, ("title", "description"))
    if category:
        listings = listings.filter(category=category)
    if price_min is not None:
        listings = listings.filter(price__gte=price_min)
    if price_max is not None:
        listings = listings.filter(price__lte=price_max)
    return listings.order_by(*SORTS.get(sort, SORTS["new"]))


def _with_parts(queryset):
    return queryset.select_related("seller").prefetch_related(
        Prefetch("options", queryset=ListingOption.objects.order_by("position", "id")),
        Prefetch("questions", queryset=HearingQuestion.objects.order_by("position", "id")),
    )


def listing_get(*, listing_id: int, user=None) -> Listing:
    """Active listings for anyone; a paused one only for its seller/operators (others: NotFound).
    Options and questions prefetched."""
    listing = _with_parts(Listing.objects.filter(pk=listing_id)).first()
    if listing is None:
        raise NotFound()
    if listing.state != "active":
        authenticated = user is not None and user.is_authenticated
        if not authenticated or (listing.seller_id != user.pk and not user.is_operator):
            raise NotFound()
    return listing


def listings_of(*, seller, include_paused: bool = False):
    listings = Listing.objects.filter(seller=seller).select_related("seller")
    if not include_paused:
        listings = listings.filter(state="active")
    return listings.order_by("-created_at", "-id")


def listing_actions(*, listing: Listing, user) -> list:
    """Flow rows (pause/resume) this user may take: seller/operator only."""
    if user is None or not user.is_authenticated:
        return []
    if listing.seller_id == user.pk:
        role = Actor.WORKER
    elif user.is_operator:
        role = Actor.OPERATOR
    else:
        return []
    return LISTING_FLOW.allowed(listing.state, [role])


# --- orders ---------------------------------------------------------------------------------------------

ORDER_RELATED = ("listing", "buyer", "seller", "buyer__presence", "seller__presence", "thread")


def order_get(*, order_id: int, user) -> Order:
    """Party-only (404 otherwise); settles a due timer first (and a lapsed キャンセル申請)."""
    order = get_for_party(Order.objects.select_related(*ORDER_RELATED), user, pk=order_id)
    now = clock.now()
    if (order.due_at and order.due_at <= now) or order.cancel_requests.filter(state="pending",
                                                                               due_at__lte=now).exists():
        order_settle_due(order.pk)
        order = get_for_party(Order.objects.select_related(*ORDER_RELATED), user, pk=order_id)
    return order


def order_list(*, user, role: str = ""):
    """My orders newest first; role "buyer" | "seller" | "" (both). Due ones are settled first (a batch at
    most; the sweeper does the rest)."""
    mine = for_party(Order.objects.all(), user)
    if role == "buyer":
        mine = Order.objects.filter(buyer=user)
    elif role == "seller":
        mine = Order.objects.filter(seller=user)
    now = clock.now()
    due = set(mine.filter(due_at__lte=now).values_list("pk", flat=True)[: rules.TICK_BATCH_SIZE])
    due |= set(CancelRequest.objects.filter(order__in=mine, state="pending", due_at__lte=now)
               .values_list("order_id", flat=True)[: rules.TICK_BATCH_SIZE])
    for order_id in sorted(due):
        order_settle_due(order_id)
    return mine.select_related("buyer", "seller").order_by("-created_at", "-id")


def _role(order: Order, user) -> Actor | None:
    return order.role_of(user) or (Actor.OPERATOR if user.is_operator else None)


def order_actions(*, order: Order, user) -> list:
    """Flow rows this user may take now, guards applied (rows without a label are not buttons)."""
    role = _role(order, user)
    if role is None:
        return []
    return [t for t in ORDER_FLOW.allowed(order.state, [role], order) if t.label]


def order_timeline(*, order: Order):
    return audit.timeline(order)


def order_deliveries(*, order: Order):
    return order.deliveries.select_related("message").prefetch_related("message__attachments")


def order_pending_cancel_request(*, order: Order) -> CancelRequest | None:
    return order.cancel_requests.filter(state="pending").select_related("requested_by").first()


def order_cancel_requests(*, order: Order):
    return order.cancel_requests.select_related("requested_by").order_by("-created_at", "-id")


def cancel_request_actions(*, cancel_request: CancelRequest, user) -> list:
    """agree/refuse for the other side, withdraw for the requester; operators all three."""
    if cancel_request.state != "pending":
        return []
    rows = CANCEL_REQUEST_FLOW.allowed(cancel_request.state, [Actor.CLIENT, Actor.WORKER, Actor.OPERATOR])
    rows = [t for t in rows if t.label]
    if cancel_request.requested_by_id == user.pk:
        return [t for t in rows if t.action == "withdraw"]
    if cancel_request.order.role_of(user) is not None:
        return [t for t in rows if t.action != "withdraw"]
    return rows if user.is_operator else []


def cancel_reasons(*, order: Order, user) -> list[tuple[str, str]]:
    """(code, Japanese label) the user may give now, gated by side and the order's state; empty if a
    request is already pending."""
    if order.state in ORDER_FLOW.terminal or order_pending_cancel_request(order=order) is not None:
        return []
    return list(reasons_for(order, side_of(order, user)).items())


def seller_expired_orders(seller):
    """Orders of this seller auto-cancelled by the 48 h rule (for the response rate)."""
    expired = AuditEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(Order), action="expire"
    ).values("subject_id")
    return Order.objects.filter(seller=seller, pk__in=expired)
