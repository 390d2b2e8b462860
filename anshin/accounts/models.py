import secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


# What a list never shows of a person (the bio is up to 4,000 characters): deferred where many people are read
# at once (the inbox).
HEAVY_USER_FIELDS = ("password", "bio", "skills")


class User(AbstractUser):
    """One account can be the client in one deal and the worker in another; e-mail is the login."""

    username = None
    email = models.EmailField("メールアドレス", unique=True)
    display_name = models.CharField("表示名", max_length=50, blank=True)
    bio = models.TextField("自己紹介", max_length=4000, blank=True)
    skills = models.CharField("スキル", max_length=300, blank=True, help_text="カンマ区切り")
    hide_last_access = models.BooleanField("最終アクセス日時を非公開にする", default=False)
    identity_verified_at = models.DateTimeField("本人確認日時", null=True, blank=True)
    # Operator measures (PRODUCT.md §6): a restricted user cannot send messages; a suspended one cannot log in
    # (is_active is cleared too) and their open deals are frozen.
    messaging_restricted_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    @property
    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.skills.replace("、", ",").split(",") if s.strip()]

    @property
    def is_operator(self) -> bool:
        """事務局: staff with the operators' permission (the group 事務局, see ops.permissions). The is_staff
        test first keeps the common case free of queries; Django caches the permission per instance."""
        return self.is_active and self.is_staff and self.has_perm("ops.act")


def name_only(relation: str) -> list[str]:
    """`.defer(*name_only("client"))`: of the person at `relation`, read the pk and what `name` shows, nothing
    else (the clock's batches read a thousand people at a time, for their names in texts)."""
    return [f"{relation}__{field.name}" for field in User._meta.concrete_fields
            if field.name not in ("id", "display_name", "email")]


class Presence(models.Model):
    """Last access, in its own small table (written at most once a minute) so user rows stay cold."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="presence")
    last_seen_at = models.DateTimeField()


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64, default="default")
    created_at = models.DateTimeField(auto_now_add=True)

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)


class FiguresSnapshot(models.Model):
    """The last computed profile figures of a user (anshin.accounts.figures): pages read this row instead of
    scanning the person's whole history. `stale` is set by what changes the figures (a message, a deal moving,
    a review revealed, a block); the clock computes stale and old snapshots again, pages serve them meanwhile."""

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField()
    computed_at = models.DateTimeField()
    stale = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["stale", "computed_at"])]

