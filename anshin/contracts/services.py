"""Contract actions. Each public function is one transaction: lock the contract, settle a due timer first
(a deadline that has passed wins over a late click), check the flow table, then write state, money, audit,
thread message and notifications together."""

from contextlib import contextmanager
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from anshin import rules
from anshin.contracts.flow import CONTRACT_FLOW, FORM_ACTIONS, OPEN, TERMINATION_FLOW
from anshin.contracts.models import Contract, Delivery, TerminationRequest
from anshin.core import audit, clock, flows, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import tiered_fee, yen
from anshin.jobs.models import Application
from anshin.ledger import gateway
from anshin.ledger.services import GATEWAY, REVENUE, Line, entry_post, escrow_code, worker_code
from anshin.messaging.services import attachments_save, attachments_validate, message_post_system, thread_create
from anshin.notifications.services import notice, notify
from anshin.reviews.services import review_window_open
from anshin.trust.blocks import refuse_if_blocked

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
    "terminate_overdue": "納期（{due}）を{days}日過ぎても納品がなかったため、{c}さんが契約を終了しました。"
    "仮払い（{refund}）は全額{c}さんに返金されます。",
    "terminate": "契約途中終了リクエストが{how}、契約は途中終了しました。"
    "{w}さんへの支払い: {net}（{gross}からシステム利用料{fee}を差し引き）、{c}さんへの返金: {refund}。",
    "open_dispute": "{who}さんが事務局に相談しました（トラブル相談）。事務局が確認するまで、この契約の期限のカウントは"
    "停止します。相談内容: {reason}",
    # An operator opened it (e.g. a suspension froze the deal): nobody "consulted", 事務局 stepped in.
    "open_dispute_operator": "事務局がこの契約をトラブル相談として預かりました。事務局が確認するまで、この契約の期限の"
    "カウントは停止します。理由: {reason}",
    "resolve_release": "事務局がトラブル相談を確認し、契約金額の全額を{w}さんに支払うと判断しました。"
    "{w}さんへの支払い: {net}（{gross}からシステム利用料{fee}を差し引き）。契約は完了しました。",
    "resolve_refund": "事務局がトラブル相談を確認し、仮払い（{refund}）を全額{c}さんに返金すると判断しました。"
    "契約は終了しました。",
    "resolve_split": "事務局がトラブル相談を確認し、仮払いを分割して精算すると判断しました。"
    "{w}さんへの支払い: {net}（{gross}からシステム利用料{fee}を差し引き）、{c}さんへの返金: {refund}。"
    "契約は終了しました。",
    # An operator called off a contract that holds no money yet (e.g. a party's account was suspended).
    "operator_cancel": "事務局がこの契約を取り消しました（仮払い前のため、お金の動きはありません）。理由: {reason}",
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

    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


def _tell(contract: Contract, action: str, text: str) -> None:
    """System message in the thread, and a notification to the parties who did not act."""
    message_post_system(thread=contract.thread, body=text)
    for one in _notices(contract, action, text):
        notify(**one)


def _notices(contract: Contract, action: str, text: str) -> list[dict]:
    """The notifications of `_tell` (both parties), as `notify` arguments."""
    state = CONTRACT_FLOW.states.site(contract.state)  # stored: Japanese whoever acted
    return [
        notice(
            user=user,
            kind=f"contract.{action}",
            title=f"「{contract.title}」{state}",
            body=text,
            url=_url(contract),
            dedupe_key=f"contract:{contract.pk}:{action}:{contract.state_entered_at.isoformat()}:{user.pk}",
        )
        for user in (contract.client, contract.worker)
    ]


def contract_lock(contract_id: int) -> Contract:
    """For other apps acting on a contract (e.g. 納期変更): lock it the way every contract service does."""
    return _lock(contract_id)


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


def _due_termination(contract: Contract, now) -> TerminationRequest | None:
    return (
        TerminationRequest.objects.select_for_update()
        .select_related("requested_by")
        .filter(contract=contract, state="pending", due_at__lte=now)
        .first()
    )


