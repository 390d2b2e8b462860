"""A realistic, deterministic data set for the benchmarks (issue 6), written with COPY on PostgreSQL.

Rows are built as plain tuples from one seeded `random.Random` (same seed → same rows; timestamps are offsets
from the moment of the run) and streamed with psycopg's `cursor.copy()`. Everything happens in one
transaction: the loaded tables' secondary indexes, unique and foreign-key constraints are dropped first and
recreated before commit (PostgreSQL then checks them set-wise, faster than row by row). `ledger_posting` is
loaded last with its constraints and triggers untouched, so the append-only and balanced-entry triggers judge
every posting at commit as they judge the application's own.

Shapes: users by a Zipf-like activity rank (a few very busy clients and workers), deals in every state of
their flow with the timers the flow would have armed (reminders already sent are not pending), money that
adds up (escrow of open deals = the amount held, completed deals released, balances = sums of postings),
messages spread in order over the last 180 days with read receipts for most. `due_timers` delivered
contracts have a deemed-acceptance timer already due, so `manage.py tick` settles them through the real code.
"""

import hashlib
import json
import random
import time
from array import array
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from anshin import rules
from anshin.contracts.flow import CONTRACT_FLOW
from anshin.core import clock
from anshin.core.flows import next_reminder
from anshin.core.money import tiered_fee
from anshin.jobs.models import deadline_end
from anshin.orders.flow import ORDER_FLOW

DEFAULT_SIZES = {
    "users": 100_000, "jobs": 100_000, "applications": 300_000, "contracts": 100_000, "orders": 50_000,
    "messages": 2_000_000, "ledger_entries": 500_000, "due_timers": 20_000,
}
PASSWORD = "anshin-bench-2026"
SEARCH_TERMS = ["記事", "ロゴ", "翻訳", "データ入力"]
DAY = 86_400.0
HISTORY = 180 * DAY

FAMILY = "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 清水 山崎".split()
GIVEN = "花子 健 翔太 陽菜 蓮 結衣 大翔 さくら 悠真 美咲 拓海 葵 颯太 凛 湊 七海 陸 芽衣 樹 彩".split()
COMPANY = "さくら みなと あおぞら ひかり つばさ やまと こだま みらい はるか いろは".split()
COMPANY_KIND = ["株式会社", "合同会社", "有限会社"]
SUBJECTS = ("ECサイト 美容サロン 不動産会社 歯科医院 学習塾 飲食店 旅行会社 アプリ 採用サイト ブログ 保険代理店 "
            "工務店").split()
# task, category, listing title: every task word is one of the search terms or close to them
TASKS = [
    ("のSEO記事作成（3,000字）", "writing", "SEO記事を1本作成します"),
    ("の商品説明記事の執筆", "writing", "商品説明の記事を書きます"),
    ("のロゴデザイン", "design", "ロゴを3案ご提案します"),
    ("のロゴとバナー制作", "design", "バナーとロゴを制作します"),
    ("の英語翻訳（日→英）", "translation", "日英翻訳をいたします"),
    ("のマニュアル翻訳", "translation", "マニュアルを丁寧に翻訳します"),
    ("のデータ入力（顧客リスト）", "data", "データ入力を正確に代行します"),
    ("のWordPress改修", "development", "WordPressの不具合を修正します"),
    ("の紹介動画の編集", "video", "紹介動画を編集します"),
    ("のSNS運用代行", "marketing", "SNS運用をサポートします"),
]
SKILLS = ["ライティング,SEO", "Illustrator,ロゴ", "翻訳,英語", "Excel,データ入力", "Python,Django", "WordPress,PHP",
          "動画編集,Premiere", "SNS,マーケティング"]
LINES = [
    "お世話になっております。", "ご確認よろしくお願いいたします。", "承知いたしました。", "ありがとうございます！",
    "資料を拝見しました。", "修正版をお送りします。", "明日までに対応いたします。", "進捗をご報告します。",
    "構成案を添付しました。", "こちらの方向性で問題ないでしょうか。", "納期について相談させてください。",
    "大変助かりました。", "引き続きよろしくお願いいたします。", "参考サイトのURLをお送りします。",
    "一点確認させてください。", "本日中に初稿をお送りできそうです。", "細かい点ですが、表記を統一しました。",
]
CONTRACT_WEIGHTS = {"offered": 4, "awaiting_funding": 4, "funded": 14, "delivered": 6, "revision_requested": 4,
                    "accepted": 50, "lapsed": 3, "cancelled": 7, "terminated": 5, "disputed": 3}
ORDER_WEIGHTS = {"purchased": 4, "responded": 3, "in_progress": 10, "delivered": 6, "completed": 55,
                 "cancelled": 17, "disputed": 3}
