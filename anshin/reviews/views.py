"""The review page of a deal: status, the form, your own review, and after the reveal both reviews and the
reply form. Parties only (404 for anyone else). What the page may show comes from `selectors.window_status`,
which never hands the other side's review over before the reveal."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from anshin.core.errors import DomainError, NotFound
from anshin.reviews import selectors, services
from anshin.reviews.forms import ReplyForm, ReviewForm, form_errors
from anshin.reviews.models import Review

ROLE_WORDS = {"client": _("発注者"), "worker": _("受注者")}


def _window_or_404(window_id: int, user):
    try:
        return selectors.review_window_get(window_id=window_id, user=user)
    except NotFound:
        raise Http404 from None


def _card(review: Review | None):
    if review is None:
        return None
    return {"review": review, "ratings": selectors.ratings(review), "role": ROLE_WORDS.get(review.author_role, "")}


def _page(request, window, *, form=None, reply_form=None, error: str = "", status: int = 200):
    state = selectors.window_status(window, request.user)
    context = {
        "window": window,
        "status": state,
        "role_word": ROLE_WORDS.get(state.role, ""),
        "mine": _card(state.mine),
        "theirs": _card(state.theirs),
        "form": (form or ReviewForm()) if state.can_submit else None,
        "reply_form": (reply_form or ReplyForm()) if state.can_reply else None,
        "error": error,
    }
    return render(request, "reviews/window.html", context, status=status)


@login_required
def window(request, window_id: int):
    the_window = _window_or_404(window_id, request.user)  # the party check comes before anything else
    if request.method in ("GET", "HEAD"):
        return _page(request, the_window)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = ReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        services.review_submit(
            window_id=the_window.pk, user=request.user, ratings=form.ratings(), comment=form.cleaned_data["comment"]
        )
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        the_window = _window_or_404(window_id, request.user)  # fresh: the clock may have closed it meanwhile
        return _page(request, the_window, form=form, error=e.message,
                     status=e.status if 400 <= e.status < 500 else 400)
    flash.success(request, "評価を投稿しました。")
    return redirect("reviews:window", window_id=the_window.pk)


@login_required
def reply(request, review_id: int):
    window_id = Review.objects.filter(pk=review_id).values_list("window_id", flat=True).first()
    if window_id is None:
        raise Http404
    the_window = _window_or_404(window_id, request.user)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReplyForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        services.review_reply(review_id=review_id, user=request.user, text=form.cleaned_data["text"])
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        the_window = _window_or_404(window_id, request.user)
        return _page(request, the_window, reply_form=form, error=e.message,
                     status=e.status if 400 <= e.status < 500 else 400)
    flash.success(request, "返信を投稿しました。")
    return redirect("reviews:window", window_id=the_window.pk)
