"""Reading reviews. The double-blind rule lives here and nowhere else: before a window is revealed a viewer
gets back only the review they wrote themselves; the other side's review is never returned — so it cannot
reach a page, its HTML source or an API response. A window read after its closing time is revealed on the
spot (like every deal read), so nobody waits for the sweeper."""

from dataclasses import dataclass

from anshin.accounts.models import User
from anshin.core import clock
from anshin.core.errors import NotFound
from anshin.reviews.models import AXES, Review, ReviewWindow
from anshin.reviews.services import review_window_settle_due


def _window_qs():
    return ReviewWindow.objects.select_related("client", "worker", "contract", "order")


def review_window_get(*, window_id: int, user) -> ReviewWindow:
    """The window, for its two parties only (anyone else gets 404); revealed first if its time is up."""
    window = _window_qs().filter(pk=window_id).first() if user.is_authenticated else None
    if window is None or not window.role_of(user):
        raise NotFound()
    if window.revealed_at is None and window.due_at and window.due_at <= clock.now():
        review_window_settle_due(window.pk)
        window = _window_qs().get(pk=window_id)
    return window


def review_visible(review: Review, viewer) -> bool:
    """Its author always sees a review; anyone else only once the window is revealed."""
    return review.author_id == getattr(viewer, "pk", None) or review.window.revealed_at is not None


def reviews_for_window(window: ReviewWindow, viewer) -> list[Review]:
    """The reviews of `window` that `viewer` may see: before the reveal, only their own."""
    reviews = Review.objects.filter(window=window).select_related("author", "subject").order_by("submitted_at", "id")
    if window.revealed_at is None:
        reviews = reviews.filter(author_id=getattr(viewer, "pk", None))
    return list(reviews)


def reviews_about(user: User, limit: int | None = 20):
    """Public reviews about `user` (their window revealed), newest first — for profiles."""
    reviews = (
        Review.objects.filter(subject=user, window__revealed_at__isnull=False)
        .select_related("author", "window")
        .order_by("-submitted_at", "-id")
    )
    return reviews[:limit] if limit else reviews


@dataclass(frozen=True)
class WindowStatus:
    window: ReviewWindow
    role: str  # "client" | "worker"
    counterpart: User
    mine: Review | None  # the review the viewer wrote
    theirs: Review | None  # the review about the viewer: only once revealed
    other_submitted: bool  # yes/no only — never what was written
    can_submit: bool
    can_reply: bool


def window_status(window: ReviewWindow, viewer) -> WindowStatus:
    """Everything a party's review page (and the API twin) shows, with the double-blind rule applied."""
    visible = reviews_for_window(window, viewer)
    mine = next((r for r in visible if r.author_id == viewer.pk), None)
    theirs = next((r for r in visible if r.author_id != viewer.pk), None)
    other_submitted = theirs is not None or Review.objects.filter(window=window).exclude(author_id=viewer.pk).exists()
    open_now = window.revealed_at is None and clock.now() < window.closes_at
    return WindowStatus(
        window=window,
        role=window.role_of(viewer),
        counterpart=window.counterpart(viewer),
        mine=mine,
        theirs=theirs,
        other_submitted=other_submitted,
        can_submit=mine is None and open_now,
        can_reply=theirs is not None and theirs.replied_at is None,
    )


def ratings(review: Review) -> list[tuple[str, str, int]]:
    """[(field, label, stars)] in the order of AXES."""
    return [(field, label, getattr(review, field)) for field, label in AXES]