def _settle(contract: Contract) -> str | None:
    """Fire the due SYSTEM transition of a locked contract, if any — its own timer, or the lapse of a pending
    termination request (silence = agreement), whichever fell due first. Returns the action fired."""
    now = clock.now()
    request = _due_termination(contract, now)
    contract_due = bool(contract.due_at and contract.due_at <= now)
    if request is not None and (not contract_due or request.due_at <= contract.due_at):
        flows.apply(request, "lapse", actor=Actor.SYSTEM)
        _terminate(contract, request, agreed_by=Actor.SYSTEM)
        return "terminate"
    if not contract_due:
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
        now = clock.now()
        if (contract.due_at and contract.due_at <= now) or _due_termination(contract, now):
            # The deadline passed between the settlement above and this lock (a microsecond race):
            # refuse; the sweeper or the next read settles it.
            raise DomainError("deadline_passed", "期限を過ぎたため、この操作はできません。画面を更新してください。")
        yield contract


def _effects(contract: Contract, action: str, text_key: str = "", **extra) -> None:
    """Money of the simple moves, then the thread and the notifications (`text_key`: another text for the
    same action, e.g. an operator's), then requests the new state makes moot."""
    if action in ("accept", "deem_accept"):
        extra["net"] = yen(_release(contract))
    if action == "terminate_overdue":
        extra.update(refund=yen(_refund(contract)), days=rules.OVERDUE_TERMINATION_AFTER.days)
    _tell(contract, action, _text(contract, text_key or action, **extra))
    _close_pending_requests(contract)


def _close_pending_requests(contract: Contract) -> None:
    """Requests that no longer make sense in the contract's new state are voided (the deal stays locked)."""
    from anshin.deals.services import date_change_void_pending

    date_change_void_pending(deal=contract)
    if contract.state not in OPEN:
        request = TerminationRequest.objects.select_for_update().filter(contract=contract, state="pending").first()
        if request is not None:
            flows.apply(request, "void", actor=Actor.SYSTEM, payload={"contract_state": contract.state})
            audit.record(
                subject=contract, action="termination_voided", actor_role=Actor.SYSTEM, payload={"request": request.pk}
            )
    review_window_open(contract=contract)  # reviews (§5): opens once the contract is accepted or terminated


def _refund(contract: Contract) -> int:
    """Overdue termination: the whole escrow back to the client (through the gateway). Idempotent."""
    entry_post(
        key=f"{contract.ledger_ref}:refund",
        kind="refund",
        ref=contract.ledger_ref,
        memo=f"納期超過による終了・全額返金: {contract.title}",
        lines=[Line(escrow_code(contract.ledger_ref), -contract.amount), Line(GATEWAY, contract.amount)],
    )
    return contract.amount


def _terminate(contract: Contract, request: TerminationRequest, *, agreed_by: Actor, user=None) -> None:
    """A termination request agreed to (or left unanswered): end the contract and split the escrow exactly:
    the worker gets `worker_amount` minus the tiered fee on it, the platform the fee, the client the rest."""
    split = request.split(contract.amount)
    flows.apply(
        contract,
        "terminate",
        actor=Actor.SYSTEM,
        payload={
            "request": request.pk,
            "agreed_by": str(agreed_by),
            "agreed_by_user": user.pk if user else None,
            **split,
        },
    )
    entry_post(
        key=f"{contract.ledger_ref}:termination",
        kind="termination",
        ref=contract.ledger_ref,
        memo=f"契約途中終了（合意）: {contract.title}",
        lines=[
            Line(escrow_code(contract.ledger_ref), -contract.amount),
            Line(worker_code(contract.worker_id), split["worker_net"]),
            Line(REVENUE, split["fee"]),
            Line(GATEWAY, split["refund"]),
        ],
    )
    request.answered_at = clock.now()
    request.answered_by = user
    request.save(update_fields=["answered_at", "answered_by"])
    how = "回答期限までに回答がなかったため合意とみなされ" if agreed_by == Actor.SYSTEM else "合意され"
    _effects(
        contract,
        "terminate",
        how=how,
        gross=yen(split["worker_amount"]),
        fee=yen(split["fee"]),
        net=yen(split["worker_net"]),
        refund=yen(split["refund"]),
    )


def _release(contract: Contract) -> int:
    """Escrow → worker balance minus the tiered fee → revenue. Idempotent per contract."""
    entry_post(**release_entry(contract))
    contract.accepted_at = clock.now()
    contract.save(update_fields=["accepted_at"])
    return release_net(contract)


