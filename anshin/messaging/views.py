"""Inbox, thread (read receipts, counterpart presence, live updates by htmx polling), attachment download.

Views parse input with forms, call one service, render. Anyone who is not a party gets 404 (the selectors
use `anshin.core.access`)."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from anshin.core import clock
from anshin.core.access import get_for_party
from anshin.core.calendar import add_business_days
from anshin.core.errors import DomainError, NotFound
from anshin.messaging import selectors, services
from anshin.messaging.forms import AckForm, DelayForm, MessageForm, OlderForm, PermitForm, PollForm, ProgressForm
from anshin.messaging.models import Attachment, Message, Thread
from anshin.trust import permits
from anshin.trust.holds import kinds_text
from anshin.trust.models import ContactPermit


def _thread_or_404(thread_id: int, user) -> Thread:
    try:
        return selectors.thread_get(thread_id=thread_id, user=user)
    except NotFound:
        raise Http404 from None


def _not_allowed(request, *methods):
    """Checked after the party check, so a non-party gets 404 whatever the method."""
    return None if request.method in methods else HttpResponseNotAllowed(methods)


def receipt_label(moment) -> str:
    """「既読 7/19 10:31」 in Asia/Tokyo (portable spelling of %-m/%-d %H:%M)."""
    local = timezone.localtime(moment)
    return f"既読 {local.month}/{local.day} {local:%H:%M}"


def _decorate(messages: list[Message], user) -> list[Message]:
    """Per message: mine or not, and for mine the recipients' receipt (既読 when everyone has read it); on
    another person's message the 通報 link, and 事務局からの注意 when the guard saw scam signals in it."""
    for m in messages:
        m.mine = m.sender_id == user.pk and m.kind != Message.Kind.SYSTEM
        theirs = not m.mine and m.kind != Message.Kind.SYSTEM and m.sender_id is not None
        m.reportable = theirs and not user.is_operator
        m.advice = permits.scam_advice(m.caution) if theirs and m.caution else []
        m.read_label = ""
        m.unread_by_counterpart = False
        if m.mine:
            receipts = [r for r in m.receipt_rows if r.user_id != user.pk]
            if receipts and all(r.read_at for r in receipts):
                m.read_label = receipt_label(max(r.read_at for r in receipts))
            else:
                m.read_label = "未読"
                m.unread_by_counterpart = True
    return messages


def _pending(messages: list[Message]) -> int | None:
    """The first of my messages still shown as 未読: the poll refreshes receipts from there on."""
    return next((m.pk for m in messages if m.mine and m.unread_by_counterpart), None)


def _away_id(status: dict) -> int | None:
    return status.get("my_last_message_id") if status.get("not_logged_in_since_my_last") else None


@login_required
@require_GET
def inbox(request):
    rows = selectors.inbox(user=request.user)
    return render(request, "messaging/inbox.html", {"rows": rows})


def _next_business_day(now):
    """The acknowledgement's default answer date: one click promises a reply by the next business day."""
    return add_business_days(now, 1).date()


def _thread_context(request, thread: Thread, form: MessageForm | None = None, **tools) -> dict:
    user = request.user
    page, has_older = selectors.thread_page(thread=thread)
    messages = _decorate(page, user)
    status = selectors.counterpart_status(thread=thread, user=user, messages=messages)
    last = thread.last_human_message
    now = clock.now()
    return {
        "thread": thread,
        "thread_messages": messages,
        "has_older": has_older,
        "status": status,
        "away_id": _away_id(status),
        "after": messages[-1].pk if messages else 0,
        "pending": _pending(messages),
        "form": form or MessageForm(),
        # the deal tools: progress and delay for the working side of an open deal, ack when I owe a reply,
        # the nudge button (or why not yet) when I am the one waiting
        "can_report": not services.deal_update_refusal(thread, user),
        "can_ack": bool(last and last.sender_id != user.pk and any(m.user_id == user.pk
                                                                    for m in thread.members.all())),
        "nudge": selectors.nudge_status(thread=thread, user=user, now=now),
        "progress_form": tools.get("progress_form") or ProgressForm(),
        "delay_form": tools.get("delay_form") or DelayForm(),
        "ack_form": tools.get("ack_form") or AckForm(initial={"reply_by": _next_business_day(now)}),
        "tool_error": tools.get("tool_error", ""),
        "open_tool": tools.get("open_tool", ""),
        **_permit_context(thread, user, tools.get("permit_form"), tools.get("permit_error", "")),
    }


