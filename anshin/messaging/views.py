"""Inbox, thread (read receipts, counterpart presence, live updates by htmx polling), attachment download.

Views parse input with forms, call one service, render. Anyone who is not a party gets 404 (the selectors
use `anshin.core.access`)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from anshin.core.access import get_for_party
from anshin.core.errors import DomainError, NotFound
from anshin.messaging import selectors, services
from anshin.messaging.forms import MessageForm, PollForm
from anshin.messaging.models import Attachment, Message, Thread


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
    """Per message: mine or not, and for mine the recipients' receipt (既読 when everyone has read it)."""
    for m in messages:
        m.mine = m.sender_id == user.pk and m.kind != Message.Kind.SYSTEM
        m.read_label = ""
        m.unread_by_counterpart = False
        if m.mine:
            receipts = [r for r in m.receipts.all() if r.user_id != user.pk]
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


def _thread_context(request, thread: Thread, form: MessageForm | None = None) -> dict:
    messages = _decorate(selectors.thread_messages(thread=thread), request.user)
    status = selectors.counterpart_status(thread=thread, user=request.user, messages=messages)
    return {
        "thread": thread,
        "thread_messages": messages,
        "status": status,
        "away_id": _away_id(status),
        "after": messages[-1].pk if messages else 0,
        "pending": _pending(messages),
        "form": form or MessageForm(),
    }


@login_required
def thread(request, thread_id: int):
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "GET", "HEAD"):
        return refused
    services.thread_mark_read(thread=thread, user=request.user)  # opening the thread = reading it
    return render(request, "messaging/thread.html", _thread_context(request, thread))


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
    thread = _thread_or_404(thread_id, request.user)
    if refused := _not_allowed(request, "POST"):
        return refused
    form = MessageForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        try:
            services.message_send(thread=thread, sender=request.user, body=form.cleaned_data["body"],
                                  files=form.cleaned_data["files"])
        except DomainError as e:
            error = e.message
    else:
        error = " ".join(" ".join(errors) for errors in form.errors.values())
    if request.htmx:
        after, pending = _position(request)
        response = _updates(request, thread, after, pending, {"send_error": error, "send_oob": True})
        if not error:
            response["HX-Trigger"] = "sent"  # the form clears itself
        return response
    if error:
        services.thread_mark_read(thread=thread, user=request.user)
        context = _thread_context(request, thread, form)
        context["send_error"] = error
        return render(request, "messaging/thread.html", context, status=400)
    return redirect("messaging:thread", thread_id=thread.pk)


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
