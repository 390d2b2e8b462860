"""Demo data for `make run`: a client company, two workers, an operator, open jobs with applications and
messages, one contract in each state of the contract flow, service listings with options and hearing sheets,
and the client's orders in each state of the order flow — with the deal tools of issue 3 in use: a pending
納期変更, progress reports, a delay notice, an acknowledgement, a 返信催促, a pending 契約途中終了リクエスト,
a pending キャンセル申請, a test task whose clock is stopped by a blocker question (seed 000) and a scout.

Everything is built through the real services, so the ledger, audit log, threads and notifications are
exactly what the product would have written. Each deal is played out on a private, backdated clock (the
same offset mechanism as `timetravel`, pointed at a temporary file, so the shared demo clock is never
touched): timelines read "3日前に納品" and timers are armed where a real deal would have them. The lapsed
offer and the order nobody answered for 48 hours are settled by the same code path that `tick` uses.

Idempotent: users are found by e-mail, deals by job title, listings (and the orders played with them) by
seller and title, scouts by job and worker; what exists is left alone.
"""

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from anshin.accounts.models import User
from anshin.accounts.presence import presence_touch
from anshin.contracts import services as contracts
from anshin.core import clock
from anshin.deals.services import date_change_propose
from anshin.jobs import services as jobs
from anshin.jobs.models import Job, Scout
from anshin.messaging.services import (
    message_acknowledge,
    message_send,
    message_send_delay,
    message_send_progress,
    thread_mark_read,
    thread_nudge,
)
from anshin.orders import services as orders
from anshin.orders.models import Listing

PASSWORD = "anshin-demo-2026"
URL = "http://127.0.0.1:8000/"

USERS = {
    "client": dict(
        email="client@anshin.example", display_name="株式会社さくらメディア", role="発注者",
        bio="東京・渋谷のWeb制作会社です。記事制作・デザイン・システム開発を継続してお願いできる方を探しています。"
            "仮払いは契約後すぐに行います。",
    ),
    "hanako": dict(
        email="hanako@anshin.example", display_name="山田花子", role="受注者",
        bio="美容・医療分野を中心にSEO記事を5年執筆しています。英日・日英翻訳も対応可能です。"
            "平日10時〜19時はすぐにお返事します。",
        skills="SEOライティング, WordPress, 英日翻訳, 取材記事",
    ),
    "ken": dict(
        email="ken@anshin.example", display_name="佐藤健", role="受注者",
        bio="Python/Djangoでの業務システム開発と、ロゴ・バナーなどのデザインを請け負っています。",
        skills="Python, Django, Illustrator, Figma",
    ),
    "ops": dict(email="ops@anshin.example", display_name="安心事務局", role="事務局", is_staff=True),
}


@dataclass
class JobSpec:
    title: str
    category: str
    description: str
    budget_max: int
    budget_min: int | None = None
    skills: str = ""
    days_ago: float = 1  # when it was posted


