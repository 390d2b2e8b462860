"""Profile and notification twins of the UI: edit my profile, read someone's public profile, the in-app
notification centre."""

from anshin.notifications.models import Notification
from tests import factories


def test_patch_me_changes_only_given_fields(worker, api_as):
    api = api_as(worker)
    status, me = api.patch("/api/me", {"bio": "Webライター歴5年です。", "skills": "WordPress, SEO、取材"})
    assert status == 200, me
    assert me["display_name"] == "山田花子" and me["bio"] == "Webライター歴5年です。"
    assert me["skills"] == ["WordPress", "SEO", "取材"]
    worker.refresh_from_db()
    assert worker.bio == "Webライター歴5年です。" and worker.display_name == "山田花子"


def test_patch_me_bad_input_changes_nothing(worker, api_as):
    api = api_as(worker)
    status, body = api.patch("/api/me", {"display_name": "長" * 51})
    assert status == 422 and body["code"] == "invalid"
    assert "表示名（display_name）は50文字以内で入力してください" in body["message"]
    status, body = api.patch("/api/me", {"hide_last_access": "たぶん"})
    assert status == 422 and "true または false" in body["message"]
    worker.refresh_from_db()
    assert worker.display_name == "山田花子" and worker.hide_last_access is False


def test_public_profile_hides_last_access_on_request(client_user, worker, api_as):
    api_as(worker).get("/api/me")  # the worker was here just now
    status, profile = api_as(client_user).get(f"/api/users/{worker.pk}")
    assert status == 200 and profile["name"] == "山田花子" and profile["last_seen_at"]
    api_as(worker).patch("/api/me", {"hide_last_access": True})
    status, profile = api_as(client_user).get(f"/api/users/{worker.pk}")
    assert profile["last_seen_at"] is None
    status, body = api_as(client_user).get("/api/users/987654")
    assert status == 404 and body["code"] == "not_found"


def test_notifications_list_and_mark_read(client_user, worker, api_as):
    factories.contract(client_user, worker)  # the offer notifies both parties
    api = api_as(worker)
    status, items = api.get("/api/notifications")
    assert status == 200 and items and all(n["read_at"] is None for n in items)
    assert any("オファー" in n["body"] for n in items)
    first = items[0]["id"]
    assert api.post(f"/api/notifications/{first}/read") == (200, {"marked": 1})
    assert api.post(f"/api/notifications/{first}/read") == (200, {"marked": 0})
    status, body = api.post("/api/notifications/read")
    assert status == 200 and body["marked"] == len(items) - 1
    assert not Notification.objects.filter(user=worker, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=client_user, read_at__isnull=True).exists()  # not theirs
