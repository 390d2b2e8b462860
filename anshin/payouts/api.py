"""Withdrawals API (出金申請): the twins of /payouts/ and the bank account page, calling the same services. A
worker sees only their own withdrawals (anyone else's id is 404). The operators' side is in ops/api.py."""

from typing import Literal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictInt

from anshin.core.api_auth import ERRORS, ActionOut, IdPath, LocalDateTime, actions_out
from anshin.jobs.api import Pagination
from anshin.payouts import selectors, services
from anshin.payouts.models import AccountType
from anshin.payouts.validation import HOLDER_MAX, NAME_MAX

router = Router(tags=["payouts"])

AccountTypeValue = Literal[tuple(AccountType.values)]  # type: ignore[valid-type]


class BankOut(Schema):
    bank_name: str
    bank_code: str
    branch_name: str
    branch_code: str
    account_type: str
    account_type_label: str = Field(..., alias="get_account_type_display")
    account_number: str
    holder: str


class BankAccountOut(BankOut):
    updated_at: LocalDateTime


class BankAccountIn(Schema):
    bank_name: str = Field(..., max_length=NAME_MAX * 2, description="銀行名")
    bank_code: str = Field(..., max_length=16, description="銀行コード（数字4桁・全角可）")
    branch_name: str = Field(..., max_length=NAME_MAX * 2, description="支店名")
    branch_code: str = Field(..., max_length=16, description="支店コード（数字3桁・全角可）")
    account_type: AccountTypeValue = Field(  # type: ignore[valid-type]
        ..., description="口座種別: ordinary（普通）/ current（当座）/ savings（貯蓄）"
    )
    account_number: str = Field(..., max_length=16, description="口座番号（数字7桁以内・7桁未満は先頭を0で埋める）")
    holder: str = Field(
        ..., max_length=HOLDER_MAX * 2, description="口座名義（全角・半角カタカナ。全角カタカナで保存）"
    )


class WithdrawalOut(Schema):
    id: int
    amount: int
    state: str
    state_label: str
    created_at: LocalDateTime
    decided_at: LocalDateTime | None
    reverse_reason: str
    reverse_reason_label: str = Field(..., alias="get_reverse_reason_display")
    bank: BankOut
    actions: list[ActionOut]

    @staticmethod
    def resolve_bank(obj):
        return obj

    @staticmethod
    def resolve_actions(obj):
        return actions_out(selectors.worker_actions(obj))


class WithdrawalIn(Schema):
    amount: StrictInt = Field(..., ge=1, le=10**12, description="出金額（円・整数）")
    request_key: str = Field(
        "", max_length=services.REQUEST_KEY_MAX,
        description="任意。同じキーでの再送は最初の申請を返します（二重申請の防止）",
    )


class PayoutSummaryOut(Schema):
    available: int = Field(..., description="出金可能額（円）")
    pending: int = Field(..., description="出金処理中（申請済み・未振込）の合計（円）")
    minimum: int = Field(..., description="出金額の下限（円）")
    due_business_days: int = Field(..., description="事務局が振り込むまでの営業日数")
    waiting_count: int
    waiting_total: int
    bank_account: BankAccountOut | None


@router.get("/payouts/balance", response={200: PayoutSummaryOut, **ERRORS}, summary="出金可能額と出金処理中の額")
def payout_summary(request):
    return {**selectors.summary(request.auth), "bank_account": selectors.bank_account_of(request.auth)}


@router.get("/payouts/bank-account", response={200: BankAccountOut, **ERRORS}, summary="出金先の口座")
def get_bank_account(request):
    account = selectors.bank_account_of(request.auth)
    if account is None:
        from anshin.core.errors import NotFound

        raise NotFound("出金先の口座はまだ登録されていません。")
    return account


@router.put("/payouts/bank-account", response={200: BankAccountOut, **ERRORS},
            summary="出金先の口座を登録・変更する（申請済みの出金は申請時の口座のまま）")
def put_bank_account(request, payload: BankAccountIn):
    return services.bank_account_save(user=request.auth, data=payload.dict())


@router.get("/payouts", response={200: list[WithdrawalOut], **ERRORS}, summary="自分の出金申請（新しい順）")
@paginate(Pagination)
def list_withdrawals(request):
    return selectors.withdrawals_of(request.auth)


@router.post("/payouts", response={201: WithdrawalOut, **ERRORS},
             summary="出金を申請する（出金可能額から、下限以上。出金処理中に移り、事務局が振り込む）")
def create_withdrawal(request, payload: WithdrawalIn):
    withdrawal = services.withdrawal_request(user=request.auth, amount=payload.amount, request_key=payload.request_key)
    return Status(201, withdrawal)


@router.get("/payouts/{withdrawal_id}", response={200: WithdrawalOut, **ERRORS}, summary="出金申請")
def get_withdrawal(request, withdrawal_id: int = IdPath()):
    return selectors.withdrawal_get(withdrawal_id=withdrawal_id, user=request.auth)


@router.post("/payouts/{withdrawal_id}/cancel", response={200: WithdrawalOut, **ERRORS},
             summary="出金申請を取り消す（振込前のみ。金額は出金可能額に戻る）")
def cancel_withdrawal(request, withdrawal_id: int = IdPath()):
    return services.withdrawal_cancel(withdrawal_id=withdrawal_id, user=request.auth)
