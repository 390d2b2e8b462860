"""Blocks (PRODUCT.md §6): after a block there are no new messages, applications, scouts or orders between the
two users, whoever blocked whom. Deals already under way go on (a block cancels nothing: trouble goes to the
operators). The blocked user is never told, and refusals are worded the same both ways."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from anshin.accounts.figures import figures_touch
from anshin.core import audit, clock
from anshin.core.errors import DomainError, NotFound
from anshin.trust.models import Block

BLOCKED_MESSAGE = "このユーザーとは取引できません。"


def blocked_between(a_id, b_id) -> bool:
    """True when either user has blocked the other (one query)."""
    if not a_id or not b_id or a_id == b_id:
        return False
    return Block.objects.filter(Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)).exists()


def refuse_if_blocked(a_id, b_id) -> None:
    """For the services that start something new between two users (application, scout, order, message)."""
    if blocked_between(a_id, b_id):
        raise DomainError("blocked", BLOCKED_MESSAGE, status=403)


def blocked_ids(user) -> set[int]:
    """Everyone `user` has blocked or was blocked by."""
    if not getattr(user, "is_authenticated", False):
        return set()
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list("blocker_id", "blocked_id")
    return {b if a == user.pk else a for a, b in pairs}


def has_blocked(user, target_id) -> bool:
    """Whether `user` blocked `target_id` (their own choice: shown on the profile as 「ブロックを解除」)."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and Block.objects.filter(blocker=user, blocked_id=target_id).exists()
    )


def blocks_of(user):
    """The users `user` has blocked, newest first (the settings page and the API)."""
    return Block.objects.filter(blocker=user).select_related("blocked").order_by("-created_at", "-id")


def block_create(*, user, target_id) -> Block:
    """Idempotent: blocking someone twice keeps the first block. Unknown (or suspended) users: 404."""
    target = get_user_model().objects.filter(pk=target_id, is_active=True).first()
    if target is None:
        raise NotFound()
    if target.pk == user.pk:
        raise DomainError("self", "自分自身はブロックできません。")
    if target.is_operator:
        raise DomainError("operator", "事務局のアカウントはブロックできません。お困りのことは事務局へご相談ください。")
    with transaction.atomic():
        block = Block.objects.filter(blocker=user, blocked=target).first()
        if block is not None:
            return block
        try:
            with transaction.atomic():
                block = Block.objects.create(blocker=user, blocked=target, created_at=clock.now())
        except IntegrityError:  # a double click that raced us: the block exists, which is what was asked
            return Block.objects.get(blocker=user, blocked=target)
        audit.record(subject=user, action="block", actor=user, payload={"target": target.pk})
        figures_touch([user.pk])  # threads opened by the blocked user leave the blocker's response rate
    return block


def block_remove(*, user, target_id) -> bool:
    """Lift my block (idempotent: False when there was none). A block made by the other user stays."""
    with transaction.atomic():
        removed, _ = Block.objects.filter(blocker=user, blocked_id=target_id).delete()
        if removed:
            audit.record(subject=user, action="unblock", actor=user, payload={"target": int(target_id)})
            figures_touch([user.pk])
    return bool(removed)