def _permit_context(thread: Thread, user, form: PermitForm | None, error: str) -> dict:
    """The サービス外連絡申請 section: the live request or approval (its state and 回答予定日), the form when there
    is none, the past ones. The operator's note is never part of it."""
    history = selectors.thread_permits(thread=thread)
    live = next((p for p in history if p.state in permits.LIVE_STATES), None)
    member = any(m.user_id == user.pk for m in thread.members.all())
    return {
        "live_permit": live,
        "past_permits": [p for p in history if p is not live],
        "can_request_permit": member and live is None,
        "can_withdraw_permit": bool(live and live.state == "pending" and live.requested_by_id == user.pk),
        "permit_form": form or PermitForm(),
        "permit_error": error,
        "is_member": member,
    }


def _held(error: permits.ContactHeld) -> dict:
    """The 送信を保留しました panel: the text cut into escaped pieces, the flagged ones marked."""
    return {"segments": selectors.held_segments(error.text, error.spans), "kinds": kinds_text(error.spans),
            "masked": error.masked, "message": error.message}


@login_required
def thread(request, thread_id: int):
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "GET", "HEAD"):
        return refused
    services.thread_mark_read(thread=thread, user=request.user)  # opening the thread = reading it
    return render(request, "messaging/thread.html", _thread_context(request, thread))


@login_required
@require_GET
def older(request, thread_id: int):
    """「以前のメッセージを表示」: the page of messages before `?before=<message id>`. htmx swaps it in above
    the thread's first message (with the next 「以前の…」 link on top); without JavaScript it is a page."""
    thread = _thread_or_404(thread_id, request.user)
    form = OlderForm(request.GET)
    before = form.is_valid() and Message.objects.filter(thread=thread, pk=form.cleaned_data["before"]).first()
    if not before:
        raise Http404
    page, has_older = selectors.thread_page(thread=thread, before=before)
    context = {"thread": thread, "thread_messages": _decorate(page, request.user), "has_older": has_older}
    template = "messaging/_older.html" if request.htmx else "messaging/older.html"
    return render(request, template, context)


def _updates(request, thread: Thread, after: int, pending: int | None, extra: dict | None = None) -> HttpResponse:
    """New messages after `after`, fresh receipts of my messages from `pending` on, the counterpart's status
    and a new poller carrying the new position — one small fragment, htmx swaps the parts out of band."""
    services.thread_mark_read(thread=thread, user=request.user)
    start = min(after, pending - 1) if pending else after
    recent = _decorate(selectors.thread_messages(thread=thread, after_id=start or None), request.user)
    new = [m for m in recent if m.pk > after]
    refreshed = [m for m in recent if m.pk <= after and m.mine]
    status = selectors.counterpart_status(thread=thread, user=request.user, messages=recent)
    context = {
        "thread": thread,
        "new_messages": new,
        "refreshed": refreshed,
        "status": status,
        "away_id": _away_id(status),
        "after": recent[-1].pk if recent else after,
        "pending": _pending(recent),
        **(extra or {}),
    }
    return HttpResponse(render_to_string("messaging/_updates.html", context, request=request))


def _position(request) -> tuple[int, int | None]:
    form = PollForm(request.GET if request.method == "GET" else request.POST)
    if not form.is_valid():
        return 0, None
    return form.cleaned_data["after"] or 0, form.cleaned_data["pending"] or None


@login_required
def poll(request, thread_id: int):
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "GET"):
        return refused
    after, pending = _position(request)
    return _updates(request, thread, after, pending)


@login_required
def send(request, thread_id: int):
    """Send a message. Held (contact details without a permit): the form comes back with the text kept and the
    flagged parts marked, to edit and resend or to send masked (the panel's button adds `mask_contacts`)."""
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "POST"):
        return refused
    form = MessageForm(request.POST, request.FILES)
    error, held = "", None
    if form.is_valid():
        try:
            services.message_send(thread=thread, sender=request.user, body=form.cleaned_data["body"],
                                  files=form.cleaned_data["files"],
                                  mask_contacts=form.cleaned_data["mask_contacts"])
        except permits.ContactHeld as e:
            held = _held(e)
        except DomainError as e:
            error = e.message
    else:
        error = " ".join(" ".join(errors) for errors in form.errors.values())
    if request.htmx:
        after, pending = _position(request)
        response = _updates(request, thread, after, pending, {"send_error": error, "send_oob": True, "held": held})
        if not error and not held:
            response["HX-Trigger"] = "sent"  # the form clears itself
        return response
    if error or held:
        services.thread_mark_read(thread=thread, user=request.user)
        context = _thread_context(request, thread, form)
        context["send_error"] = error
        context["held"] = held
        return render(request, "messaging/thread.html", context, status=400)
    return redirect("messaging:thread", thread_id=thread.pk)


