"""Date-change endpoints (POST only), shared by contracts and orders. The deal page shows the panel
(`deals/_date_change.html`); these views parse input, call one service and go back to the deal page.
Non-parties get 404 whatever the method; refused input re-shows the form with the Japanese reason (4xx)."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from anshin.contracts.forms import form_errors
from anshin.core.errors import DomainError, NotFound
from anshin.deals import selectors, services
from anshin.deals.forms import DateChangeForm
from anshin.deals.kinds import kind_by_name, kind_of

DONE_TEXT = {
    "propose": "納期変更を申請しました。相手の回答をお待ちください。",
    "approve": "納期の変更を承認しました。",
    "decline": "納期の変更を承認しませんでした。納期は変わりません。",
    "withdraw": "納期変更の申請を取り下げました。",
}


def _refused(request, deal, error: DomainError, form=None):
    status = error.status if 400 <= error.status < 500 else 400
    kind = kind_of(deal)
    context = {
        "deal": deal,
        "kind": kind,
        "back_url": kind.url(deal),
        "error": error.message,
        "form": form,
        "panel": selectors.date_change_panel(deal=deal, user=request.user),
    }
    return render(request, "deals/refused.html", context, status=status)


@login_required
def date_change_propose(request, deal_kind: str, deal_id: int):
    try:
        deal = selectors.deal_get(deal_kind=deal_kind, deal_id=deal_id, user=request.user)
    except NotFound:
        raise Http404 from None
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DateChangeForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        services.date_change_propose(
            deal_kind=deal_kind,
            deal_id=deal.pk,
            user=request.user,
            new_date=form.cleaned_data["new_date"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        return _refused(request, deal, e, form)
    flash.success(request, DONE_TEXT["propose"])
    return redirect(kind_by_name(deal_kind).url(deal))


@login_required
def date_change_answer(request, request_id: int, action: str):
    try:
        req = selectors.date_change_get(request_id=request_id, user=request.user)
    except NotFound:
        raise Http404 from None
    if action not in services.ANSWERS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.date_change_answer(request_id=req.pk, user=request.user, action=action)
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        deal = req.deal.__class__.objects.get(pk=req.deal.pk)  # fresh: the clock may have moved it
        return _refused(request, deal, e)
    flash.success(request, DONE_TEXT[action])
    return redirect(kind_of(req.deal).url(req.deal))
