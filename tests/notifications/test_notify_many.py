"""`notify_many` (the clock's batches) leaves what one `notify` per notice would: a dedupe key already used —
before the batch or earlier in it — writes nothing more, and each row's e-mail plan follows its rule and its
user's choice."""

import pytest

from anshin.notifications.models import EmailPreference, Notification
from anshin.notifications.services import notice, notify, notify_many

pytestmark = pytest.mark.django_db
State = Notification.EmailState


def test_a_used_key_is_skipped_and_a_key_twice_in_the_batch_is_written_once(client_user, worker):
    notify(user=worker, kind="contract.accept", title="先に届いた通知", dedupe_key="k:old")
    notify_many([
        notice(user=worker, kind="contract.accept", title="重複（既存）", dedupe_key="k:old"),
        notice(user=worker, kind="contract.accept", title="新しい通知", dedupe_key="k:new"),
        notice(user=client_user, kind="contract.accept", title="同じバッチの二度目", dedupe_key="k:new"),
        notice(user=client_user, kind="review.opened", title="評価のお願い", dedupe_key="k:review"),
    ])
    rows = dict(Notification.objects.values_list("dedupe_key", "title"))
    assert rows == {"k:old": "先に届いた通知", "k:new": "新しい通知", "k:review": "評価のお願い"}


def test_each_row_is_planned_for_e_mail_by_its_rule_and_its_users_choice(client_user, worker):
    EmailPreference.objects.create(user=worker, group="deals", email=False, updated_at="2026-04-01T00:00+09:00")
    notify_many([
        notice(user=worker, kind="contract.accept", title="オフにした人", dedupe_key="a"),
        notice(user=client_user, kind="contract.accept", title="既定のまま", dedupe_key="b"),
        notice(user=worker, kind="contract.inspection_reminder", title="リマインダーは必ず", dedupe_key="c"),
        notice(user=worker, kind="report.received", title="アプリ内のみ", dedupe_key="d"),
    ])
    plans = {key: (state, due is not None) for key, state, due in
             Notification.objects.values_list("dedupe_key", "email_state", "email_due_at")}
    assert plans == {"a": (State.OFF, False), "b": (State.PENDING, True), "c": (State.PENDING, True),
                     "d": (State.NONE, False)}
