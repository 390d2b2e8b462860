"""Which event tells whom, by which channel, with which template (PRODUCT.md §9). One row per kind or kind
prefix; `lookup()` takes the row with the longest matching key ("contract" matches "contract.fund" and
"contract.termination.request"; "contract.inspection_reminder" has its own row).

Every notification is written to the in-app centre. The `email` column says what happens by e-mail:
  NEVER   — in-app only
  NOW     — e-mailed at once by the outbox worker (`manage.py mailer`, or `tick --loop` in `make run`)
  UNREAD  — e-mailed `rules.UNREAD_MESSAGE_EMAIL_AFTER` later, only if still unread then, and at most once per
            thread and recipient per `rules.UNREAD_MESSAGE_EMAIL_EVERY` (the others stay in-app only)
The group decides whether the user may switch the e-mail off (/notifications/settings/). Reminders before a
timer fires, nudges, money leaving the account and account standing always go by e-mail.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

NEVER, NOW, UNREAD = "never", "now", "unread"


@dataclass(frozen=True)
class Group:
    key: str
    label: str  # shown on the settings page
    switchable: bool  # may the user turn its e-mail off?
    help: str = ""


G = Group
MESSAGES = G("messages", "メッセージ", True, "10分たっても未読のメッセージ（スレッドごとに1時間に1通まで）")
DEALS = G("deals", "契約・注文の進行", True, "オファー、仮払い、納品、検収、納期変更、途中終了、トラブル相談など")
JOBS = G("jobs", "応募・スカウト・テスト課題", True, "選考結果、スカウト、テスト課題の送付と提出など")
REVIEWS = G("reviews", "評価", True, "評価の依頼、相手の投稿、公開、返信")
TRUST = G("trust", "サービス外連絡申請・通報", True, "申請の受付と事務局の判断")
REMINDERS = G("reminders", "期限のリマインダー・返信催促", False, "期限前のお知らせと返信催促は必ずメールでも届きます")
MONEY = G("money", "出金", False, "出金申請の受付・振込・差し戻しは必ずメールでも届きます")
ACCOUNT = G("account", "アカウント（警告・利用制限など）", False, "事務局からの大切なお知らせは必ずメールでも届きます")
OTHER = G("other", "その他のお知らせ", True)
GROUPS = (MESSAGES, DEALS, JOBS, REVIEWS, TRUST, REMINDERS, MONEY, ACCOUNT, OTHER)


@dataclass(frozen=True)
class Rule:
    kind: str  # a kind, or a prefix of kinds ("order" covers "order.deliver", …)
    to: str  # who receives it (the calling service picks the users; this says who they are)
    email: str  # NEVER / NOW / UNREAD
    template: str  # notifications/email/<template>/{subject.txt,body.txt,body.html}
    group: Group

    @property
    def switchable(self) -> bool:
        return self.group.switchable and self.email != NEVER


R = Rule
RULES = (
    # kind (or prefix)                 who gets it                                   e-mail  template    group
    R("message",                       "the other members of the thread",            UNREAD, "message",  MESSAGES),
    R("message.nudge",                 "the side being waited for (返信催促)",        NOW,    "reminder", REMINDERS),
    R("message.nudge_escalated",       "both sides (told to 事務局)",                 NOW,    "reminder", REMINDERS),
    R("job",                           "the client, at the deadline (募集終了)",        NOW,    "default",  JOBS),
    R("job.closed",                    "the applicants still waiting, when it closes", NOW,    "default",  JOBS),
    R("application",                   "the applicant",                              NOW,    "default",  JOBS),
    R("scout",                         "the scouted worker / the scouting client",   NOW,    "default",  JOBS),
    R("test_task",                     "client and/or worker of the test task",      NOW,    "default",  JOBS),
    R("test_task.reminder",            "the worker, before the task is due",         NOW,    "reminder", REMINDERS),
    R("contract",                      "the parties of the contract",                NOW,    "default",  DEALS),
    R("contract.termination",          "the other party of a 途中終了 request",        NOW,    "default",  DEALS),
    R("contract.inspection_reminder",  "the client, before deemed acceptance",       NOW,    "reminder", REMINDERS),
    R("contract.termination_reminder", "who must answer a 途中終了 request",          NOW,    "reminder", REMINDERS),
    R("order",                         "buyer and seller, except who acted",         NOW,    "default",  DEALS),
    R("order.first_response_reminder", "the seller, before the 48 h auto-cancel",    NOW,    "reminder", REMINDERS),
    R("order.approval_reminder",       "the buyer, before the 72 h auto-approval",   NOW,    "reminder", REMINDERS),
    R("deal.date_change",              "the other party of a 納期変更 request",        NOW,    "default",  DEALS),
    R("review",                        "both sides of the finished deal",            NOW,    "default",  REVIEWS),
    R("review.reminder",               "whoever has not written yet",                NOW,    "reminder", REMINDERS),
    R("withdrawal",                    "the worker who asked for the payout",        NOW,    "default",  MONEY),
    R("permit",                        "the members of the thread",                  NOW,    "default",  TRUST),
    R("report.received",               "the reporter (a receipt of their own act)",  NEVER,  "default",  TRUST),
    R("account",                       "the user an operator acted on",              NOW,    "default",  ACCOUNT),
)
FALLBACK = Rule("", "whoever the service names (kind missing from this table)", NOW, "default", OTHER)

# Outbox retries (a refused or unreachable mail server): 1, 2, 4, … minutes, capped, then given up.
EMAIL_MAX_ATTEMPTS = 8
EMAIL_RETRY_FIRST = timedelta(minutes=1)
EMAIL_RETRY_MAX = timedelta(hours=6)

_BY_KEY = {rule.kind: rule for rule in RULES}
GROUP_BY_KEY = {group.key: group for group in GROUPS}


def is_reminder(kind: str) -> bool:
    """Reminders before a timer fires and nudges: always e-mailed, whatever the row or the preferences say."""
    return "reminder" in kind or kind.split(".")[-1].startswith("nudge")


def lookup(kind: str) -> Rule:
    """The row with the longest key that is `kind` or a dotted prefix of it; FALLBACK when none is."""
    parts = kind.split(".")
    for n in range(len(parts), 0, -1):
        rule = _BY_KEY.get(".".join(parts[:n]))
        if rule is not None:
            break
    else:
        rule = FALLBACK
    if is_reminder(kind) and (rule.email != NOW or rule.group.switchable):
        rule = replace(rule, email=NOW, template="reminder", group=REMINDERS)
    return rule


def backoff(attempts: int) -> timedelta:
    """The wait before retry number `attempts` + 1."""
    return min(EMAIL_RETRY_FIRST * 2 ** max(attempts - 1, 0), EMAIL_RETRY_MAX)
