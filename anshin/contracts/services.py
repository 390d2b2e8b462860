"""Contract actions. Each public function is one transaction: lock the contract, settle a due timer first
(a deadline that has passed wins over a late click), check the flow table, then write state, money, audit,
thread message and notifications together."""

from contextlib import contextmanager
from datetime import date

from django.db import transaction

from anshin import rules
from anshin.contracts.flow import CONTRACT_FLOW, FORM_ACTIONS
from anshin.contracts.models import Contract, Delivery
from anshin.core import clock, flows, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import tiered_fee, yen
from anshin.jobs.models import Application
from anshin.ledger import gateway
from anshin.ledger.services import GATEWAY, REVENUE, Line, entry_post, escrow_code, worker_code
from anshin.messaging.services import attachments_save, attachments_validate, message_post_system, thread_create
from anshin.notifications.services import notify

# What the thread says after each transition; {c} client, {w} worker.
SYSTEM_TEXT = {
    "offer": "{c}さんから契約オファーが届きました（{amount}、納期 {due}）。承諾期限: {deadline}",
    "accept_offer": "{w}さんがオファーを承諾しました。仮払いをお願いします（期限: {deadline}）。",
    "decline_offer": "{w}さんがオファーを辞退しました。",
    "withdraw_offer": "{c}さんがオファーを取り下げました。",
    "lapse": "承諾期限を過ぎたため、オファーは失効しました。",
    "fund": "仮払い（{amount}）が完了しました。作業を開始してください。",
    "cancel": "契約はキャンセルされました。",
    "expire_funding": "仮払い期限を過ぎたため、契約は自動的にキャンセルされました。",
    "deliver": "{w}さんが納品しました。{deadline}までに検収してください（期限を過ぎると自動で検収合格になります）。",
    "accept": "検収合格となりました。{net}が{w}さんに支払われました。",
    "request_revision": "{c}さんが修正を依頼しました。理由: {reason}",
    "deem_accept": "検収期限を過ぎたため、自動で検収合格になりました。{net}が{w}さんに支払われました。",
}


def _url(contract: Contract) -> str:
    return f"/contracts/{contract.pk}/"


def _text(contract: Contract, action: str, **extra) -> str:
    deadline = ""
    if contract.due_at:
        deadline = clock_local(contract.due_at)
    return SYSTEM_TEXT[action].format(
        c=contract.client.name,
        w=contract.worker.name,
        amount=yen(contract.amount),
        due=contract.delivery_date.strftime("%Y/%m/%d"),
        deadline=deadline,
        **extra,
    )


