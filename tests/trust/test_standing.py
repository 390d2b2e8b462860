"""Account standing: operators warn, restrict messaging, suspend (and reinstate), verify identity. Every measure
is operators-only (404 for others), needs an internal note and leaves an audit event carrying it; a suspended
user can no longer log in or use their API tokens, and their session ends."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from anshin.core.api_auth import token_create
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.trust import reports, standing
from anshin.trust.models import Report

pytestmark = pytest.mark.django_db
PASSWORD = "pass-Anshin-2026"  # tests/conftest.py make_user


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # allauth keeps login-failure counters in the cache
    yield
    cache.clear()


def _call(name, user_id, operator, note="規約違反の確認", **extra):
    if name == "account_warn":
        extra.setdefault("message", "外部での直接取引のお誘いは禁止されています。")
    return getattr(standing, name)(user_id=user_id, operator=operator, note=note, **extra)


ACTIONS = ["account_warn", "account_restrict", "account_suspend", "account_verify_identity"]


@pytest.mark.parametrize("name", [*ACTIONS, "account_unrestrict", "account_reinstate"])
def test_non_operators_get_not_found(name, worker, stranger):
    with pytest.raises(NotFound):
        _call(name, worker.pk, stranger)
    assert not AuditEvent.objects.filter(action=name).exists()


@pytest.mark.parametrize("name", ACTIONS)
def test_a_note_is_required(name, worker, operator):
    with pytest.raises(DomainError) as caught:
        _call(name, worker.pk, operator, note="  ")
    assert caught.value.code == "note_required"
    worker.refresh_from_db()
    assert worker.is_active and worker.messaging_restricted_at is None and worker.identity_verified_at is None
    assert not AuditEvent.objects.filter(action=name).exists()


@pytest.mark.parametrize("name", ACTIONS)
def test_each_action_is_audited_with_its_note(name, worker, operator):
    _call(name, worker.pk, operator, note=f"{name}の内部メモ")
    event = AuditEvent.objects.get(action=name)
    assert event.actor == operator and event.actor_role == "operator" and event.subject_id == worker.pk
    assert event.payload["note"] == f"{name}の内部メモ"


def test_unknown_user_is_not_found(operator):
    with pytest.raises(NotFound):
        _call("account_warn", 987654, operator)


def test_warning_reaches_the_user_with_the_operators_words(worker, operator):
    _call("account_warn", worker.pk, operator, note="2回目の通報", message="連絡先の交換はご遠慮ください。")
    warning = Notification.objects.get(user=worker, kind="account.warning")
    assert warning.body == "連絡先の交換はご遠慮ください。" and "2回目の通報" not in warning.body
    with pytest.raises(DomainError) as caught:
        _call("account_warn", worker.pk, operator, message=" ")
    assert caught.value.code == "message_required"


def test_restrict_and_unrestrict_messaging(worker, operator):
    _call("account_restrict", worker.pk, operator)
    worker.refresh_from_db()
    assert worker.messaging_restricted_at is not None
    assert Notification.objects.filter(user=worker, kind="account.restricted").exists()
    with pytest.raises(DomainError) as caught:
        _call("account_restrict", worker.pk, operator)
    assert caught.value.status == 409
    _call("account_unrestrict", worker.pk, operator, note="改善を確認")
    worker.refresh_from_db()
    assert worker.messaging_restricted_at is None
    assert AuditEvent.objects.get(action="account_unrestrict").payload["note"] == "改善を確認"


def test_verify_identity(worker, operator):
    _call("account_verify_identity", worker.pk, operator, note="運転免許証を確認")
    worker.refresh_from_db()
    assert worker.identity_verified_at is not None
    assert Notification.objects.filter(user=worker, kind="account.identity_verified").exists()


@pytest.mark.parametrize("name", ["account_warn", "account_restrict", "account_suspend"])
def test_operators_cannot_act_against_themselves_or_other_operators(name, operator, make_user):
    from anshin.ops.permissions import grant_operator

    colleague = make_user("colleague")
    grant_operator(colleague)
    for target in (operator, colleague):
        with pytest.raises(DomainError) as caught:
            _call(name, target.pk, operator)
        assert caught.value.code in ("self", "operator")
        target.refresh_from_db()
        assert target.is_active and target.messaging_restricted_at is None


def test_suspended_user_cannot_log_in_use_tokens_or_stay_logged_in(worker, operator):
    key = token_create(user=worker).key
    session = Client()
    session.force_login(worker)
    assert session.get(reverse("accounts:balance")).status_code == 200

    _call("account_suspend", worker.pk, operator)
    worker.refresh_from_db()
    assert not worker.is_active and worker.suspended_at is not None

    # the open session is over: a login-only page sends them to the login form
    response = session.get(reverse("accounts:balance"))
    assert response.status_code == 302 and reverse("account_login") in response.url
    # the login form refuses them
    fresh = Client()
    fresh.post(reverse("account_login"), {"login": worker.email, "password": PASSWORD})
    assert "_auth_user_id" not in fresh.session
    assert fresh.get(reverse("accounts:balance")).status_code == 302
    # API tokens stop working, and no new one is issued
    response = Client(headers={"Authorization": f"Bearer {key}"}).get("/api/me")
    assert response.status_code == 401
    response = Client().post("/api/tokens", json.dumps({"email": worker.email, "password": PASSWORD}),
                             content_type="application/json")
    assert response.status_code == 400
    # their profile is gone from public view
    assert Client().get(reverse("accounts:profile", args=[worker.pk])).status_code == 404


def test_suspension_closes_the_open_reports_about_the_user(client_user, worker, operator):
    report = reports.report_create(user=client_user, subject_kind="user", subject_id=worker.pk, category="scam",
                                   text="前払いを要求されました")
    _call("account_suspend", worker.pk, operator, note="詐欺の確認")
    report.refresh_from_db()
    assert report.state == Report.State.CLOSED
    item = QueueItem.objects.get(kind="report", subject_id=report.pk)
    assert item.state == "closed" and item.resolution == "account_suspend" and item.note == "詐欺の確認"
    with pytest.raises(DomainError) as caught:
        _call("account_suspend", worker.pk, operator)
    assert caught.value.status == 409


def test_reinstate_lets_the_user_back_in(worker, operator):
    _call("account_suspend", worker.pk, operator)
    _call("account_reinstate", worker.pk, operator, note="異議申し立てを認める")
    worker = get_user_model().objects.get(pk=worker.pk)
    assert worker.is_active and worker.suspended_at is None
    reinstated = Notification.objects.get(user=worker, kind="account.reinstated")
    assert "引き続き事務局が" in reinstated.body
    client = Client()
    client.post(reverse("account_login"), {"login": worker.email, "password": PASSWORD})
    assert client.session.get("_auth_user_id") == str(worker.pk)
    with pytest.raises(DomainError) as caught:
        _call("account_reinstate", worker.pk, operator)
    assert caught.value.code == "not_suspended"


def test_suspension_freezes_open_deals_and_tells_the_counterparts(client_user, worker, operator):
    from tests import factories

    contract = factories.contract(client_user, worker, state="funded")
    order = factories.order(worker, client_user, state="in_progress")  # the worker also bought a service
    before = set(Notification.objects.filter(user=client_user).values_list("pk", flat=True))
    _call("account_suspend", worker.pk, operator, note="なりすましの疑い")
    contract.refresh_from_db()
    order.refresh_from_db()
    assert contract.state == "disputed" and order.state == "disputed"
    told = Notification.objects.filter(user=client_user).exclude(pk__in=before)
    assert told.filter(url__contains=f"/contracts/{contract.pk}/").exists()
    assert told.filter(url__contains=f"/orders/{order.pk}/").exists()
    assert contract.thread.messages.filter(body__contains="アカウント停止に伴い").exists()
    event = AuditEvent.objects.get(action="account_suspend")
    assert sorted(event.payload["frozen"]) == sorted([f"contract:{contract.pk}", f"order:{order.pk}"])
    # a reinstatement leaves the frozen deals with the operators
    _call("account_reinstate", worker.pk, operator, note="本人確認が取れた")
    contract.refresh_from_db()
    order.refresh_from_db()
    assert contract.state == "disputed" and order.state == "disputed"