C, W, S = "client", "worker", "system"
CONTRACT_PATHS = {  # state -> possible histories after the offer: [(action, actor)]
    "offered": [[]],
    "awaiting_funding": [[("accept_offer", W)]],
    "funded": [[("accept_offer", W), ("fund", C)]],
    "delivered": [[("accept_offer", W), ("fund", C), ("deliver", W)]],
    "revision_requested": [[("accept_offer", W), ("fund", C), ("deliver", W), ("request_revision", C)]],
    "accepted": [[("accept_offer", W), ("fund", C), ("deliver", W), ("accept", C)],
                 [("accept_offer", W), ("fund", C), ("deliver", W), ("deem_accept", S)]],
    "lapsed": [[("lapse", S)]],
    "cancelled": [[("decline_offer", W)], [("withdraw_offer", C)], [("accept_offer", W), ("cancel", C)],
                  [("accept_offer", W), ("expire_funding", S)]],
    "terminated": [[("accept_offer", W), ("fund", C), ("terminate_overdue", C)],
                   [("accept_offer", W), ("fund", C), ("deliver", W), ("terminate", S)]],
    "disputed": [[("accept_offer", W), ("fund", C), ("deliver", W), ("open_dispute", C)]],
}
ORDER_PATHS = {
    "purchased": [[]],
    "responded": [[("respond", W)]],
    "in_progress": [[("accept", W)]],
    "delivered": [[("accept", W), ("deliver", W)]],
    "completed": [[("accept", W), ("deliver", W), ("approve", C)],
                  [("accept", W), ("deliver", W), ("auto_approve", S)]],
    "cancelled": [[("expire", S)], [("accept", W), ("cancel", C)]],
    "disputed": [[("accept", W), ("deliver", W), ("open_dispute", W)]],
}
CONTRACT_OPEN = {"funded", "delivered", "revision_requested", "disputed"}  # escrow held
ORDER_OPEN = {"purchased", "responded", "in_progress", "delivered", "disputed"}


class LoadgenError(Exception):
    pass


def sizes_for(scale: float = 1.0, **overrides) -> dict:
    sizes = {name: max(1, round(n * scale)) for name, n in DEFAULT_SIZES.items()}
    sizes.update({k: v for k, v in overrides.items() if v is not None})
    return sizes


def dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def quotas(total: int, weights: dict, biggest: str) -> list[str]:
    """Exactly `total` state labels in the proportions of `weights`, each state at least once."""
    norm = sum(weights.values())
    counts = {s: max(1, round(total * w / norm)) for s, w in weights.items()}
    counts[biggest] += total - sum(counts.values())
    if counts[biggest] < 1:
        raise LoadgenError(f"too few rows ({total}) for every state of {sorted(weights)}")
    return [s for s, n in counts.items() for _ in range(n)]


def entry_hash(kind: str, lines: list[tuple[str, int]]) -> str:
    """The payload hash `ledger.services.entry_post` stores (so a replay of the same command is accepted)."""
    return hashlib.sha256(json.dumps([kind, sorted(lines)]).encode()).hexdigest()


def app_tables() -> list[str]:
    tables = []
    for model in apps.get_models(include_auto_created=True):
        if model.__module__.startswith("anshin.") or model._meta.app_label in ("accounts", "account"):
            tables.append(model._meta.db_table)
    return sorted(set(tables))


