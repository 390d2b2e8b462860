"""The worker's pages (/payouts/, the bank account form, the balance page) and the operators' withdrawal
queue in /ops/: what people see, what a form submit changes, and that everyone else gets 404."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from anshin.core import clock
from anshin.ledger.services import balance, worker_code
from anshin.ops.models import QueueItem
from anshin.payouts import services
from anshin.payouts.models import BankAccount, Withdrawal
from anshin.payouts.services import pending_code
from tests import ops as build
from tests.payouts.conftest import BANK
from tests.web.helpers import login, text


def _testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, name
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def request_key(html: str) -> str:
    return re.search(r'name="request_key" value="([0-9a-f]+)"', html).group(1)


# --- the worker -------------------------------------------------------------------------------------------------


def test_payouts_needs_a_login(db):
    from django.test import Client

    for path in ("/payouts/", "/payouts/bank-account/"):
        response = Client().get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_without_a_bank_account_the_page_asks_for_one(worker, earned):
    page = text(login(worker).get("/payouts/"))
    assert _testid(page, "available") == f"¥{earned:,}"
    assert "先に出金先の銀行口座を登録してください" in page
    assert 'data-testid="withdrawal-form"' not in page


def test_register_a_bank_account_with_half_width_katakana_and_full_width_digits(worker):
    client = login(worker)
    data = {**BANK, "bank_code": "０００１", "account_number": "12345", "holder": "ﾔﾏﾀﾞ ﾊﾅｺ"}
    response = client.post("/payouts/bank-account/", data)
    assert response.status_code == 302 and response["Location"] == "/payouts/"
    account = BankAccount.objects.get(user=worker)
    assert (account.bank_code, account.account_number, account.holder) == ("0001", "0012345", "ヤマダ　ハナコ")
    page = text(client.get("/payouts/"))
    assert "出金先の口座を登録しました" in page and "****345" in _testid(page, "bank-summary")


def test_bank_account_errors_are_shown_beside_each_field_in_japanese(worker):
    response = login(worker).post("/payouts/bank-account/", {**BANK, "bank_code": "12", "holder": "山田花子"})
    assert response.status_code == 400
    page = text(response)
    assert "数字4桁で入力してください" in _testid(page, "error-bank_code")
    assert "カタカナで入力してください" in _testid(page, "error-holder")
    assert not BankAccount.objects.filter(user=worker).exists()


def test_request_shows_available_and_minimum_and_moves_the_money(worker, earned, bank):
    client = login(worker)
    page = text(client.get("/payouts/"))
    assert "¥1,000以上" in _testid(page, "minimum") and f"¥{earned:,}" in _testid(page, "minimum")
    key = request_key(page)
    response = client.post("/payouts/", {"amount": "１２，０００円", "request_key": key})
    assert response.status_code == 302
    again = client.post("/payouts/", {"amount": "12000", "request_key": key})  # the double click
    assert again.status_code == 302
    assert Withdrawal.objects.filter(user=worker).count() == 1
    assert (balance(worker_code(worker.pk)), balance(pending_code(worker.pk))) == (earned - 12_000, 12_000)
    page = text(client.get("/payouts/"))
    assert "出金申請を受け付けました（¥12,000）" in page
    assert _testid(page, "pending") == "¥12,000"
    row = re.search(r'data-testid="withdrawal-row".*?</tr>', page, re.S).group(0)
    assert "¥12,000" in row and "振込待ち" in row and "申請を取り消す" in row


@pytest.mark.parametrize(("amount", "message"), [
    ("999", "¥1,000以上"), ("100000", "出金可能額（¥24,000）を超えています"), ("12.5", "整数"), ("abc", "整数"),
])
def test_a_refused_request_says_why_and_changes_nothing(worker, earned, bank, amount, message):
    response = login(worker).post("/payouts/", {"amount": amount, "request_key": "k1"})
    assert response.status_code == 400
    assert message in _testid(text(response), "error")
    assert not Withdrawal.objects.exists()
    assert balance(worker_code(worker.pk)) == earned


def test_cancel_from_the_page_and_others_get_404(worker, earned, bank, stranger):
    w = services.withdrawal_request(user=worker, amount=5_000)
    assert login(stranger).post(f"/payouts/{w.pk}/cancel/").status_code == 404
    client = login(worker)
    assert client.get(f"/payouts/{w.pk}/cancel/").status_code == 405
    response = client.post(f"/payouts/{w.pk}/cancel/")
    assert response.status_code == 302
    w.refresh_from_db()
    assert w.state == "cancelled" and balance(worker_code(worker.pk)) == earned
    page = text(client.get("/payouts/"))
    assert "出金申請を取り消しました" in page and 'data-testid="cancel"' not in page


def test_another_users_withdrawals_are_not_listed(worker, earned, bank, stranger):
    services.withdrawal_request(user=worker, amount=5_000)
    page = text(login(stranger).get("/payouts/"))
    assert 'data-testid="withdrawal-row"' not in page


def test_the_balance_page_shows_pending_withdrawals_and_the_link(worker, earned, bank):
    services.withdrawal_request(user=worker, amount=4_000)
    page = text(login(worker).get("/balance/"))
    assert _testid(page, "balance") == f"¥{earned - 4_000:,}"
    assert _testid(page, "pending-withdrawals") == "¥4,000"
    assert 'href="/payouts/"' in page and "出金申請 #" in page  # the ledger line of the request


# --- the operators ----------------------------------------------------------------------------------------------


def test_withdrawal_queue_ordered_by_due_with_overdue_red_and_the_bank_snapshot(
        worker, earned, bank, operator, time_machine):
    time_machine.move_to(timezone.make_aware(timezone.datetime(2026, 4, 1, 10, 0)), tick=False)
    first = services.withdrawal_request(user=worker, amount=2_000)
    time_machine.move_to(clock.now() + timedelta(days=2), tick=False)
    second = services.withdrawal_request(user=worker, amount=3_000)
    first_item, second_item = build.item_for(first), build.item_for(second)
    time_machine.move_to(first_item.due_at + timedelta(minutes=1), tick=False)
    page = text(login(operator).get("/ops/withdrawals/"))
    rows = re.findall(r'<tr class="ops-row( overdue)?" data-testid="queue-row" data-item="(\d+)">', page)
    assert [(int(pk), bool(red)) for red, pk in rows] == [(first_item.pk, True), (second_item.pk, False)]
    assert "安心銀行（0001）" in page and "1234567" in page and "ヤマダ　ハナコ" in page
    queue = text(login(operator).get("/ops/queue/withdrawal/"))
    assert "出金申請 ¥2,000" in queue


def test_item_page_shows_snapshot_risk_panel_and_pays_with_a_required_note(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    services.bank_account_save(user=worker, data={**BANK, "account_number": "7654321"})  # changed after the request
    item = build.item_for(w, QueueItem.Kind.WITHDRAWAL)
    client = login(operator)
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert "1234567" in _testid(page, "bank-snapshot")
    assert "申請後に変更" in _testid(page, "bank-changed")
    assert 'data-testid="risk-panel"' in page and 'data-testid="pay-form"' in page
    assert 'data-testid="reverse-form"' in page and 'data-testid="close-form"' not in page

    response = client.post(f"/ops/items/{item.pk}/pay/", {"note": ""})
    assert response.status_code == 400 and "内部メモを入力してください" in _testid(text(response), "error")
    assert Withdrawal.objects.get(pk=w.pk).state == "requested"

    response = client.post(f"/ops/items/{item.pk}/pay/", {"note": "振込実行済み"})
    assert response.status_code == 302
    assert Withdrawal.objects.get(pk=w.pk).state == "paid"
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert _testid(page, "item-state") == "対応済み" and "振込実行済み" in page
    assert 'data-testid="pay-form"' not in page


def test_reverse_from_the_item_page(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    item = build.item_for(w)
    response = login(operator).post(f"/ops/items/{item.pk}/reverse/",
                                    {"reason": "bank_rejected", "note": "振込エラー（口座なし）"})
    assert response.status_code == 302
    assert balance(worker_code(worker.pk)) == earned
    page = text(login(worker).get("/payouts/"))
    assert "金融機関で振込が受け付けられませんでした" in _testid(page, "reverse-reason")
    assert "振込エラー" not in page  # the internal note stays internal


def test_a_waiting_withdrawal_cannot_be_closed_without_a_decision(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    item = build.item_for(w)
    response = login(operator).post(f"/ops/items/{item.pk}/close/", {"resolution": "done", "note": "確認"})
    assert response.status_code == 409
    assert "振込済みにする" in _testid(text(response), "error")
    assert QueueItem.objects.get(pk=item.pk).state == "open"


def test_dashboard_pending_payouts_is_the_sum_of_waiting_withdrawals(worker, earned, bank, operator):
    services.withdrawal_request(user=worker, amount=7_000)
    paid = services.withdrawal_request(user=worker, amount=2_000)
    services.withdrawal_pay(withdrawal_id=paid.pk, operator=operator, note="振込済み")
    page = text(login(operator).get("/ops/"))
    assert _testid(page, "payouts-total") == "¥7,000"
    assert _testid(page, "available-total") == f"¥{earned - 9_000:,}"


def test_the_withdrawal_console_is_404_for_everyone_else(worker, earned, bank, stranger, make_user):
    w = services.withdrawal_request(user=worker, amount=10_000)
    item = build.item_for(w)
    staff = make_user("staffer", is_staff=True)
    for user in (worker, stranger, staff):
        client = login(user)
        assert client.get("/ops/withdrawals/").status_code == 404
        assert client.get(f"/ops/items/{item.pk}/").status_code == 404
        assert client.post(f"/ops/items/{item.pk}/pay/", {"note": "払う"}).status_code == 404
        assert client.post(f"/ops/items/{item.pk}/reverse/", {"reason": "other", "note": "戻す"}).status_code == 404
    assert Withdrawal.objects.get(pk=w.pk).state == "requested"