OPEN_JOBS = [
    JobSpec("【長期歓迎】美容クリニックのSEO記事作成（1記事3,000字）", "writing",
            "美容クリニックのオウンドメディアに掲載するSEO記事を作成していただきます。\n"
            "・1記事3,000字前後、月4本〜\n・キーワードと構成案はこちらで用意します\n"
            "・医療広告ガイドラインを理解している方歓迎\n継続してお願いできる方を優先します。",
            budget_min=12_000, budget_max=15_000, skills="SEOライティング, WordPress", days_ago=4),
    JobSpec("新規オープンのカフェのロゴデザイン", "design",
            "来春、鎌倉にオープンするカフェのロゴを制作してください。\n"
            "・ナチュラルで温かみのある雰囲気\n・看板、カップ、ショップカードに使用します\n"
            "・初回3案のご提案、修正2回まで", budget_max=50_000, skills="Illustrator, ロゴ", days_ago=3),
    JobSpec("予約管理システム（Django）の機能追加", "development",
            "既存の予約管理システム（Django 4.2 / PostgreSQL）に以下の機能を追加していただきます。\n"
            "・キャンセル待ち登録と自動通知\n・管理画面からのCSV出力\nテストコードの作成までお願いします。",
            budget_min=300_000, budget_max=500_000, skills="Python, Django, PostgreSQL", days_ago=2),
    JobSpec("観光パンフレットの英訳（A4・8ページ）", "translation",
            "温泉地の観光パンフレット（日本語・約6,000字）を英語に翻訳してください。"
            "ネイティブチェック込みでお願いできる方を歓迎します。", budget_max=60_000, skills="日英翻訳",
            days_ago=1.5),
    JobSpec("YouTube動画の編集（10分×4本）", "video",
            "料理チャンネルの動画編集をお願いします。カット、テロップ、BGM挿入、サムネイル作成まで。"
            "素材はGoogleドライブで共有します。", budget_min=30_000, budget_max=40_000,
            skills="Premiere Pro, テロップ", days_ago=1),
    JobSpec("ECサイトの商品データ入力（300件）", "data",
            "Excelの商品情報（商品名・価格・説明文）を管理画面に入力していただく作業です。"
            "マニュアルがあるので初心者の方も歓迎です。", budget_max=15_000, days_ago=0.5),
    JobSpec("Instagram運用代行（投稿作成・月12本）", "marketing",
            "アパレルブランドのInstagramで、月12本の投稿画像とキャプションを作成してください。"
            "ハッシュタグ選定と月次の簡単なレポートもお願いします。", budget_max=80_000,
            skills="Instagram, Canva", days_ago=0.2),
]


@dataclass
class Deal:
    """A job that became a contract; `steps` are (days ago, who, action, text) played in order."""

    state: str  # the contract state the deal ends in
    worker: str
    job: JobSpec
    amount: int
    steps: list[tuple[float, str, str, str]] = field(default_factory=list)