def release_net(contract: Contract) -> int:
    return contract.amount - tiered_fee(contract.amount)


def release_entry(contract: Contract) -> dict:
    """The journal entry of `_release`, as `entry_post` arguments."""
    net = release_net(contract)
    return dict(
        key=f"{contract.ledger_ref}:release",
        kind="release",
        ref=contract.ledger_ref,
        memo=f"検収合格: {contract.title}",
        lines=[
            Line(escrow_code(contract.ledger_ref), -contract.amount),
            Line(worker_code(contract.worker_id), net),
            Line(REVENUE, contract.amount - net),
        ],
    )


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
        refuse_if_blocked(application.job.client_id, application.worker_id)  # trust: a contract is a new deal
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
    """Actions that need nothing but a click: accept/decline/withdraw the offer, cancel, accept delivery,
    end an overdue contract (full refund)."""
    if action in FORM_ACTIONS:
        raise DomainError("needs_input", "この操作には入力が必要です。")
    if action not in {"accept_offer", "decline_offer", "withdraw_offer", "cancel", "accept", "terminate_overdue"}:
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
    now = clock.now()
    with transaction.atomic():
        contract = (
            timers.lock_for_update(Contract.objects.select_related("client", "worker", "thread"))
            .filter(
                Q(due_at__lte=now) | Q(termination_requests__state="pending", termination_requests__due_at__lte=now),
                pk=contract_id,
            )
            .first()
        )
        if contract is None:
            return None  # settled already, by a user action or another sweeper, or not due any more
        action = _settle(contract)
    return f"contract {contract_id}: {action}" if action else None


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


def _deem_accept_batch(limit: int) -> list[str]:
    from anshin.contracts.settle_batch import contracts_deem_accept_batch  # built on this module's helpers

    return contracts_deem_accept_batch(limit)


timers.register(Contract, settle=contract_settle_due, remind=contract_remind, settle_batch=_deem_accept_batch)


# --- disputes (トラブル相談) --------------------------------------------------------------------------------


def contract_open_dispute(*, contract_id: int, user, reason: str, concerns=None, note: str = "") -> Contract:
    """Either side (or an operator) asks 事務局 to step in: the contract goes to `disputed`, where no timer
    runs, so e.g. a delivery under inspection is no longer deem-accepted; the time that was left is kept in
    the audit payload. An operator queue item is recorded: `termination_escalation` when the contract's
    latest 契約途中終了リクエスト was refused, `dispute` otherwise; it concerns the side complained about
    (the other party; for an operator, `concerns` if given — a suspension names the suspended user — else
    the worker). `note` is an operator's internal note (audit and queue item only, never shown to parties)."""
    from anshin.ops.models import QueueItem
    from anshin.ops.services import ops_due, queue_item_open

    reason = (reason or "").strip()
    if not reason:
        raise DomainError("empty", "相談内容を入力してください。")
    if len(reason) > 2_000:
        raise DomainError("too_long", "相談内容は2,000文字以内で入力してください。")
    with _acting(contract_id, user) as contract:
        role = _role(contract, user)
        now = clock.now()
        frozen = None
        if contract.due_at:
            left = contract.due_at - now
            frozen = {
                "timer_action": contract.timer_action,
                "due_at": contract.due_at.isoformat(),
                "remaining_seconds": left.total_seconds(),
                "remaining_us": left // timedelta(microseconds=1),
            }
        latest = TerminationRequest.objects.filter(contract=contract).order_by("-created_at", "-id").first()
        refused = latest.pk if latest is not None and latest.state == "refused" else None
        payload = {"reason": reason, "frozen_timer": frozen, "refused_termination_request": refused}
        if note:
            payload["note"] = note
        _move(contract, "open_dispute", user, payload)
        if role == Actor.CLIENT:
            concerned = contract.worker
        elif role == Actor.WORKER:
            concerned = contract.client
        else:
            concerned = concerns or contract.worker
        escalation = refused is not None
        queue_item_open(
            kind=QueueItem.Kind.TERMINATION_ESCALATION if escalation else QueueItem.Kind.DISPUTE,
            subject=contract,
            summary=f"{'途中終了の拒否からの相談' if escalation else 'トラブル相談'}: {contract.title}",
            dedupe_key=f"{contract.ledger_ref}:dispute:{contract.state_entered_at.isoformat()}",
            due_at=ops_due(now),
            opened_by=user,
            concerns=concerned,
            payload={"opened_by_role": str(role), **payload},
        )
        if role == Actor.OPERATOR:
            _effects(contract, "open_dispute", text_key="open_dispute_operator", reason=reason)
        else:
            _effects(contract, "open_dispute", who=user.name, reason=reason)
    return contract


