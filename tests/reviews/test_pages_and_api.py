"""The review page and its API twin: parties only (404 for anyone else, operators included), the form with
five ★ groups and a comment, bad input answered in Japanese without changing anything, the reply form."""

import pytest
from django.test import Client

from anshin.core.models import AuditEvent
from anshin.reviews import services
from anshin.reviews.models import Review, ReviewWindow
from tests import factories
from tests.reviews.conftest import RATINGS_A, RATINGS_B, SECRET

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form_data(ratings=RATINGS_A, comment=SECRET) -> dict:
    return {**{k: str(v) for k, v in ratings.items()}, "comment": comment}


# --- the page -------------------------------------------------------------------------------------------


def test_the_page_shows_status_and_the_form_in_japanese(window, worker):
    response = browser(worker).get(f"/reviews/{window.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "2026/4/15 10:00" in html  # closes_at, Japan time
    for label in ("スキル", "クオリティ", "スケジュール", "コミュニケーション", "パートナーシップ", "コメント"):
        assert label in html
    assert html.count('type="radio"') == 25
    assert 'data-testid="other-submitted">未投稿' in html


def test_submitting_through_the_page(window, client_user, worker):
    response = browser(client_user).post(f"/reviews/{window.pk}/", form_data())
    assert response.status_code == 302
    assert response["Location"] == f"/reviews/{window.pk}/"
    review = Review.objects.get()
    assert (review.author, review.skill, review.comment) == (client_user, 2, SECRET)
    html = browser(client_user).get(f"/reviews/{window.pk}/").content.decode()
    assert 'data-testid="review-form"' not in html and SECRET in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form_data(comment=""), "コメント"),
        ({**form_data(), "skill": "9"}, "スキル"),
        ({k: v for k, v in form_data().items() if k != "partnership"}, "パートナーシップ"),
        (form_data(comment="連絡は 090-1234-5678 までお願いします"), "外部の連絡先"),
    ],
)
def test_bad_input_on_the_page_changes_nothing(window, client_user, data, message):
    response = browser(client_user).post(f"/reviews/{window.pk}/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error"' in html and message in html
    assert not Review.objects.exists()


def test_strangers_and_operators_get_404_everywhere(window, client_user, worker, stranger, operator):
    review = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="良い発注者")
    for user in (stranger, operator):
        c = browser(user)
        assert c.get(f"/reviews/{window.pk}/").status_code == 404
        assert c.post(f"/reviews/{window.pk}/", form_data()).status_code == 404
        assert c.post(f"/reviews/items/{review.pk}/reply/", {"text": "部外者"}).status_code == 404
    assert browser(stranger).get(f"/reviews/{window.pk + 99}/").status_code == 404
    assert Client().get(f"/reviews/{window.pk}/").status_code == 302  # to the login page
    assert Review.objects.filter(reply="").count() == 2


def test_replying_through_the_page(window, client_user, worker):
    about_worker = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    c = browser(worker)
    assert c.post(f"/reviews/items/{about_worker.pk}/reply/", {"text": "まだ見えない"}).status_code == 404
    services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="良い発注者")
    response = c.post(f"/reviews/items/{about_worker.pk}/reply/", {"text": "ご指摘ありがとうございます。"})
    assert response.status_code == 302
    html = c.get(f"/reviews/{window.pk}/").content.decode()
    assert "ご指摘ありがとうございます。" in html and 'data-testid="reply-form"' not in html
    again = c.post(f"/reviews/items/{about_worker.pk}/reply/", {"text": "二回目"})
    assert again.status_code == 409
    assert "返信は1回だけ" in again.content.decode()
    assert browser(client_user).post(f"/reviews/items/{about_worker.pk}/reply/", {"text": "自分"}).status_code == 403


def test_the_order_page_links_to_its_review_page_for_the_parties(clock, client_user, worker, operator):
    order = factories.order(client_user, worker, state="completed")
    window = ReviewWindow.objects.get(order=order)
    html = browser(worker).get(f"/orders/{order.pk}/").content.decode()
    assert f'href="/reviews/{window.pk}/"' in html
    in_progress = factories.order(client_user, worker, state="in_progress")
    assert 'data-testid="review-box"' not in browser(worker).get(f"/orders/{in_progress.pk}/").content.decode()


# --- the API --------------------------------------------------------------------------------------------


def test_api_submit_and_read(window, client_user, worker, api_as):
    status, body = api_as(client_user).post(f"/api/reviews/{window.pk}", {**RATINGS_A, "comment": SECRET})
    assert status == 201, body
    assert body["submitted"] is True and body["other_submitted"] is False and body["can_submit"] is False
    assert body["deal_kind"] == "contract" and body["deal_id"] == window.contract_id
    assert body["closes_at"].endswith("+09:00")
    [mine] = body["reviews"]
    assert mine["author"]["id"] == client_user.pk and mine["average"] == 2.4

    status, body = api_as(client_user).post(f"/api/reviews/{window.pk}", {**RATINGS_A, "comment": "二回目"})
    assert (status, body["code"]) == (409, "already_submitted")

    status, body = api_as(worker).post(f"/api/reviews/{window.pk}", {**RATINGS_B, "comment": "良い発注者"})
    assert status == 201 and body["revealed_at"] is not None and len(body["reviews"]) == 2
    theirs = next(r for r in body["reviews"] if r["author"]["id"] == client_user.pk)
    status, body = api_as(worker).post(f"/api/reviews/items/{theirs['id']}/reply", {"body": "ありがとうございました"})
    assert status == 200, body
    assert next(r for r in body["reviews"] if r["id"] == theirs["id"])["reply"] == "ありがとうございました"
    assert AuditEvent.objects.filter(action="review_reply").count() == 1


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({**RATINGS_A, "skill": 0, "comment": "よい"}, 422, "invalid"),
        ({**RATINGS_A, "skill": "5", "comment": "よい"}, 422, "invalid"),
        ({**RATINGS_A}, 422, "invalid"),
        ({**RATINGS_A, "comment": "  "}, 400, "empty"),
        ({**RATINGS_A, "comment": "skype: yamada.hanako で"}, 400, "contact_details"),
    ],
)
def test_api_bad_input_is_a_json_error_and_changes_nothing(window, client_user, api_as, payload, status, code):
    got, body = api_as(client_user).post(f"/api/reviews/{window.pk}", payload)
    assert (got, body["code"]) == (status, code)
    assert body["message"]
    assert not Review.objects.exists()


def test_api_non_parties_get_404(window, client_user, worker, stranger, operator, api_as):
    review = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    for user in (stranger, operator):
        api = api_as(user)
        assert api.get(f"/api/reviews/{window.pk}") == (404, {"code": "not_found", "message": "見つかりません。"})
        assert api.post(f"/api/reviews/{window.pk}", {**RATINGS_A, "comment": "部外者"})[0] == 404
        assert api.post(f"/api/reviews/items/{review.pk}/reply", {"body": "部外者"})[0] == 404
    # before the reveal, the subject cannot reach the review either
    assert api_as(worker).post(f"/api/reviews/items/{review.pk}/reply", {"body": "まだ"})[0] == 404
    assert api_as(None).get(f"/api/reviews/{window.pk}")[0] == 401


def test_the_review_page_costs_the_same_before_and_after_both_reviews(window, client_user, worker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page = browser(worker)
    url = f"/reviews/{window.pk}/"
    page.get(url)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert page.get(url).status_code == 200
        return len(queries)

    empty = count()
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment="良い")
    services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="良い発注者")
    assert count() <= empty + 3  # both reviews (and their authors) shown: a fixed number more, not per row
