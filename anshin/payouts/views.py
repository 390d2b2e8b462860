"""Withdrawal pages: the worker's withdrawals with the request form (/payouts/), cancelling a waiting request,
and the bank account form. Views parse input, call one service, render; refusals show their Japanese message
and other people's withdrawals are 404."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from anshin.core.errors import DomainError
from anshin.core.money import yen
from anshin.payouts import selectors, services
from anshin.payouts.forms import BankAccountForm, WithdrawalForm
from anshin.payouts.validation import BankDetailsInvalid

PAGE_SIZE = 20


def _list_page(request, form: WithdrawalForm, *, status: int = 200):
    page = Paginator(selectors.withdrawals_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    for withdrawal in page.object_list:
        withdrawal.actions = selectors.worker_actions(withdrawal)
    return render(
        request,
        "payouts/list.html",
        {"form": form, "page": page, "bank": selectors.bank_account_of(request.user),
         **selectors.summary(request.user)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def withdrawals(request):
    if request.method != "POST":
        return _list_page(request, WithdrawalForm())
    form = WithdrawalForm(request.POST)
    if form.is_valid():
        try:
            withdrawal = services.withdrawal_request(
                user=request.user, amount=form.cleaned_data["amount"], request_key=form.cleaned_data["request_key"]
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404 from None
            form.add_error("amount" if error.code in ("below_minimum", "insufficient_balance") else None,
                           error.message)
        else:
            flash.success(request, f"出金申請を受け付けました（{yen(withdrawal.amount)}）。"
                                   "事務局が確認のうえ、登録口座へ振り込みます。")
            return redirect("payouts:list")
    return _list_page(request, form, status=400)


@login_required
@require_POST
def cancel(request, withdrawal_id: int):
    try:
        services.withdrawal_cancel(withdrawal_id=withdrawal_id, user=request.user)
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        flash.error(request, error.message)
    else:
        flash.success(request, "出金申請を取り消しました。金額は出金可能額に戻りました。")
    return redirect("payouts:list")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def bank_account(request):
    current = selectors.bank_account_of(request.user)
    if request.method != "POST":
        form = BankAccountForm(initial=current.bank_details() if current else None)
        return render(request, "payouts/bank_account.html", {"form": form, "current": current})
    form = BankAccountForm(request.POST)
    if form.is_valid():
        try:
            services.bank_account_save(user=request.user, data=form.cleaned_data)
        except BankDetailsInvalid as error:
            form.add_service_errors(error.errors)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            flash.success(request, "出金先の口座を変更しました。" if current else "出金先の口座を登録しました。")
            return redirect("payouts:list")
    return render(request, "payouts/bank_account.html", {"form": form, "current": current}, status=400)