OUTCOME_WORDS = {"release": "全額支払い", "refund": "全額返金", "split": "分割"}


def _check_resolution(outcome, worker_amount, note, operator) -> tuple[str, str]:
    from anshin.ops.services import note_required, operator_required

    operator_required(operator)
    note = note_required(note)
    if outcome not in ("release", "refund", "split"):
        raise DomainError("unknown_outcome", "裁定の内容（全額支払い・全額返金・分割）を選んでください。")
    if outcome == "split" and (not isinstance(worker_amount, int) or isinstance(worker_amount, bool)):
        raise DomainError("invalid_amount", "受注者に支払う額は円単位の整数で入力してください。")
    return f"resolve_{outcome}", note


def contract_resolve_dispute(
    *, contract_id: int, operator, outcome: str, worker_amount: int | None = None, note: str
) -> Contract:
    """事務局の裁定 on a disputed contract (operators only; anyone else gets 404): "release" pays the worker the
    whole escrow minus the tiered fee (like acceptance), "refund" returns it all to the client (like overdue
    termination), "split" pays the worker `worker_amount` minus the tiered fee on that part and refunds the
    rest (the arithmetic of an agreed termination; 0 < worker_amount < amount). One ledger entry under one
    idempotency key per contract, a system message and notifications to both parties (the internal note is
    in neither: only in the audit event and the closed queue items)."""
    from anshin.ops.models import QueueItem
    from anshin.ops.services import queue_items_close_for

    action, note = _check_resolution(outcome, worker_amount, note, operator)
    with _acting(contract_id, operator) as contract:
        role = _role(contract, operator)  # an operator who is a party is that party here: refused by the table
        CONTRACT_FLOW.find(action, contract.state, role, contract)
        amount = contract.amount
        if outcome == "split" and not 0 < worker_amount < amount:
            raise DomainError(
                "invalid_amount",
                f"分割する場合、受注者に支払う額は1円以上、契約金額（{yen(amount)}）未満で入力してください"
                "（全額なら「受注者に全額支払う」、0円なら「全額返金する」を選んでください）。",
            )
        share = {"release": amount, "refund": 0, "split": worker_amount}[outcome]
        split = TerminationRequest(worker_amount=share).split(amount)  # the same arithmetic as a termination
        flows.apply(contract, action, actor=role, user=operator, payload={"note": note, "outcome": outcome, **split})
        entry_post(
            key=f"{contract.ledger_ref}:dispute_resolution",
            kind=f"dispute_{outcome}",
            ref=contract.ledger_ref,
            memo=f"トラブル相談の裁定（{OUTCOME_WORDS[outcome]}）: {contract.title}",
            lines=[
                Line(escrow_code(contract.ledger_ref), -amount),
                Line(worker_code(contract.worker_id), split["worker_net"]),
                Line(REVENUE, split["fee"]),
                Line(GATEWAY, split["refund"]),
            ],
        )
        if outcome == "release":
            contract.accepted_at = clock.now()
            contract.save(update_fields=["accepted_at"])
        queue_items_close_for(
            subject=contract,
            operator=operator,
            resolution=action,
            note=note,
            kinds=[QueueItem.Kind.DISPUTE, QueueItem.Kind.TERMINATION_ESCALATION],
        )
        _effects(
            contract,
            action,
            gross=yen(split["worker_amount"]),
            fee=yen(split["fee"]),
            net=yen(split["worker_net"]),
            refund=yen(split["refund"]),
        )
    return contract