DEALS = [
    Deal("offered", "hanako", JobSpec("会社案内パンフレットの文章リライト", "writing",
         "会社案内（A4・12ページ）の文章を、読みやすく親しみのある表現にリライトしてください。",
         budget_max=40_000, days_ago=3), 40_000, [
        (2.5, "hanako", "apply", "会社案内のリライト経験が10件以上あります。ぜひお手伝いさせてください。"),
        (1, "client", "offer", ""),
        (1, "client", "say", "ぜひ山田さんにお願いしたいです。ご確認をお願いいたします。"),
    ]),
    Deal("awaiting_funding", "ken", JobSpec("採用サイトのバナー制作（3サイズ）", "design",
         "採用サイト用のバナーを3サイズ（1200×628、1080×1080、320×100）で制作してください。",
         budget_max=30_000, days_ago=5), 30_000, [
        (4, "ken", "apply", "Figmaで制作し、修正は2回まで対応いたします。"),
        (3, "client", "offer", ""),
        (2, "ken", "accept_offer", ""),
        (2, "ken", "say", "オファーを承諾しました。仮払いのご対応をお願いいたします。確認後に作業を始めます。"),
    ]),
    Deal("funded", "ken", JobSpec("社内勤怠管理ツールのCSV出力機能追加", "development",
         "Djangoで作られた社内の勤怠管理ツールに、月次の勤怠データをCSVで出力する機能を追加してください。",
         budget_max=200_000, budget_min=150_000, skills="Python, Django", days_ago=10), 180_000, [
        (9, "ken", "apply", "類似の帳票出力を多数実装しています。テストコードも含めて対応します。"),
        (8, "client", "offer", ""),
        (7.5, "ken", "accept_offer", ""),
        (7, "client", "fund", ""),
        (6.5, "ken", "say", "仮払いを確認しました。本日から作業を開始します。来週水曜に途中経過をご報告します。"),
        (6, "client", "read", ""),
    ]),
    Deal("delivered", "hanako", JobSpec("美容院のブログ記事作成（5本）", "writing",
         "表参道の美容院のブログ記事を5本（各2,000字）作成してください。テーマはヘアケアとトレンド。",
         budget_max=25_000, skills="SEOライティング", days_ago=9), 25_000, [
        (8, "hanako", "apply", "美容院のブログ記事を多数担当してきました。よろしくお願いいたします。"),
        (7, "client", "offer", ""),
        (6.5, "hanako", "accept_offer", ""),
        (6, "client", "fund", ""),
        (2, "hanako", "deliver", "5本すべて納品いたします。ご確認をお願いいたします。"),
    ]),
    Deal("revision_requested", "hanako", JobSpec("商品紹介ページの英語翻訳", "translation",
         "自社ECサイトの商品紹介ページ（約8,000字）を英語に翻訳してください。",
         budget_max=60_000, skills="日英翻訳", days_ago=12), 60_000, [
        (11, "hanako", "apply", "日英翻訳の実績が多数あります。専門用語の用語集も作成します。"),
        (10, "client", "offer", ""),
        (9.8, "hanako", "accept_offer", ""),
        (9.5, "client", "fund", ""),
        (3, "hanako", "deliver", "翻訳が完了しました。用語集も添付のリンクにまとめています。"),
        (1, "client", "request_revision", "商品名はすべて英語表記（例: Sakura Tea）に統一してください。"),
    ]),
    Deal("accepted", "ken", JobSpec("コーポレートサイトのロゴ・名刺デザイン", "design",
         "リブランディングに伴い、ロゴと名刺のデザインをお願いします。", budget_max=120_000,
         skills="Illustrator, ロゴ", days_ago=30), 120_000, [
        (29, "ken", "apply", "ロゴ制作の実績は50件以上です。ヒアリングから丁寧に進めます。"),
        (28, "client", "offer", ""),
        (27.5, "ken", "accept_offer", ""),
        (27, "client", "fund", ""),
        (20, "ken", "deliver", "ロゴ3案と名刺デザインを納品します。"),
        (19, "client", "request_revision", "B案をベースに、色をもう少し明るくしてください。"),
        (17, "ken", "deliver", "色味を調整したB案を再納品します。"),
        (16, "client", "accept", ""),
        (16, "client", "say", "素敵なロゴをありがとうございました。またぜひお願いします。"),
    ]),
    Deal("lapsed", "ken", JobSpec("飲食店メニューの多言語化（英・中・韓）", "translation",
         "居酒屋のメニュー（約80品）を英語・中国語（簡体字）・韓国語に翻訳してください。",
         budget_max=80_000, days_ago=15), 80_000, [
        (14, "ken", "apply", "英語と韓国語はネイティブチェック込みで対応できます。"),
        (10, "client", "offer", ""),
        (2.9, "system", "settle", ""),  # just after the 7-day window: the path `tick` takes
    ]),
    Deal("cancelled", "hanako", JobSpec("ウェビナー告知動画の編集", "video",
         "60秒のウェビナー告知動画を編集してください（素材支給、テロップ・BGMあり）。",
         budget_max=35_000, days_ago=6), 35_000, [
        (5, "hanako", "apply", "短尺動画の編集も対応しております。"),
        (4, "client", "offer", ""),
        (3.5, "hanako", "say", "大変申し訳ありません。スケジュールの都合で今回はお受けできなくなりました。"),
        (3.5, "hanako", "decline_offer", ""),
    ]),
    Deal("terminated", "ken", JobSpec("ECサイトの商品撮影（30点）", "design",
         "ECサイト用の商品写真30点の撮影と簡単なレタッチをお願いします。", budget_max=50_000, days_ago=14), 50_000, [
        (13, "ken", "apply", "商品撮影の機材一式を持っています。白背景の撮影が得意です。"),
        (12, "client", "offer", ""),
        (11.5, "ken", "accept_offer", ""),
        (11, "client", "fund", ""),
        (6, "client", "say", "申し訳ありません、商品ラインナップの見直しで撮影が不要になりました。"),
        (5.5, "client", "terminate_request", "0:撮影が不要になったため、全額返金で途中終了とさせてください。"),
        (5, "ken", "agree", ""),
    ]),
    Deal("disputed", "hanako", JobSpec("採用パンフレットのインタビュー記事（3本）", "writing",
         "社員インタビュー記事を3本（各3,000字）作成してください。取材はオンラインで行います。",
         budget_max=45_000, days_ago=12), 45_000, [
        (11, "hanako", "apply", "インタビュー記事の執筆実績が多数あります。"),
        (10, "client", "offer", ""),
        (9.5, "hanako", "accept_offer", ""),
        (9, "client", "fund", ""),
        (3, "client", "terminate_request", "0:取材の日程が組めなくなったため、全額返金で終了させてください。"),
        (2.5, "hanako", "refuse", ""),
        (2, "hanako", "open_dispute", "2本は執筆済みです。作業分のお支払いについて相談させてください。"),
    ]),
]