class Generator:
    def __init__(self, sizes: dict, seed: int, log):
        self.sizes, self.seed, self.log = sizes, seed, log
        self.rng = random.Random(seed)
        self.now = clock.now().timestamp()
        self.copied: dict[str, int] = {}

    # --- plumbing -----------------------------------------------------------------------------------------

    def copy(self, table: str, columns: str, rows) -> None:
        started, n = time.monotonic(), 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
                    n += 1
        self.copied[table] = self.copied.get(table, 0) + n
        self.log(f"  {table}: {n:,} rows in {time.monotonic() - started:.1f}s")

    def zipf(self, population: list[int], k: int, s: float = 1.05) -> list[int]:
        """k draws where the i-th most active member is drawn ~1/(i+3)^s as often: a few are very busy."""
        cum = list(accumulate(1.0 / (i + 3) ** s for i in range(len(population))))
        return self.rng.choices(population, cum_weights=cum, k=k)

    def arm(self, flow, state: str, entered: float):
        """(due_at, timer_action, remind_at) as the flow arms them; reminders already past were sent."""
        timer = flow.timer_for(state)
        if timer is None:
            return None, "", None
        due = dt(entered + timer.after.total_seconds())
        remind = next_reminder(due, timer, after=max(dt(entered), dt(self.now)))
        return due, timer.action, remind

    def timeline(self, start: float, end: float, n: int) -> list[float]:
        """n moments in order in [start, end], the last one at `end`."""
        return sorted(self.rng.uniform(start, end) for _ in range(n - 1)) + [end] if n else []

    # --- the data set -------------------------------------------------------------------------------------

    def run(self) -> dict:
        self.users()
        self.jobs_and_applications()
        self.contracts()
        self.orders()
        self.withdrawals()
        self.threads_and_messages()
        self.audit_and_notifications()
        self.reviews()
        return self.persona

    def users(self) -> None:
        n, rng, now = self.sizes["users"], self.rng, self.now
        if n < 4:
            raise LoadgenError("at least 4 users are needed")
        password = make_password(PASSWORD)  # one hash for everyone: make_password is slow on purpose
        self.clients, self.workers = [1], [2]
        for uid in range(3, n + 1):
            (self.clients if rng.random() < 0.3 or len(self.clients) < 2 else self.workers).append(uid)
        rng.shuffle(self.clients)
        rng.shuffle(self.workers)
        self.clients.remove(1)  # the persona client is written by hand (an inbox of ~50 threads)
        self.client_set = set(self.clients) | {1}
        rows = []
        for uid in range(1, n + 1):
            joined = now - HISTORY - rng.uniform(0, 540 * DAY)
            if uid in self.client_set:
                name = f"{rng.choice(COMPANY_KIND)}{rng.choice(COMPANY)}{rng.choice(SUBJECTS)}"
                skills = ""
            else:
                name = f"{rng.choice(FAMILY)}{rng.choice(GIVEN)}"
                skills = rng.choice(SKILLS)
            email = {1: "persona-client", 2: "persona-worker"}.get(uid, f"user{uid}") + "@loadgen.anshin.example"
            verified = dt(joined + DAY) if rng.random() < 0.5 else None
            rows.append((uid, password, None, False, "", "", False, True, dt(joined), email, name[:50],
                         f"{name}です。よろしくお願いいたします。", skills, rng.random() < 0.05, verified, None, None))
        self.copy("accounts_user", "id, password, last_login, is_superuser, first_name, last_name, is_staff, "
                  "is_active, date_joined, email, display_name, bio, skills, hide_last_access, identity_verified_at, "
                  "messaging_restricted_at, suspended_at", rows)
        self.copy("accounts_presence", "user_id, last_seen_at",
                  ((uid, dt(now - rng.expovariate(1 / (3 * DAY)) % HISTORY)) for uid in range(1, n + 1)
                   if rng.random() < 0.9))

    def jobs_and_applications(self) -> None:
        rng, now = self.rng, self.now
        today = timezone.localdate(dt(now))
        n_jobs, n_apps = self.sizes["jobs"], self.sizes["applications"]
        self.persona_jobs = min(10, max(1, n_jobs // 20))
        clients = [1] * self.persona_jobs + self.zipf(self.clients, n_jobs - self.persona_jobs)
        self.jobs = []  # (client, created, title, category)
        rows = []
        for jid, client in enumerate(clients, start=1):
            created = now - rng.uniform(0, HISTORY) if jid > self.persona_jobs else now - rng.uniform(20, 60) * DAY
            task, category, _ = rng.choice(TASKS)
            title = f"{rng.choice(SUBJECTS)}{task}"
            budget_max = rng.choice([5_000, 10_000, 30_000, 50_000, 100_000, 200_000, 500_000])
            budget_min = budget_max // 2 if rng.random() < 0.5 else None
            kept_open = created > now - 30 * DAY and rng.random() < 0.8  # else the client closed it early
            self.jobs.append((client, created, title, category))
            day = dt(created).date()
            deadline = day + timedelta(days=14)
            description = f"{title}をお願いできる方を募集します。{rng.choice(LINES)}継続依頼の可能性もあります。"
            skills, delivery = rng.choice(SKILLS), day + timedelta(days=rng.randint(21, 60))
            if jid <= self.persona_jobs:  # the persona's jobs stay open and listed: deadlines still ahead
                kept_open, deadline = True, today + timedelta(days=7 + jid)
                delivery = max(delivery, deadline + timedelta(days=7))
            # What the clock would have left (JOB_FLOW): open until the end of the deadline day, then closed.
            end = deadline_end(deadline)
            if kept_open and end.timestamp() > now:
                state, entered, due_at, action = "open", dt(created), end, "expire"
            elif kept_open or created <= now - 30 * DAY:
                state, entered, due_at, action = "closed", end, None, ""  # 募集終了 by the clock
            else:
                state, entered, due_at, action = "closed", dt(created), None, ""  # closed early by the client
            rows.append((jid, state, entered, due_at, action, None, client, title, description, category, skills,
                         budget_min, budget_max, deadline, delivery, 1, dt(created), dt(created)))
        self.copy("jobs_job", "id, state, state_entered_at, due_at, timer_action, remind_at, client_id, title, "
                  "description, category, skills, budget_min, budget_max, application_deadline, delivery_date, hires, "
                  "created_at, updated_at", rows)
        # Applications: the persona's jobs get 3 each (one by the persona worker), the rest popular-skewed.
        pairs: set[tuple[int, int]] = set()
        self.apps = []  # (job, worker, created, amount)
        persona_apps = min(3 * self.persona_jobs, n_apps)
        for i in range(persona_apps):
            job = i // 3 + 1
            worker = 2 if i == 0 else self.workers[(i * 7919) % len(self.workers)]
            if (job, worker) in pairs:
                worker = next(w for w in self.workers if (job, w) not in pairs)
            pairs.add((job, worker))
        pairs_list = sorted(pairs, key=lambda p: (p[0], p[1] != 2))
        workers = iter(self.zipf(self.workers, 2 * n_apps))
        while len(pairs_list) < n_apps:
            job = self.persona_jobs + 1 + int((n_jobs - self.persona_jobs) * rng.random() ** 1.6)
            if job > n_jobs:
                continue
            worker = next(workers, None) or rng.choice(self.workers)
            if (job, worker) not in pairs:
                pairs.add((job, worker))
                pairs_list.append((job, worker))
        for job, worker in pairs_list:
            job_created = self.jobs[job - 1][1]
            created = job_created + (now - job_created) * rng.random() ** 3
            amount = max(rules.MIN_AMOUNT, rng.choice([5_000, 10_000, 20_000, 30_000, 50_000, 80_000, 100_000,
                                                       150_000, 300_000]) + rng.randrange(0, 5) * 1_000)
            self.apps.append([job, worker, created, amount])
        self.persona_app_count = persona_apps

    def contracts(self) -> None:
        rng, now = self.rng, self.now
        n, due = self.sizes["contracts"], self.sizes["due_timers"]
        if n > len(self.apps):
            raise LoadgenError("contracts cannot outnumber applications (each contract comes from one)")
        if due > n - len(CONTRACT_WEIGHTS):
            raise LoadgenError("due_timers must leave room for every other contract state")
        persona_n = min(12, self.persona_app_count)
        others = rng.sample(range(self.persona_app_count, len(self.apps)), n - persona_n)
        chosen = list(range(persona_n)) + others  # application indexes; index 0: persona client ↔ worker
        states = quotas(n - due, CONTRACT_WEIGHTS, "accepted")
        rng.shuffle(states)
        states.remove("funded")
        states.insert(0, "funded")  # the persona contract: work under way, visible to both
        # The due deemed acceptances need an application at least 11 days old.
        old = [i for i in chosen[persona_n:] if self.apps[i][2] < now - 11 * DAY][:due]
        if len(old) < due:
            raise LoadgenError("not enough old applications for the due timers: lower --due-timers")
        old_set = set(old)
        order = chosen[:persona_n] + [i for i in chosen[persona_n:] if i not in old_set] + old
        states += ["due"] * due
        app_state = {}
        self.contract_rows, self.deliveries, self.deals = [], [], []
        entries, self.escrow = [], {}
        for cid, (ai, state) in enumerate(zip(order, states, strict=True), start=1):
            job, worker, app_t, amount = self.apps[ai]
            client, _, title, _ = self.jobs[job - 1]
            app_state[ai] = "offered"
            real = "delivered" if state == "due" else state
            path = rng.choice(CONTRACT_PATHS[real])
            if state == "due":
                end = now - rules.DEEMED_ACCEPTANCE_AFTER.total_seconds() - rng.uniform(60, 3 * DAY)
                start = app_t + (end - app_t) * rng.random() * 0.3
            elif CONTRACT_FLOW.timer_for(real) is not None:
                end = max(now - rng.uniform(0.01, 0.9) * 7 * DAY, app_t + (now - app_t) * rng.random())
                start = app_t + (end - app_t) * rng.random() * 0.3
            else:
                start = app_t + min(rng.uniform(0, 5 * DAY), (now - app_t) * rng.random())
                end = max(start, min(start + len(path) * rng.uniform(1, 8) * DAY, now - 60))
            if not path:
                start = end  # a pending offer: its timer runs from the offer itself
            times = self.timeline(start, end, len(path))
            events = [("offer", C, "", "offered", start)]
            current = "offered"
            for (action, actor), at in zip(path, times, strict=True):
                target = _target(CONTRACT_FLOW, action, current)
                events.append((action, actor, current, target, at))
                current = target
            assert current == real, (real, path)
            entered = times[-1] if times else start
            at = dict((e[0], e[4]) for e in events)
            due_at, action, remind = self.arm(CONTRACT_FLOW, real, entered)
            day = dt(start).date()
            self.contract_rows.append((cid, real, dt(entered), due_at, action, remind, client, worker, ai + 1,
                                       title[:100], amount, day + timedelta(days=rng.randint(7, 45)), dt(start),
                                       dt(at["fund"]) if "fund" in at else None,
                                       dt(at.get("accept", at.get("deem_accept"))) if real == "accepted" else None))
            if "deliver" in at:
                self.deliveries.append((cid, "納品いたします。ご確認をお願いいたします。",
                                        "https://example.com/deliverable", dt(at["deliver"])))
            self.deals.append(("contract", cid, client, worker, title, start, entered, events, real))
            ref = f"contract:{cid}"
            escrow = f"escrow:{ref}"
            if "fund" in at:
                entries.append((f"{ref}:fund", ref, "fund", f"仮払い: {title}", at["fund"],
                                [("gateway", -amount), (escrow, amount)]))
            if real == "accepted":
                fee = tiered_fee(amount)
                entries.append((f"{ref}:release", ref, "release", f"検収合格: {title}", entered,
                                [(escrow, -amount), (f"worker:{worker}", amount - fee), ("revenue", fee)]))
            elif real == "terminated" and path[-1][0] == "terminate_overdue":
                entries.append((f"{ref}:refund", ref, "refund", f"納期超過による終了・全額返金: {title}", entered,
                                [(escrow, -amount), ("gateway", amount)]))
            elif real == "terminated":
                share = amount * rng.randint(3, 7) // 10
                fee = tiered_fee(share)
                entries.append((f"{ref}:termination", ref, "termination", f"契約途中終了（合意）: {title}", entered,
                                [(escrow, -amount), (f"worker:{worker}", share - fee), ("revenue", fee),
                                 ("gateway", amount - share)]))
            if real in CONTRACT_OPEN:
                self.escrow[escrow] = amount
        self.due_contract_ids = [r[0] for r in self.contract_rows[-due:]] if due else []
        self.entries = entries
        self.copy("contracts_contract", "id, state, state_entered_at, due_at, timer_action, remind_at, client_id, "
                  "worker_id, application_id, title, amount, delivery_date, created_at, funded_at, accepted_at",
                  self.contract_rows)
        self.copy("contracts_delivery", "contract_id, body, links, created_at", self.deliveries)
        weights = (("applied", 40), ("shortlisted", 15), ("declined", 35), ("withdrawn", 10))
        states = rng.choices([s for s, _ in weights], cum_weights=list(accumulate(w for _, w in weights)),
                             k=len(self.apps))
        reasons = ["filled", "budget", "schedule", "skills", "other"]
        rows = []
        for i, (job, worker, created, amount) in enumerate(self.apps):
            state = app_state.get(i, states[i])
            rows.append((i + 1, state, dt(created), None, "", None, job, worker,
                         f"はじめまして。{rng.choice(LINES)}ぜひお手伝いさせてください。", amount,
                         (dt(created) + timedelta(days=rng.randint(7, 30))).date(),
                         rng.choice(reasons) if state == "declined" else "", dt(created)))
        self.copy("jobs_application", "id, state, state_entered_at, due_at, timer_action, remind_at, job_id, "
                  "worker_id, message, amount, estimated_date, decline_reason, created_at", rows)
        self.persona = {"client_id": 1, "worker_id": 2, "password": PASSWORD, "contract_id": 1,
                        "profile_user_id": self.clients[0], "search_terms": SEARCH_TERMS}

    def orders(self) -> None:
        rng, now = self.rng, self.now
        n = self.sizes["orders"]
        n_listings = self.sizes.setdefault("listings", max(2, n // 5))
        sellers = [2] + self.zipf(self.workers, n_listings - 1)
        listings, rows = [], []
        for lid, seller in enumerate(sellers, start=1):
            task, category, name = rng.choice(TASKS)
            created = now - HISTORY - rng.uniform(0, 180 * DAY)
            price = rng.choice([1_000, 3_000, 5_000, 10_000, 20_000, 50_000])
            days, revisions = rng.choice([3, 5, 7, 14]), rng.randint(1, 3)
            listings.append((seller, f"{rng.choice(SUBJECTS)}向け・{name}", price, days, revisions))
            rows.append((lid, "active" if rng.random() < 0.9 else "paused", dt(created), None, "", None, seller,
                         listings[-1][1][:100], f"{name}。{rng.choice(LINES)}お気軽にご相談ください。", category,
                         price, days, revisions, dt(created), dt(created)))
        self.copy("orders_listing", "id, state, state_entered_at, due_at, timer_action, remind_at, seller_id, title, "
                  "description, category, price, delivery_days, included_revisions, created_at, updated_at", rows)
        persona_n = min(8, n - len(ORDER_WEIGHTS)) if n > len(ORDER_WEIGHTS) else 0
        buyers = [1] * persona_n + self.zipf(self.clients, n - persona_n)
        states = quotas(n, ORDER_WEIGHTS, "completed")
        rng.shuffle(states)
        rows, deliveries = [], []
        for oid, (buyer, state) in enumerate(zip(buyers, states, strict=True), start=1):
            lid = 1 + int(n_listings * rng.random() ** 2)
            seller, title, price, days, revisions = listings[min(lid, n_listings) - 1]
            subtotal = price
            fee = subtotal * rules.ORDER_BUYER_FEE_PERMILLE // 1000
            total = subtotal + fee
            path = rng.choice(ORDER_PATHS[state])
            if ORDER_FLOW.timer_for(state) is not None:
                window = ORDER_FLOW.timer_for(state).after.total_seconds()
                end = now - rng.uniform(0.01, 0.9) * window
                start = end - rng.uniform(0, 5 * DAY) if path else end
            else:
                start = now - rng.uniform(0, HISTORY)
                end = max(start, min(start + len(path) * rng.uniform(0.5, 5) * DAY, now - 60))
            times = self.timeline(start, end, len(path))
            events, current = [("purchase", C, "", "purchased", start)], "purchased"
            for (action, actor), at in zip(path, times, strict=True):
                target = _target(ORDER_FLOW, action, current)
                events.append((action, actor, current, target, at))
                current = target
            entered = times[-1] if times else start
            at = dict((e[0], e[4]) for e in events)
            due_at, action, remind = self.arm(ORDER_FLOW, state, entered)
            accepted = at.get("accept")
            done = at.get("approve", at.get("auto_approve"))
            rows.append((oid, state, dt(entered), due_at, action, remind, lid, buyer, seller, title, "[]", subtotal,
                         fee, total, days, revisions, 0,
                         (dt(accepted) + timedelta(days=days)).date() if accepted else None, dt(start),
                         dt(accepted) if accepted else None, dt(done) if done else None))
            if "deliver" in at:
                deliveries.append((oid, "納品いたしました。ご確認ください。", dt(at["deliver"])))
            self.deals.append(("order", oid, buyer, seller, title, start, entered, events, state))
            ref = f"order:{oid}"
            escrow = f"escrow:{ref}"
            self.entries.append((f"{ref}:purchase", ref, "purchase", f"サービス購入: {title}", start,
                                 [("gateway", -total), (escrow, total)]))
            if state == "completed":
                seller_fee = subtotal * rules.ORDER_SELLER_FEE_PERCENT // 100
                self.entries.append((f"{ref}:payout", ref, "payout", f"取引完了: {title}", entered,
                                     [(escrow, -total), (f"worker:{seller}", subtotal - seller_fee),
                                      ("revenue", seller_fee + fee)]))
            elif state == "cancelled":
                self.entries.append((f"{ref}:refund", ref, "refund", f"キャンセル・全額返金: {title}", entered,
                                     [(escrow, -total), ("gateway", total)]))
            if state in ORDER_OPEN:
                self.escrow[escrow] = total
        self.copy("orders_order", "id, state, state_entered_at, due_at, timer_action, remind_at, listing_id, "
                  "buyer_id, seller_id, title, options, subtotal, buyer_fee, total, delivery_days, "
                  "included_revisions, revisions_used, delivery_date, created_at, accepted_at, completed_at", rows)
        self.copy("orders_orderdelivery", "order_id, body, created_at", deliveries)

    def withdrawals(self) -> None:
        """The rest of the ledger: workers paying out what they earned (request + transfer), the last one
        still waiting for 事務局 if the count is odd."""
        rng, now = self.rng, self.now
        missing = self.sizes["ledger_entries"] - len(self.entries)
        if missing < 0:
            self.log(f"  note: the deals alone make {len(self.entries):,} ledger entries (more than asked)")
        earned: dict[int, int] = {}
        for *_, lines in self.entries:
            for code, amount in lines:
                if code.startswith("worker:"):
                    earned[int(code[7:])] = earned.get(int(code[7:]), 0) + amount
        available = sorted(earned.items())
        rows, wid = [], 0
        while missing > 0 and available:
            left = []
            for user, balance in available:
                if missing <= 0:
                    break
                amount = min(balance, rng.choice([1_000, 3_000, 5_000, 10_000, 20_000]))
                if amount < rules.WITHDRAWAL_MIN:
                    continue
                wid += 1
                created = now - rng.uniform(0.1, 60) * DAY
                ref = f"withdrawal:{wid}"
                pending = f"payout_pending:{user}"
                self.entries.append((f"{ref}:request", ref, "withdrawal_request", f"出金申請 #{wid}", created,
                                     [(f"worker:{user}", -amount), (pending, amount)]))
                paid = missing >= 2
                if paid:
                    self.entries.append((f"{ref}:settle", ref, "withdrawal_paid", f"出金 #{wid}", created + DAY,
                                         [(pending, -amount), ("gateway", amount)]))
                missing -= 2 if paid else 1
                state = "paid" if paid else "requested"
                rows.append((wid, state, dt(created + DAY if paid else created), None, "", None, "みずほ銀行", "0001",
                             "本店", "100", "ordinary", f"{user % 10_000_000:07d}", "ヤマダ　ハナコ", user, amount, "",
                             dt(created), None, dt(created + DAY) if paid else None, "", ""))
                left.append((user, balance - amount))
            available = left
        self.copy("payouts_withdrawal", "id, state, state_entered_at, due_at, timer_action, remind_at, bank_name, "
                  "bank_code, branch_name, branch_code, account_type, account_number, holder, user_id, amount, "
                  "request_key, created_at, decided_by_id, decided_at, reverse_reason, internal_note", rows)

    def threads_and_messages(self) -> None:
        """One thread per application, contract and order; messages in order within each thread's span."""
        rng, now = self.rng, self.now
        threads = []  # (kind, fk, client, worker, subject, start, end, first_is_system)
        for i, (job, worker, created, _) in enumerate(self.apps):
            client, _, title, _ = self.jobs[job - 1]
            threads.append(("application", i + 1, client, worker, f"応募: {title}", created,
                            min(now - 1, created + rng.uniform(0.1, 20) * DAY), False))
        persona_thread = len(threads) + 1
        for kind, pk, client, worker, title, start, entered, _, _ in self.deals:
            end = now - rng.uniform(1, 3600) if pk == 1 and kind == "contract" else \
                min(now - 1, max(entered, start) + rng.uniform(0, 2) * DAY)
            threads.append((kind, pk, client, worker, title, start, max(start, end), True))
        total = self.sizes["messages"]
        if total < len(threads) + 200:
            raise LoadgenError(f"--messages must be at least {len(threads) + 200:,} (one per thread, 200 in the "
                               "persona's thread)")
        weights = [rng.paretovariate(1.5) for _ in threads]
        weights[persona_thread - 1] = 0
        rest = total - len(threads) - 199
        scale = rest / sum(weights)
        counts = [1 + min(2_000, int(w * scale)) for w in weights]
        counts[persona_thread - 1] = 200
        short = total - sum(counts)
        for i in rng.choices(range(len(threads)), weights=weights, k=short) if short > 0 else ():
            counts[i] += 1
        self.log(f"  {len(threads):,} threads, busiest {max(counts):,} messages")
        senders = array("b")  # 0 client, 1 worker, 2 system, per message (receipts are built from these)
        stamps = array("d")
        owners = array("l")
        last = []
        system_text = "【システム】取引の状態が更新されました。"

        def messages():
            mid = 0
            for tid, (kind, _, client, worker, _, start, end, system_first) in enumerate(threads, start=1):
                n = counts[tid - 1]
                times = self.timeline(start, end, n) if n > 1 else [start]
                side = 1 if kind == "application" else 0
                last_human = None
                for j, at in enumerate(times):
                    mid += 1
                    if j == 0 and system_first:
                        who = 2
                    elif j == 0:
                        who = side  # the applicant opens an application thread
                    else:
                        if rng.random() < 0.7:
                            side ^= 1
                        who = side
                    kind_m = "system" if who == 2 else "normal"
                    percent = next_date = None
                    if who == 1 and kind != "application" and rng.random() < 0.03:
                        kind_m, percent = "progress", rng.choice([20, 40, 60, 80])
                        next_date = (dt(at) + timedelta(days=3)).date()
                    body = system_text if who == 2 else rng.choice(LINES) + rng.choice(LINES)
                    if who != 2:
                        last_human = mid
                    senders.append(who)
                    stamps.append(at)
                    owners.append(tid)
                    yield (mid, tid, None if who == 2 else (client if who == 0 else worker), kind_m, body, dt(at),
                           percent, next_date, "", False, "[]")
                last.append((times[-1], last_human))

        self.copy("messaging_message", "id, thread_id, sender_id, kind, body, created_at, progress_percent, "
                  "next_date, late_item, masked, caution", messages())
        rows = []
        for tid, (kind, fk, _, _, subject, start, _, _) in enumerate(threads, start=1):
            last_at, last_human = last[tid - 1]
            rows.append((tid, kind, fk if kind == "application" else None, fk if kind == "contract" else None,
                         fk if kind == "order" else None, None, subject[:150], dt(start), dt(last_at), last_human))
        self.copy("messaging_thread", "id, kind, application_id, contract_id, order_id, job_id, subject, created_at, "
                  "last_message_at, last_human_message_id", rows)
        members = ((tid, user) for tid, t in enumerate(threads, start=1) for user in (t[2], t[3]))
        self.copy("messaging_threadmember", "thread_id, user_id", members)

        def receipts():
            for i, who in enumerate(senders):
                tid, at = owners[i], stamps[i]
                client, worker = threads[tid - 1][2], threads[tid - 1][3]
                for user in ((client, worker) if who == 2 else (worker if who == 0 else client,)):
                    age = now - at
                    if rng.random() < (0.5 if age < DAY else 0.04):
                        read = None  # not read (yet)
                    else:
                        read = dt(min(now, at + rng.expovariate(1 / (4 * 3600))))
                    yield (i + 1, user, read)

        self.copy("messaging_receipt", "message_id, user_id, read_at", receipts())
        self.persona["thread_id"] = persona_thread

    def audit_and_notifications(self) -> None:
        ContentType.objects.clear_cache()  # ids may have changed since the cache was filled (a flushed test db)
        types = {k: ContentType.objects.get_for_model(apps.get_model(*k.split("."))).pk
                 for k in ("contracts.Contract", "orders.Order")}

        def audit():
            for kind, pk, client, worker, _, _, _, events, _ in self.deals:
                subject = types["contracts.Contract" if kind == "contract" else "orders.Order"]
                for action, actor, source, target, at in events:
                    user = {C: client, W: worker}.get(actor)
                    yield subject, pk, action, user, actor, source, target, "{}", dt(at)

        self.copy("core_auditevent", "subject_type_id, subject_id, action, actor_id, actor_role, from_state, "
                  "to_state, payload, created_at", audit())
        rng = self.rng

        def notifications():
            for kind, pk, client, worker, title, _, entered, events, _ in self.deals:
                action, actor = events[-1][0], events[-1][1]
                user = worker if actor == C else client
                read = dt(min(self.now, entered + rng.uniform(60, 2 * DAY))) if rng.random() < 0.8 else None
                yield (user, f"{kind}.{action}", f"「{title}」が更新されました", "", f"/{kind}s/{pk}/",
                       f"loadgen:{kind}:{pk}:{action}", dt(entered), read, dt(entered + 60), None, "sent", None, 1, "")

        self.copy("notifications_notification", "user_id, kind, title, body, url, dedupe_key, created_at, read_at, "
                  "emailed_at, message_id, email_state, email_due_at, email_attempts, email_error", notifications())

    def reviews(self) -> None:
        """A review window for each completed deal, closed and revealed after 14 days; most sides wrote."""
        rng, now, window = self.rng, self.now, rules.REVIEW_WINDOW.total_seconds()
        windows, reviews = [], []
        for kind, pk, client, worker, _, _, entered, _, state in self.deals:
            if state not in ("accepted", "completed"):
                continue
            wid = len(windows) + 1
            closes = entered + window
            written = []
            for author, subject, role, p in ((client, worker, "client", 0.8), (worker, client, "worker", 0.7)):
                if rng.random() < p:
                    at = entered + rng.uniform(0.01, 0.9) * window
                    if at < now:
                        written.append(at)
                        stars = [max(1, min(5, round(rng.gauss(4.3, 0.8)))) for _ in range(5)]
                        reviews.append((wid, author, subject, role, *stars, rng.choice(LINES) + rng.choice(LINES),
                                        dt(at), "", None))
            revealed = max(written) if len(written) == 2 else (closes if closes <= now else None)
            due = None if revealed else dt(closes)
            reminders = sorted(closes - r.total_seconds() for r in rules.REVIEW_REMINDERS)
            remind = None if revealed else next((dt(t) for t in reminders if t > now), None)
            windows.append((wid, pk if kind == "contract" else None, pk if kind == "order" else None, client, worker,
                            dt(entered), dt(closes), dt(revealed) if revealed else None, due, remind))
        self.copy("reviews_reviewwindow", "id, contract_id, order_id, client_id, worker_id, opened_at, closes_at, "
                  "revealed_at, due_at, remind_at", windows)
        self.copy("reviews_review", "window_id, author_id, subject_id, author_role, skill, quality, schedule, "
                  "communication, partnership, comment, submitted_at, reply, replied_at", reviews)

    def ledger(self) -> None:
        """Accounts (balance = sum of postings), entries and postings. Postings go last: see the module doc."""
        balances: dict[str, int] = {}
        entry_rows, postings = [], []
        for eid, (key, ref, kind, memo, at, lines) in enumerate(self.entries, start=1):
            lines = [line for line in lines if line[1] != 0]
            entry_rows.append((eid, key, kind, memo[:255], ref, entry_hash(kind, lines), None, dt(at)))
            for code, amount in lines:
                balances[code] = balances.get(code, 0) + amount
                postings.append((eid, code, amount))
        for code, held in self.escrow.items():
            assert balances.get(code) == held, code
        codes = sorted(balances)
        ids = {code: i for i, code in enumerate(codes, start=1)}
        names = {"gateway": "決済ゲートウェイ", "revenue": "プラットフォーム手数料収入"}
        self.copy("ledger_account", "id, code, name, user_id, balance, allow_negative",
                  ((ids[c], c, names.get(c) or ("エスクロー " if c.startswith("escrow:") else "残高 ")
                    + c.split(":", 1)[-1], None, balances[c], c == "gateway") for c in codes))
        self.copy("ledger_journalentry", "id, idempotency_key, kind, memo, ref, payload_hash, reverses_id, created_at",
                  entry_rows)
        self.ledger_postings = ((entry, ids[code], amount) for entry, code, amount in postings)


def _target(flow, action: str, state: str) -> str:
    return next(t.target for t in flow.transitions if t.action == action and state in t.sources)


# --- the transaction around it ----------------------------------------------------------------------------


def _constraints(tables: list[str]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(table, name, definition) of the unique and foreign-key constraints, (name, CREATE INDEX …) of the other
    secondary indexes, of `tables`. Primary keys and checks stay."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            WHERE c.contype IN ('u', 'f') AND t.relname = ANY(%s) ORDER BY c.contype DESC, t.relname, c.conname
        """, [tables])
        constraints = cursor.fetchall()
        cursor.execute("""
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY t.relname, i.relname
        """, [tables])
        indexes = cursor.fetchall()
    return constraints, indexes


def _loaded_tables() -> list[str]:
    return ["accounts_user", "accounts_presence", "jobs_job", "jobs_application", "contracts_contract",
            "contracts_delivery", "orders_listing", "orders_order", "orders_orderdelivery", "payouts_withdrawal",
            "messaging_message", "messaging_thread", "messaging_threadmember", "messaging_receipt", "core_auditevent",
            "notifications_notification", "reviews_reviewwindow", "reviews_review", "ledger_account",
            "ledger_journalentry", "ledger_posting"]


def generate(*, sizes: dict, seed: int, reset: bool = False, log=print) -> dict:
    """Fill an empty, migrated PostgreSQL database. Returns the manifest (see `manage.py loadgen`)."""
    if connection.vendor != "postgresql":
        raise LoadgenError("loadgen needs PostgreSQL (set DATABASE_URL=postgres://…); SQLite is not supported.")
    started = time.monotonic()
    tables = _loaded_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM accounts_user)")
        if cursor.fetchone()[0]:
            if not reset:
                raise LoadgenError("the database already holds data: use an empty, migrated database or --reset "
                                   "(TRUNCATE of every application table)")
            cursor.execute(f"TRUNCATE {', '.join(app_tables())} RESTART IDENTITY CASCADE")
            log("  reset: application tables truncated")
    gen = Generator(dict(sizes), seed, log)
    with transaction.atomic():
        constraints, indexes = _constraints([t for t in tables if t != "ledger_posting"])
        with connection.cursor() as cursor:
            for table, name, _ in reversed(constraints):  # foreign keys first, then the uniques they may need
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        persona = gen.run()
        gen.ledger()
        step = time.monotonic()
        with connection.cursor() as cursor:
            for _, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in constraints:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            log(f"  indexes and constraints rebuilt in {time.monotonic() - step:.1f}s")
        gen.copy("ledger_posting", "entry_id, account_id, amount", gen.ledger_postings)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM {table}), 1), (SELECT MAX(id) FROM {table}) IS NOT NULL)"
                               if table not in ("accounts_presence",) else "SELECT 1")
        step = time.monotonic()
    log(f"  commit (deferred ledger checks) in {time.monotonic() - step:.1f}s")
    step = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    log(f"  VACUUM ANALYZE in {time.monotonic() - step:.1f}s")
    counts = gen.copied
    return {
        "seed": seed,
        "scale": None,
        "sizes": {
            "users": counts["accounts_user"], "jobs": counts["jobs_job"],
            "applications": counts["jobs_application"], "contracts": counts["contracts_contract"],
            "orders": counts["orders_order"], "messages": counts["messaging_message"],
            "ledger_entries": counts["ledger_journalentry"], "due_timers": len(gen.due_contract_ids),
            "listings": counts["orders_listing"], "threads": counts["messaging_thread"],
            "receipts": counts["messaging_receipt"], "postings": counts["ledger_posting"],
            "audit_events": counts["core_auditevent"], "notifications": counts["notifications_notification"],
            "reviews": counts["reviews_review"], "withdrawals": counts["payouts_withdrawal"],
        },
        "elapsed_seconds": round(time.monotonic() - started, 1),
        "persona": persona,
        "due_contract_ids_count": len(gen.due_contract_ids),
        "generated_at": dt(gen.now).isoformat(),
    }
