"""メール通知の設定: the page (/notifications/settings/), its API twin (/api/notifications/preferences), and the
unread count for the header."""

import pytest
from django.test import Client, RequestFactory

from anshin.notifications.context_processors import unread
from anshin.notifications.models import EmailPreference, Notification
from anshin.notifications.services import notify
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/notifications/settings/"
API = "/api/notifications/preferences"


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def api(user) -> ApiClient:
    from anshin.core.api_auth import token_create

    return ApiClient(token_create(user=user).key)


def stored(user) -> dict:
    return dict(EmailPreference.objects.filter(user=user).values_list("group", "email"))


def test_settings_page_lists_every_group_in_japanese(worker):
    page = logged_in(worker).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "メール通知の設定" in html and "worker@example.com" in html
    assert 'name="email" value="messages" checked' in html
    assert "期限のリマインダー・返信催促" in html and "常にメールでお知らせします" in html
    assert 'value="reminders" checked disabled' in html and 'value="money" checked disabled' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_unchecking_a_box_turns_that_group_off(worker):
    client = logged_in(worker)
    checked = ["deals", "jobs", "reviews", "trust", "other"]  # messages left unchecked
    response = client.post(URL, {"email": checked})
    assert response.status_code == 302 and response["Location"] == URL
    assert stored(worker) == {"messages": False, "deals": True, "jobs": True, "reviews": True, "trust": True,
                              "other": True}
    html = client.get(URL).content.decode()
    assert "メール通知の設定を保存しました。" in html
    assert 'value="messages" data-testid' in html and 'value="deals" checked' in html
    row = notify(user=worker, kind="message", title="新着", dedupe_key="m1")
    assert row.email_state == Notification.EmailState.OFF


def test_posting_cannot_switch_off_what_always_mails(worker):
    logged_in(worker).post(URL, {"email": []})  # every box unchecked, the disabled ones are not posted
    assert "reminders" not in stored(worker) and "money" not in stored(worker)
    row = notify(user=worker, kind="review.reminder", title="評価の期限まであと1日です", dedupe_key="r1")
    assert row.email_state == Notification.EmailState.PENDING


def test_settings_page_needs_login_and_csrf(worker):
    assert Client().get(URL).status_code == 302
    assert logged_in(worker, enforce_csrf_checks=True).post(URL, {"email": []}).status_code == 403
    assert stored(worker) == {}


def test_api_reads_and_changes_preferences(worker, client_user):
    status, body = api(worker).get(API)
    assert status == 200
    by_group = {g["group"]: g for g in body}
    assert by_group["messages"] == {"group": "messages", "label": "メッセージ", "help": by_group["messages"]["help"],
                                    "switchable": True, "email": True}
    assert by_group["reminders"]["switchable"] is False and by_group["reminders"]["email"] is True
    response = api(worker).client.put(API, '{"groups": {"messages": false, "reviews": false}}',
                                      content_type="application/json")
    assert response.status_code == 200
    assert {g["group"]: g["email"] for g in response.json()}["messages"] is False
    assert stored(worker) == {"messages": False, "reviews": False}
    assert stored(client_user) == {}  # only mine
    response = api(worker).client.put(API, '{"groups": {"messages": true}}', content_type="application/json")
    assert stored(worker) == {"messages": True, "reviews": False}  # groups not named keep their setting


@pytest.mark.parametrize(("payload", "status", "code"), [
    ('{"groups": {"money": false}}', 400, "not_switchable"),
    ('{"groups": {"messages": false, "nonsense": true}}', 400, "unknown_group"),
    ('{"groups": {"messages": "たぶん"}}', 422, "invalid"),
    ('{"groups": []}', 422, "invalid"),
])
def test_api_bad_input_changes_nothing(worker, payload, status, code):
    response = api(worker).client.put(API, payload, content_type="application/json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert any("\u3040" <= ch <= "\u9fff" for ch in response.json()["message"])
    assert stored(worker) == {}


def test_api_needs_authentication():
    assert Client().get(API).status_code == 401


def test_unread_count_for_the_header(worker, client_user):
    request = RequestFactory().get("/")
    request.user = worker
    assert unread(request) == {"notification_unread_count": 0}
    for i in range(3):
        notify(user=worker, kind="contract.fund", title="仮払い済み", dedupe_key=f"c{i}")
    notify(user=client_user, kind="contract.fund", title="仮払い済み", dedupe_key="other")
    Notification.objects.filter(dedupe_key="c0").update(read_at=Notification.objects.get(dedupe_key="c0").created_at)
    assert unread(request) == {"notification_unread_count": 2}
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert unread(request) == {}


def test_notification_list_links_to_the_settings(worker):
    html = logged_in(worker).get("/notifications/").content.decode()
    assert f'href="{URL}"' in html
