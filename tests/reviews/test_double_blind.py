"""Double-blind in every surface: after A submits, B sees that A has written — and nothing of what A wrote —
on the review page (rendered and raw HTML), the deal page, the API and in every notification (the e-mails are
made from those rows), until both have submitted or the window has closed; then both reviews show."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from anshin.core import timers
from anshin.notifications.models import Notification
from anshin.reviews import selectors, services
from anshin.reviews.models import Review
from tests.reviews.conftest import RATINGS_A, SECRET

pytestmark = pytest.mark.django_db

A_STARS = list(RATINGS_A.values())


def page(user, path) -> tuple[int, str]:
    browser = Client()
    browser.force_login(user)
    response = browser.get(path)
    return response.status_code, response.content.decode()


def api_reviews(api, window):
    status, body = api.get(f"/api/reviews/{window.pk}")
    assert status == 200, body
    return body


def assert_nothing_of_a(window, b, api_as):
    """B (the worker) cannot see A's review anywhere."""
    status, html = page(b, f"/reviews/{window.pk}/")
    assert status == 200
    assert SECRET not in html
    assert 'data-testid="their-review"' not in html
    assert "<tr data-axis" not in html  # no star rows of any review: B has not written one
    assert 'data-testid="other-submitted">投稿済み' in html  # that A has written: yes/no only
    status, deal_html = page(b, f"/contracts/{window.contract_id}/")
    assert status == 200 and SECRET not in deal_html
    assert 'data-testid="review-link"' in deal_html

    body = api_reviews(api_as(b), window)
    assert body["reviews"] == []
    assert body["other_submitted"] is True and body["submitted"] is False and body["can_submit"] is True
    raw = json.dumps(body, ensure_ascii=False)
    assert SECRET not in raw and "skill" not in raw

    for n in Notification.objects.filter(user=b):
        assert SECRET not in n.title + n.body
        assert "★" not in n.title + n.body

    assert list(selectors.reviews_about(b, limit=10)) == []  # nothing public on B's profile yet
    a_review = Review.objects.get(window=window)
    assert not selectors.review_visible(a_review, b)


def test_before_the_reveal_b_sees_only_that_a_has_written(window, client_user, worker, api_as):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    assert_nothing_of_a(window, worker, api_as)

    # A sees their own review, and that B has not written.
    status, html = page(client_user, f"/reviews/{window.pk}/")
    assert SECRET in html and 'data-testid="my-review"' in html
    assert 'data-testid="other-submitted">未投稿' in html
    assert 'data-testid="review-form"' not in html
    body = api_reviews(api_as(client_user), window)
    assert [r["comment"] for r in body["reviews"]] == [SECRET]
    assert [body["reviews"][0][f] for f in RATINGS_A] == A_STARS


def test_when_b_submits_too_both_reviews_show_everywhere(window, client_user, worker, api_as):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    services.review_submit(window_id=window.pk, user=worker, ratings={**RATINGS_A, "skill": 5},
                           comment="丁寧な発注でした。")
    status, html = page(worker, f"/reviews/{window.pk}/")
    assert SECRET in html and 'data-testid="their-review"' in html and 'data-testid="reply-form"' in html
    body = api_reviews(api_as(worker), window)
    assert sorted(r["comment"] for r in body["reviews"]) == sorted([SECRET, "丁寧な発注でした。"])
    assert body["revealed_at"] is not None and body["can_reply"] is True
    assert [r.comment for r in selectors.reviews_about(worker, limit=10)] == [SECRET]


def test_when_the_window_closes_b_sees_a_s_review(window, client_user, worker, clock, api_as):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    clock.move_to(window.closes_at - timedelta(seconds=1))
    assert_nothing_of_a(window, worker, api_as)
    clock.move_to(window.closes_at)
    timers.sweep()
    status, html = page(worker, f"/reviews/{window.pk}/")
    assert SECRET in html and 'data-testid="their-review"' in html
    assert 'data-testid="review-form"' not in html  # too late to write
    body = api_reviews(api_as(worker), window)
    assert [r["comment"] for r in body["reviews"]] == [SECRET]
    assert body["can_submit"] is False
    assert [r.comment for r in selectors.reviews_about(worker, limit=10)] == [SECRET]
    assert selectors.reviews_about(client_user, limit=10).count() == 0
