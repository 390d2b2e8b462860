"""Blocks and reports pages. Each view parses the input, calls one service, renders; refused actions show
their Japanese message, and what the user may not see is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from anshin.core.errors import DomainError
from anshin.trust import blocks, reports
from anshin.trust.forms import ReportForm

BLOCKED_TEXT = (
    "ブロックしました。このユーザーとの新しいメッセージ・応募・スカウト・注文はできなくなります。"
    "ブロックしても進行中の取引は続きます。トラブルは事務局へご相談ください。"
)


def _or_404(error: DomainError) -> None:
    if error.status == 404:
        raise Http404(error.message)


def _next_or(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def block(request, user_id: int):
    try:
        blocks.block_create(user=request.user, target_id=user_id)
    except DomainError as error:
        _or_404(error)
        messages.error(request, error.message)
    else:
        messages.success(request, BLOCKED_TEXT)
    return redirect(_next_or(request, reverse("accounts:profile", args=[user_id])))


@login_required
@require_POST
def unblock(request, user_id: int):
    if blocks.block_remove(user=request.user, target_id=user_id):
        messages.success(request, "ブロックを解除しました。")
    return redirect(_next_or(request, reverse("trust:blocks")))


@login_required
def block_list(request):
    return render(request, "trust/blocks.html", {"blocks": blocks.blocks_of(request.user)})


@login_required
def report_new(request):
    source = request.POST if request.method == "POST" else request.GET
    kind, subject_id = source.get("subject", ""), source.get("id", "")
    if kind not in reports.SUBJECT_KINDS or not subject_id.isdigit() or len(subject_id) > 16:
        raise Http404
    try:
        subject = reports.report_subject(user=request.user, subject_kind=kind, subject_id=int(subject_id))
    except DomainError as error:
        _or_404(error)
        return render(request, "trust/report_new.html", {"refused": error.message}, status=400)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                reports.report_create(
                    user=request.user, subject_kind=kind, subject_id=subject.obj.pk, **form.cleaned_data
                )
            except DomainError as error:
                _or_404(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, reports.RECEIVED_MESSAGE)
                return redirect(subject.url)
        return render(request, "trust/report_new.html", {"form": form, "subject": subject}, status=400)
    return render(request, "trust/report_new.html", {"form": form, "subject": subject})