def contract_operator_cancel(*, contract_id: int, operator, reason: str, note: str) -> Contract:
    """An operator calls off a contract that holds no money yet (`offered` → withdraw_offer, `awaiting_funding`
    → cancel, the operator twins of the table), e.g. because a party's account was suspended. Both parties
    are told `reason`; `note` stays internal."""
    from anshin.ops.services import note_required, operator_required

    operator_required(operator)
    note = note_required(note)
    with _acting(contract_id, operator) as contract:
        action = {"offered": "withdraw_offer", "awaiting_funding": "cancel"}.get(contract.state)
        if action is None:
            label = CONTRACT_FLOW.states.site(contract.state)
            raise DomainError("not_allowed", f"現在の状態（{label}）ではこの操作はできません。")
        _move(contract, action, operator, {"note": note, "reason": reason, "by_operator": True})
        _effects(contract, action, text_key="operator_cancel", reason=reason)
    return contract


# --- 契約途中終了リクエスト -----------------------------------------------------------------------------------

TERMINATION_TEXT = {
    "request": "{who}さんから契約途中終了のリクエストが届きました。"
    "{w}さんへの支払い: {gross}、{c}さんへの返金: {refund}。理由: {reason}　"
    "{deadline}までに回答がない場合は合意したものとみなされます。",
    "refuse": "{who}さんが契約途中終了のリクエストを拒否しました。話し合いで解決できない場合は「事務局に相談する」から"
    "事務局に相談できます。",
    "withdraw": "{who}さんが契約途中終了のリクエストを取り下げました。",
}


