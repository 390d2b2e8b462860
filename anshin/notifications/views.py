"""The in-app notification centre: newest first, unread highlighted, mark all read, open one."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from anshin.notifications import selectors, services


@login_required
def notification_list(request):
    items = selectors.notification_list(user=request.user)
    unread = sum(1 for n in items if n.read_at is None)
    return render(request, "notifications/list.html", {"items": items, "unread": unread})


@login_required
@require_POST
def mark_all_read(request):
    changed = services.notifications_mark_read(user=request.user)
    if changed:
        flash.success(request, f"{changed}件の通知を既読にしました。")
    return redirect("notifications:list")


@login_required
@require_POST
def open_notification(request, notification_id: int):
    """Mark one notification read and go where it points (only to a page of this site)."""
    item = selectors.notification_get(notification_id=notification_id, user=request.user)
    if item is None:
        raise Http404
    services.notifications_mark_read(user=request.user, notification_id=item.pk)
    target = item.url if item.url and url_has_allowed_host_and_scheme(
        item.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()) else None
    return redirect(target or "notifications:list")


@login_required
def email_settings(request):
    """メール通知の設定: one checkbox per preference group; groups that always e-mail are shown, disabled."""
    groups = selectors.email_preferences(user=request.user)
    if request.method == "POST":
        choices = {g.key: g.key in request.POST.getlist("email") for g in groups if g.switchable}
        services.email_preferences_update(user=request.user, choices=choices)
        flash.success(request, "メール通知の設定を保存しました。")
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"groups": groups})