APPLY_TEXT = "はじめまして。ご依頼内容を拝見し、ぜひお手伝いしたく応募いたしました。丁寧かつ迅速な対応を心がけます。"

# Applications on the open jobs (job index, worker, days ago, action after applying, conversation).
APPLICATIONS = [
    (0, "hanako", 3, "", [
        (2.8, "client", "ご応募ありがとうございます。医療系の記事の執筆実績を拝見できますか？"),
        (2.7, "hanako", "ありがとうございます。ポートフォリオをお送りします。"
                        "https://example.com/hanako/portfolio をご覧ください。"),
    ]),
    (2, "ken", 1.5, "shortlist", [
        (1.2, "client", "ご提案ありがとうございます。既存コードのテストはありませんが、対応可能でしょうか？"),
    ]),
    (1, "ken", 2, "decline", []),
    (5, "hanako", 0.3, "", []),
]

# Last access shown on profiles (days ago): the client was last seen about 23 hours ago (seed 000).
LAST_ACCESS = {"client": 23 / 24, "hanako": 0.02, "ken": 0.1}


@contextmanager
def as_of(days_ago: float):
    """Run the block with clock.now() `days_ago` in the past, on a private offset file."""
    base = clock.offset()  # keep the demo clock's own shift, if `timetravel` was used
    with tempfile.TemporaryDirectory() as tmp, override_settings(
        ANSHIN_ALLOW_TIME_TRAVEL=True, ANSHIN_CLOCK_FILE=Path(tmp) / "clock_offset"
    ):
        clock.reset()
        clock.travel(base - timedelta(days=days_ago))
        try:
            yield
        finally:
            clock.reset()


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        self.new_users = set()
        self.users = {key: self._user(key, **spec) for key, spec in USERS.items()}
        created = 0
        for index, spec in enumerate(OPEN_JOBS):
            with transaction.atomic():
                job, new = self._job(spec)
                if new:
                    for job_index, worker, days_ago, action, talk in APPLICATIONS:
                        if job_index == index:
                            self._application(job, worker, days_ago, action, talk)
            created += new
        for deal in DEALS:
            if not Job.objects.filter(client=self.users["client"], title=deal.job.title).exists():
                with transaction.atomic():
                    self._deal(deal)
                created += 1
        for key, days_ago in LAST_ACCESS.items():
            if key in self.new_users:
                with as_of(days_ago):
                    presence_touch(self.users[key])
        self.stdout.write(
            f"demo data: {created} job(s) created" if created else "demo data: already loaded, nothing changed"
        )
        self._print_logins()

    # --- building blocks --------------------------------------------------------------------------------

    def _user(self, key: str, *, email, display_name, role, bio="", skills="", is_staff=False) -> User:
        user = User.objects.filter(email=email).first()
        if user:
            return user
        from allauth.account.models import EmailAddress

        user = User.objects.create_user(email=email, password=PASSWORD, display_name=display_name, bio=bio,
                                        skills=skills, is_staff=is_staff)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        self.new_users.add(key)
        return user

    def _job(self, spec: JobSpec) -> tuple[Job, bool]:
        client = self.users["client"]
        job = Job.objects.filter(client=client, title=spec.title).first()
        if job:
            return job, False
        with as_of(spec.days_ago):
            today = clock.now().date()
            job = jobs.job_create(
                user=client, title=spec.title, description=spec.description, category=spec.category,
                skills=spec.skills, budget_min=spec.budget_min, budget_max=spec.budget_max,
                application_deadline=today + timedelta(days=21), delivery_date=today + timedelta(days=45),
            )
        return job, True

    def _apply(self, job: Job, worker: str, text: str, amount: int):
        return jobs.application_create(job_id=job.pk, user=self.users[worker], message=text, amount=amount,
                                       estimated_date=clock.now().date() + timedelta(days=20))

    def _say(self, thread, who: str, text: str) -> None:
        message_send(thread=thread, sender=self.users[who], body=text)

    def _application(self, job: Job, worker: str, days_ago: float, action: str, talk) -> None:
        with transaction.atomic():
            with as_of(days_ago):
                application = self._apply(job, worker, APPLY_TEXT, job.budget_max)
            for ago, who, text in talk:
                with as_of(ago):
                    thread_mark_read(thread=application.thread, user=self.users[who])
                    self._say(application.thread, who, text)
            if action:
                with as_of(max(days_ago - 0.5, 0.1)):
                    jobs.application_transition(application_id=application.pk, user=self.users["client"],
                                                action=action, reason="budget" if action == "decline" else "")

    def _deal(self, deal: Deal) -> None:
        client = self.users["client"]
        job, _ = self._job(deal.job)
        application = contract = None
        for days_ago, who, action, text in deal.steps:
            with as_of(days_ago):
                user = self.users.get(who)
                if action == "apply":
                    application = self._apply(job, who, text, deal.amount)
                elif action == "offer":
                    contract = contracts.contract_offer(
                        application_id=application.pk, user=client, amount=deal.amount,
                        delivery_date=clock.now().date() + timedelta(days=14), title=job.title,
                    )
                    jobs.job_transition(job_id=job.pk, user=client, action="close")
                elif action == "say":
                    self._say(contract.thread, who, text)
                elif action == "read":
                    thread_mark_read(thread=contract.thread, user=user)
                elif action == "fund":
                    contracts.contract_fund(contract_id=contract.pk, user=user)
                elif action == "deliver":
                    contracts.contract_deliver(contract_id=contract.pk, user=user, body=text,
                                               links="https://example.com/deliverables/demo")
                elif action == "request_revision":
                    contracts.contract_request_revision(contract_id=contract.pk, user=user, reason=text)
                elif action == "settle":
                    contracts.contract_settle_due(contract.pk)
                elif action == "terminate_request":
                    worker_amount, reason = text.split(":", 1)
                    contracts.termination_request_create(contract_id=contract.pk, user=user,
                                                         worker_amount=int(worker_amount), reason=reason)
                elif action in ("agree", "refuse"):
                    pending = contract.termination_requests.get(state="pending")
                    contracts.termination_answer(request_id=pending.pk, user=user, action=action)
                elif action == "open_dispute":
                    contracts.contract_open_dispute(contract_id=contract.pk, user=user, reason=text)
                else:
                    contracts.contract_simple_action(contract_id=contract.pk, user=user, action=action)
        contract.refresh_from_db()
        if contract.state != deal.state:
            raise CommandError(f"demo deal {deal.job.title!r} ended in {contract.state}, not {deal.state}")

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Anshin: {URL}")
        self.stdout.write(f"デモ用ログイン（パスワードは全員 {PASSWORD}）:")
        for spec in USERS.values():
            self.stdout.write(f"  {spec['email']:<24} {spec['role']}  {spec['display_name']}")
