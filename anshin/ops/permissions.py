"""Who is an operator (事務局): staff accounts in the group 事務局, which holds the permission `ops.act`."""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

OPERATOR_GROUP = "事務局"


def operator_group() -> Group:
    """The group, created with its permission on first use (so a fresh or flushed database needs no fixture)."""
    from anshin.ops.models import QueueItem

    group, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    permission, _ = Permission.objects.get_or_create(
        codename="act", content_type=ContentType.objects.get_for_model(QueueItem),
        defaults={"name": "事務局として操作する"},
    )
    group.permissions.add(permission)
    return group


def grant_operator(user) -> None:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(operator_group())
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