def _check_termination_input(worker_amount, reason) -> str:
    if not isinstance(worker_amount, int) or isinstance(worker_amount, bool):
        raise DomainError("invalid_amount", "受注者に支払う額は円単位の整数で入力してください。")
    if worker_amount < 0:
        raise DomainError("invalid_amount", "受注者に支払う額は0円以上で入力してください。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("empty", "途中終了したい理由を入力してください。")
    if len(reason) > 2_000:
        raise DomainError("too_long", "理由は2,000文字以内で入力してください。")
    return reason


def _termination_tell(contract: Contract, request: TerminationRequest, action: str, text: str, recipients) -> None:
    message_post_system(thread=contract.thread, body=text)
    titles = {
        "request": "契約途中終了のリクエストが届きました",
        "refuse": "契約途中終了のリクエストが拒否されました",
        "withdraw": "契約途中終了のリクエストが取り下げられました",
    }
    for user in recipients:
        notify(
            user=user,
            kind=f"contract.termination.{action}",
            title=f"「{contract.title}」{titles[action]}",
            body=text,
            url=_url(contract),
            dedupe_key=f"termination:{request.pk}:{action}:{user.pk}",
        )


def termination_request_create(*, contract_id: int, user, reason: str, worker_amount: int = 0) -> TerminationRequest:
    """Either side proposes to end the contract early, with `worker_amount` of the escrow for the worker (the
    rest is refunded; default 0 = full refund). The client cannot use it while a delivery awaits inspection."""
    reason = _check_termination_input(worker_amount, reason)
    with _acting(contract_id, user) as contract:
        role = _role(contract, user)
        if contract.state not in OPEN:
            label = CONTRACT_FLOW.states.site(contract.state)
            raise DomainError("not_allowed", f"現在の状態（{label}）では途中終了をリクエストできません。")
        if role == Actor.CLIENT and contract.state == "delivered":
            raise DomainError(
                "awaiting_inspection",
                "納品物が検収待ちです。途中終了をリクエストする前に、検収合格にするか修正を依頼してください。",
            )
        if worker_amount > contract.amount:
            raise DomainError(
                "invalid_amount", f"受注者に支払う額は契約金額（{yen(contract.amount)}）以下で入力してください。"
            )
        if TerminationRequest.objects.filter(contract=contract, state="pending").exists():
            raise DomainError("already_pending", "回答待ちの途中終了リクエストがあります。", status=409)
        request = TerminationRequest(
            contract=contract,
            requested_by=user,
            requested_as=str(role),
            worker_amount=worker_amount,
            reason=reason,
            created_at=clock.now(),
        )
        request.init_state("pending")
        request.save()
        split = request.split(contract.amount)
        audit.record(
            subject=request,
            action="request",
            actor=user,
            actor_role=role,
            to_state="pending",
            payload={"worker_amount": worker_amount},
        )
        audit.record(
            subject=contract,
            action="termination_requested",
            actor=user,
            actor_role=role,
            payload={"request": request.pk, "reason": reason, **split},
        )
        who = user.name if role != Actor.OPERATOR else "事務局"
        text = TERMINATION_TEXT["request"].format(
            who=who,
            c=contract.client.name,
            w=contract.worker.name,
            gross=yen(worker_amount),
            refund=yen(split["refund"]),
            reason=reason,
            deadline=clock_local(request.due_at),
        )
        others = [u for u in (contract.client, contract.worker) if u.pk != user.pk]
        _termination_tell(contract, request, "request", text, others)
    return request


def _may_answer(request: TerminationRequest, role: Actor, action: str) -> None:
    if role == Actor.OPERATOR:
        return
    if action == "withdraw" and role != request.requested_as:
        raise DomainError("not_allowed", "リクエストを取り下げられるのは、リクエストした人だけです。")
    if action in ("agree", "refuse") and role == request.requested_as:
        raise DomainError("not_allowed", "自分のリクエストには回答できません。相手の回答をお待ちください。")


def termination_answer(*, request_id: int, user, action: str) -> TerminationRequest:
    """agree / refuse (the other side), withdraw (the side that asked). Agreement ends the contract."""
    if action not in ("agree", "refuse", "withdraw"):
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    contract_id = TerminationRequest.objects.filter(pk=request_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFound()
    with _acting(contract_id, user) as contract:
        role = _role(contract, user)
        request = TerminationRequest.objects.select_for_update().select_related("requested_by").get(pk=request_id)
        TERMINATION_FLOW.find(action, request.state, role)
        _may_answer(request, role, action)
        flows.apply(request, action, actor=role, user=user)
        if action == "agree":
            _terminate(contract, request, agreed_by=role, user=user)
            return request
        request.answered_at, request.answered_by = clock.now(), user
        request.save(update_fields=["answered_at", "answered_by"])
        event = {"refuse": "termination_refused", "withdraw": "termination_withdrawn"}[action]
        audit.record(subject=contract, action=event, actor=user, actor_role=role, payload={"request": request.pk})
        who = user.name if role != Actor.OPERATOR else "事務局"
        recipients = [u for u in (contract.client, contract.worker) if u.pk != user.pk]
        _termination_tell(contract, request, action, TERMINATION_TEXT[action].format(who=who), recipients)
    return request


def termination_settle_due(request_id: int) -> str | None:
    """`tick`: a pending request whose answer window has passed is settled through its contract (so the
    contract's own timer, if it fell due earlier, wins). Lock order contract → request, like every action."""
    contract_id = (
        TerminationRequest.objects.filter(pk=request_id, state="pending", due_at__lte=clock.now())
        .values_list("contract_id", flat=True)
        .first()
    )
    if contract_id is None:
        return None
    return contract_settle_due(contract_id)


def termination_remind(request_id: int) -> str | None:
    """Reminder to the side that has not answered (2 days before silence counts as agreement)."""
    with transaction.atomic():
        request = (
            timers.lock_for_update(TerminationRequest.objects.select_related("contract__client", "contract__worker"))
            .filter(pk=request_id, remind_at__lte=clock.now())
            .first()
        )
        if request is None:
            return None
        timer = TERMINATION_FLOW.timer_for(request.state)
        now = clock.now()
        if timer is None or request.due_at <= now:
            request.remind_at = None
            request.save(update_fields=["remind_at"])
            return None
        latest = max(request.due_at - before for before in timer.reminders if request.due_at - before <= now)
        days = round((request.due_at - latest).total_seconds() / 86400)
        contract = request.contract
        answerers = {"client": [contract.worker], "worker": [contract.client]}.get(
            request.requested_as, [contract.client, contract.worker]
        )
        for user in answerers:
            notify(
                user=user,
                kind="contract.termination_reminder",
                title=f"「{contract.title}」途中終了リクエストの回答期限まであと{days}日です",
                body=f"{clock_local(request.due_at)}までに合意または拒否してください。"
                "期限を過ぎると合意したものとみなされ、リクエストの内容で契約が終了します。",
                url=_url(contract),
                dedupe_key=f"termination:{request.pk}:remind:{request.due_at.isoformat()}:{days}:{user.pk}",
            )
        request.remind_at = flows.next_reminder(request.due_at, timer, after=now)
        request.save(update_fields=["remind_at"])
    return f"termination_request {request_id}: reminder {days}d"


timers.register(TerminationRequest, settle=termination_settle_due, remind=termination_remind)