def clock_local(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


def _tell(contract: Contract, action: str, text: str) -> None:
    """System message in the thread, and a notification to the parties who did not act."""
    message_post_system(thread=contract.thread, body=text)
    state = CONTRACT_FLOW.states.site(contract.state)  # stored: Japanese whoever acted
    for user in (contract.client, contract.worker):
        notify(
            user=user,
            kind=f"contract.{action}",
            title=f"「{contract.title}」{state}",
            body=text,
            url=_url(contract),
            dedupe_key=f"contract:{contract.pk}:{action}:{contract.state_entered_at.isoformat()}:{user.pk}",
        )


def _lock(contract_id: int) -> Contract:
    contract = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("client", "worker", "thread")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


def _role(contract: Contract, user) -> Actor:
    role = contract.role_of(user)
    if role:
        return role
    if user.is_operator:
        return Actor.OPERATOR
    raise NotFound()


def _settle(contract: Contract) -> str | None:
    """Fire the due SYSTEM transition of a locked contract, if any. Returns the action fired."""
    if not contract.due_at or contract.due_at > clock.now():
        return None
    action = contract.timer_action
    flows.apply(contract, action, actor=Actor.SYSTEM)
    _effects(contract, action)
    return action


def _move(contract: Contract, action: str, user, payload: dict | None = None) -> Contract:
    flows.apply(contract, action, actor=_role(contract, user), user=user, payload=payload)
    return contract


@contextmanager
def _acting(contract_id: int, user):
    """The transaction of a party action, on a locked contract whose due timer is already settled.

    A deadline that has passed wins over a late click: the timer is settled and committed in its own
    transaction first, so a refused click can never roll the settlement back."""
    contract_settle_due(contract_id)
    with transaction.atomic():
        contract = _lock(contract_id)
        _role(contract, user)  # non-parties get 404 before learning anything else
        if contract.due_at and contract.due_at <= clock.now():
            # The deadline passed between the settlement above and this lock (a microsecond race):
            # refuse; the sweeper or the next read settles it.
            raise DomainError("deadline_passed", "期限を過ぎたため、この操作はできません。画面を更新してください。")
        yield contract


def _effects(contract: Contract, action: str, **extra) -> None:
    if action in ("accept", "deem_accept"):
        extra["net"] = yen(_release(contract))
    _tell(contract, action, _text(contract, action, **extra))


def _release(contract: Contract) -> int:
    """Escrow → worker balance minus the tiered fee → revenue. Idempotent per contract."""
    fee = tiered_fee(contract.amount)
    net = contract.amount - fee
    entry_post(
        key=f"{contract.ledger_ref}:release",
        kind="release",
        ref=contract.ledger_ref,
        memo=f"検収合格: {contract.title}",
        lines=[
            Line(escrow_code(contract.ledger_ref), -contract.amount),
            Line(worker_code(contract.worker_id), net),
            Line(REVENUE, fee),
        ],
    )
    contract.accepted_at = clock.now()
    contract.save(update_fields=["accepted_at"])
    return net


# --- creation -------------------------------------------------------------------------------------------


def contract_offer(*, application_id: int, user, amount: int, delivery_date: date, title: str = "") -> Contract:
    """The client hires: the application moves to `offered` and a contract offer is created."""
    _check_amount(amount)
    if delivery_date < clock.today():
        raise DomainError("invalid_date", "納期には今日以降の日付を指定してください。")
    with transaction.atomic():
        application = (
            Application.objects.select_for_update()
            .select_related("job", "job__client", "worker")
            .filter(pk=application_id)
            .first()
        )
        if application is None or (application.job.client_id != user.pk and not user.is_operator):
            raise NotFound()
        actor = Actor.CLIENT if application.job.client_id == user.pk else Actor.OPERATOR
        flows.apply(application, "offer", actor=actor, user=user, payload={"amount": amount})
        contract = Contract(
            client=application.job.client,
            worker=application.worker,
            application=application,
            title=(title or application.job.title)[:100],
            amount=amount,
            delivery_date=delivery_date,
            created_at=clock.now(),
        )
        contract.init_state("offered")
        contract.save()
        from anshin.core import audit

        audit.record(
            subject=contract,
            action="offer",
            actor=user,
            actor_role=actor,
            to_state="offered",
            payload={"amount": amount, "delivery_date": delivery_date.isoformat()},
        )
        thread_create(
            kind="contract", subject=contract.title, members=[contract.client, contract.worker], contract=contract
        )
        _tell(contract, "offer", _text(contract, "offer"))
    return contract


def _check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise DomainError("invalid_amount", "金額は円単位の整数で入力してください。")
    if amount < rules.MIN_AMOUNT or amount > rules.MAX_AMOUNT:
        raise DomainError(
            "invalid_amount", f"金額は{yen(rules.MIN_AMOUNT)}以上{yen(rules.MAX_AMOUNT)}以下で入力してください。"
        )


# --- party actions --------------------------------------------------------------------------------------


def contract_simple_action(*, contract_id: int, user, action: str) -> Contract:
    """Actions that need nothing but a click: accept/decline/withdraw the offer, cancel, accept delivery."""
    if action in FORM_ACTIONS:
        raise DomainError("needs_input", "この操作には入力が必要です。")
    if action not in {"accept_offer", "decline_offer", "withdraw_offer", "cancel", "accept"}:
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    with _acting(contract_id, user) as contract:
        _move(contract, action, user)
        _effects(contract, action)
    return contract


def contract_fund(*, contract_id: int, user, card_token: str = "tok_visa") -> Contract:
    """仮払い: charge the client through the gateway and hold the whole amount in escrow."""
    with _acting(contract_id, user) as contract:
        CONTRACT_FLOW.find("fund", contract.state, _role(contract, user))  # refuse before charging
        key = f"{contract.ledger_ref}:fund"
        charge = gateway.gateway().charge(amount=contract.amount, token=card_token, key=key)
        if not charge.approved:
            raise DomainError("payment_declined", charge.message, status=402)
        entry_post(
            key=key,
            kind="fund",
            ref=contract.ledger_ref,
            memo=f"仮払い: {contract.title}",
            lines=[Line(GATEWAY, -contract.amount), Line(escrow_code(contract.ledger_ref), contract.amount)],
        )
        _move(contract, "fund", user, {"charge": charge.reference})
        contract.funded_at = clock.now()
        contract.save(update_fields=["funded_at"])
        _effects(contract, "fund")
    return contract


def contract_deliver(*, contract_id: int, user, body: str, links: str = "", files=()) -> Delivery:
    body = (body or "").strip()
    if not body:
        raise DomainError("empty", "納品メッセージを入力してください。")
    if len(body) > rules.MESSAGE_MAX_LENGTH:
        raise DomainError("too_long", f"納品メッセージは{rules.MESSAGE_MAX_LENGTH:,}文字以内で入力してください。")
    link_list = [line.strip() for line in (links or "").splitlines() if line.strip()]
    if any(not link.startswith(("https://", "http://")) for link in link_list):
        raise DomainError(
            "invalid_link", "納品物のURLは http:// または https:// で始まる形式で、1行に1つ入力してください。"
        )
    attachments_validate(files)
    with _acting(contract_id, user) as contract:
        _move(contract, "deliver", user)
        delivery = Delivery.objects.create(
            contract=contract, body=body, links="\n".join(link_list), created_at=clock.now()
        )
        attachments_save(files=files, uploaded_by=user, delivery=delivery)
        _effects(contract, "deliver")
    return delivery


def contract_request_revision(*, contract_id: int, user, reason: str) -> Contract:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("empty", "修正を依頼する理由を入力してください。")
    if len(reason) > 2_000:
        raise DomainError("too_long", "理由は2,000文字以内で入力してください。")
    with _acting(contract_id, user) as contract:
        _move(contract, "request_revision", user, {"reason": reason})
        _effects(contract, "request_revision", reason=reason)
    return contract


# --- timers ---------------------------------------------------------------------------------------------


def contract_settle_due(contract_id: int) -> str | None:
    """Called by `tick` and by selectors reading a contract: settle it if its timer is due."""
    with transaction.atomic():
        contract = (
            timers.lock_for_update(Contract.objects.select_related("client", "worker", "thread"))
            .filter(pk=contract_id, due_at__lte=clock.now())
            .first()
        )
        if contract is None:
            return None  # settled already, by a user action or another sweeper, or not due any more
        action = _settle(contract)
    return f"contract {contract_id}: {action}"


def contract_remind(contract_id: int) -> str | None:
    """Reminder before the timer fires (e.g. 3 days and 1 day before deemed acceptance, to the client)."""
    with transaction.atomic():
        contract = (
            timers.lock_for_update(Contract.objects.select_related("client"))
            .filter(pk=contract_id, remind_at__lte=clock.now())
            .first()
        )
        if contract is None:
            return None
        timer = CONTRACT_FLOW.timer_for(contract.state)
        now = clock.now()
        if timer is None or contract.due_at <= now:
            contract.remind_at = None  # nothing left to remind of: the timer itself settles the deal
            contract.save(update_fields=["remind_at"])
            return None
        # The most urgent reminder already due; earlier ones a stopped sweeper missed are not sent late.
        latest = max(contract.due_at - before for before in timer.reminders if contract.due_at - before <= now)
        days = round((contract.due_at - latest).total_seconds() / 86400)
        notify(
            user=contract.client,
            kind="contract.inspection_reminder",
            title=f"「{contract.title}」の検収期限まであと{days}日です",
            body=f"{clock_local(contract.due_at)}までに検収合格または修正依頼をしてください。"
            "期限を過ぎると自動で検収合格となり、支払いが確定します。",
            url=_url(contract),
            dedupe_key=f"contract:{contract.pk}:remind:{contract.due_at.isoformat()}:{days}",
        )
        contract.remind_at = flows.next_reminder(contract.due_at, timer, after=now)
        contract.save(update_fields=["remind_at"])
    return f"contract {contract_id}: reminder {days}d"


timers.register(Contract, settle=contract_settle_due, remind=contract_remind)