def _form_error(form) -> str:
    return " ".join(" ".join(errors) for errors in form.errors.values())


def _tool(request, thread_id: int, name: str, form_class, act, done: str):
    """POST of one deal tool (progress, delay, ack, nudge): parse, call one service, back to the thread;
    on refusal the thread again with the Japanese reason, status 400, nothing changed."""
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "POST"):
        return refused
    form = form_class(request.POST) if form_class else None
    error = ""
    if form is None or form.is_valid():
        try:
            act(thread, form.cleaned_data if form else {})
        except DomainError as e:
            error = e.message
    else:
        error = _form_error(form)
    if error:
        services.thread_mark_read(thread=thread, user=request.user)
        thread = _thread_or_404(thread_id, request.user)
        tools = {"tool_error": error, "open_tool": name}
        if form is not None:
            tools[f"{name}_form"] = form
        return render(request, "messaging/thread.html", _thread_context(request, thread, **tools), status=400)
    flash.success(request, done)
    return redirect("messaging:thread", thread_id=thread.pk)


@login_required
def progress(request, thread_id: int):
    return _tool(request, thread_id, "progress", ProgressForm, lambda thread, data: services.message_send_progress(
        thread=thread, sender=request.user, percent=data["percent"], next_date=data["next_date"],
        comment=data["comment"]), "進捗を報告しました。")


@login_required
def delay(request, thread_id: int):
    return _tool(request, thread_id, "delay", DelayForm, lambda thread, data: services.message_send_delay(
        thread=thread, sender=request.user, late_item=data["late_item"], new_date=data["new_date"],
        reason=data["reason"]), "遅延のお知らせを送りました。")


@login_required
def ack(request, thread_id: int):
    return _tool(request, thread_id, "ack", AckForm, lambda thread, data: services.message_acknowledge(
        thread=thread, sender=request.user, reply_by=data["reply_by"]), "確認済みであることを伝えました。")


@login_required
def nudge(request, thread_id: int):
    return _tool(request, thread_id, "nudge", None, lambda thread, data: services.thread_nudge(
        thread=thread, sender=request.user), "返信を催促しました。相手に通知が届きます。")


@login_required
def permit_request(request, thread_id: int):
    """サービス外連絡申請 from the thread page (tool and purpose)."""
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "POST"):
        return refused
    form = PermitForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            permits.permit_request(thread_id=thread.pk, user=request.user, tool=form.cleaned_data["tool"],
                                   purpose=form.cleaned_data["purpose"])
        except DomainError as e:
            error = e.message
    else:
        error = _form_error(form)
    if error:
        services.thread_mark_read(thread=thread, user=request.user)
        thread = _thread_or_404(thread_id, request.user)
        context = _thread_context(request, thread, permit_form=form, permit_error=error)
        return render(request, "messaging/thread.html", context, status=400)
    flash.success(request, "サービス外連絡申請を送りました。事務局の審査結果をお待ちください（最大2営業日）。")
    return redirect(reverse("messaging:thread", args=[thread.pk]) + "#permits")


@login_required
def permit_withdraw(request, thread_id: int, permit_id: int):
    thread = _thread_or_404(thread_id, request.user)
    if not ContactPermit.objects.filter(pk=permit_id, thread=thread).exists():
        raise Http404
    if refused := _not_allowed(request, "POST"):
        return refused
    try:
        permits.permit_withdraw(permit_id=permit_id, user=request.user)
    except NotFound:
        raise Http404 from None
    except DomainError as e:
        flash.error(request, e.message)
    else:
        flash.success(request, "サービス外連絡申請を取り下げました。")
    return redirect(reverse("messaging:thread", args=[thread.pk]) + "#permits")


@login_required
def attachment(request, token: str):
    """Party-only download (thread member for message files, contract party for delivery files)."""
    try:
        item = get_for_party(Attachment, request.user, token=token)
    except NotFound:
        raise Http404 from None
    if refused := _not_allowed(request, "GET", "HEAD"):
        return refused
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=item.name, content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
