"""Demo data for `make run`: a client company, two workers, an operator, open jobs with applications and
messages, one contract in each state of the contract flow, service listings with options and hearing sheets,
and the client's orders in each state of the order flow — with the deal tools of issue 3 in use: a pending
納期変更, progress reports, a delay notice, an acknowledgement, a 返信催促, a pending 契約途中終了リクエスト,
a pending キャンセル申請, a test task whose clock is stopped by a blocker question (seed 000) and a scout.

Everything is built through the real services, so the ledger, audit log, threads and notifications are
exactly what the product would have written. Each step is played on a private, backdated clock (see
`as_of`: `clock.now()` stands still at the step's moment; the shared demo clock file is never touched):
timelines read "3日前に納品" and timers are armed where a real deal would have them. Reminders that fell
due, the lapsed offer and the order nobody answered for 48 hours are settled by the same code paths that
`tick` uses, at the moment `tick` would have run them.

Idempotent: users are found by e-mail, deals by job title, listings (and the orders played with them) by
seller and title, scouts by job and worker; what exists is left alone.
"""

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from anshin.accounts.models import User
from anshin.accounts.presence import presence_touch
from anshin.contracts import services as contracts
from anshin.core import clock
from anshin.deals.services import date_change_propose
from anshin.jobs import services as jobs
from anshin.jobs.models import Job, Scout
from anshin.messaging.models import Thread
from anshin.messaging.services import (
    message_acknowledge,
    message_send,
    message_send_delay,
    message_send_progress,
    thread_mark_read,
    thread_nudge,
)
from anshin.ops.permissions import grant_operator
from anshin.orders import services as orders
from anshin.orders.models import Listing
from anshin.payouts.models import Withdrawal
from anshin.payouts.services import bank_account_save, withdrawal_request
from anshin.reviews.models import Review, ReviewWindow
from anshin.reviews.services import review_reply, review_submit
from anshin.trust.models import ContactPermit
from anshin.trust.permits import ContactHeld, permit_decide, permit_request
from anshin.trust.reports import report_create

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
    "quick": dict(
        email="quick@anshin.example", display_name="合同会社クイックワークス", role="発注者（不審な勧誘の例）",
        bio="急ぎの案件を多数ご依頼しています。",
    ),
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
    JobSpec("ブログ記事への写真挿入（画像選定テストあり）", "writing",
            "公開済みのブログ記事に、内容に合う写真を選んで挿入していただく作業です（月20記事程度）。\n"
            "・写真は指定の素材サイトから選定します\n・書類審査のあと、画像選定のテスト（3日以内）があります\n"
            "継続してお願いできる方を歓迎します。", budget_min=10_000, budget_max=20_000,
            skills="WordPress, 画像選定", days_ago=6),
]


# A step of a deal or an order: (days ago, who, action, text) or (days ago, who, action, text, {arguments}),
# played in order on the backdated clock. "system" steps are what `tick` would have done at that moment.
Step = tuple


@dataclass
class Deal:
    """A job that became a contract, played step by step."""

    state: str  # the contract state the deal ends in
    worker: str
    job: JobSpec
    amount: int
    steps: list[Step] = field(default_factory=list)


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
        (4, "ken", "progress", "CSV出力の基本機能を実装しました。次回は月次集計を含めた画面で"
                               "プレビューをお送りします。", {"percent": 40, "next_in_days": 5}),
        (3.8, "client", "read", ""),
        (1.5, "ken", "delay", "日付をまたぐ勤務の打刻が想定より多く、月次集計の処理を見直す必要があるためです。",
         {"late_item": "納品（CSV出力機能一式）", "days_after_delivery_date": 7}),
        (1.4, "ken", "date_change", "日付をまたぐ勤務の集計に対応するため、納期を1週間延長させてください。"
         "テストコードも含めて仕上げます。", {"days_after_delivery_date": 7}),
    ]),
    Deal("delivered", "hanako", JobSpec("美容院のブログ記事作成（5本）", "writing",
         "表参道の美容院のブログ記事を5本（各2,000字）作成してください。テーマはヘアケアとトレンド。",
         budget_max=25_000, skills="SEOライティング", days_ago=9), 25_000, [
        (8, "hanako", "apply", "美容院のブログ記事を多数担当してきました。よろしくお願いいたします。"),
        (7, "client", "offer", ""),
        (6.5, "hanako", "accept_offer", ""),
        (6, "client", "fund", ""),
        (2, "hanako", "deliver", "5本すべて納品いたします。ご確認をお願いいたします。"),
        (2, "hanako", "say", "5本とも納品しました。構成や表現のご要望があれば、遠慮なくお知らせください。"),
        (1.5, "client", "read", ""),
        (1.5, "client", "ack", "", {"reply_in_days": 3}),
    ]),
    Deal("revision_requested", "hanako", JobSpec("商品紹介ページの英語翻訳", "translation",
         "自社ECサイトの商品紹介ページ（約8,000字）を英語に翻訳してください。",
         budget_max=60_000, skills="日英翻訳", days_ago=12), 60_000, [
        (11, "hanako", "apply", "日英翻訳の実績が多数あります。専門用語の用語集も作成します。"),
        (10, "client", "offer", ""),
        (9.8, "hanako", "accept_offer", ""),
        (9.5, "client", "fund", ""),
        (3, "hanako", "deliver", "翻訳が完了しました。用語集も添付のリンクにまとめています。"),
        (2, "client", "request_revision", "商品名はすべて英語表記（例: Sakura Tea）に統一してください。"),
        (2, "client", "say", "修正版はいつ頃いただけそうでしょうか？来週の公開に間に合わせたいので、目安だけでも"
                             "教えてください。"),
        (0.5, "client", "nudge", ""),  # more than 24 h without an answer: 返信催促
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
    Deal("funded", "hanako", JobSpec("オウンドメディアの記事リライト（10本）", "writing",
         "公開済みの記事10本（各約3,000字）を、最新の情報に合わせてリライトしてください。",
         budget_max=50_000, skills="SEOライティング", days_ago=12), 50_000, [
        (11, "hanako", "apply", "リライトの実績が多数あります。検索順位の改善を意識して仕上げます。"),
        (10, "client", "offer", ""),
        (9.5, "hanako", "accept_offer", ""),
        (9, "client", "fund", ""),
        (8.5, "hanako", "say", "仮払いを確認しました。1週間に3本ずつのペースで進めます。"),
        (3, "client", "say", "申し訳ありません、サイトリニューアルの方針が変わり、残りの記事は不要になりそうです。"),
        # pending: 山田花子 has 7 days to agree or refuse (silence = agreement)
        (2, "client", "terminate_request", "15000:サイトの方針変更のため、途中終了させてください。リライト済みの"
                                           "3本分として¥15,000をお支払いし、残りは返金でお願いできますでしょうか。"),
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
    (7, "hanako", 5, "", [
        (2, "client", "ご応募ありがとうございます。書類審査を行いますので、プロフィールシートにご記入のうえ"
                      "お送りください。"),
        (1.9, "hanako", "ありがとうございます。プロフィールシートに記入して送信しました。よろしくお願いいたします。"),
    ]),
]


@dataclass
class TestTaskSpec:
    """Seed 000: the test task arrives with materials that are not there; the worker asks 10 hours later and
    the clock stops; the client has not answered since (their last access is 23 hours ago)."""

    job: int  # index in OPEN_JOBS; the worker's application on it gets the task
    worker: str
    shortlisted: timedelta  # ago: 書類審査合格
    sent: timedelta  # ago
    duration: timedelta
    blocked_after: timedelta  # after `sent`
    instructions: str
    links: str
    question: str


TEST_TASK = TestTaskSpec(
    job=7, worker="hanako", shortlisted=timedelta(hours=32), sent=timedelta(hours=31), duration=timedelta(days=3),
    blocked_after=timedelta(hours=10),
    instructions="書類審査の結果、テストにお進みいただくことになりました。\n"
                 "指定のシートに記載した3本の記事それぞれに合う写真を、素材サイトから2枚ずつ選んでください。"
                 "選んだ写真のURLをシートに記入して提出してください。",
    links="https://example.com/sakura-media/test/image-selection-sheet",
    question="資料が見つかりません。「指定のシート」のリンクを開くと「ファイルが存在しません」と表示されます。"
             "正しいシートを共有していただけますでしょうか。",
)

# Scouts by the client: (job index, worker, days ago, message).
SCOUTS = [
    (6, "ken", 0.1, "佐藤さんのプロフィールでFigmaでのバナー制作の実績を拝見しました。Instagramの投稿画像の"
                    "制作をお願いできないかと思い、ご連絡しました。ご興味があればぜひご応募ください。"),
]


@dataclass
class OrderSpec:
    """An order of the client company on a listing, played step by step (the first step is "buy")."""

    state: str  # the order state it ends in
    options: tuple[str, ...] = ()  # option titles bought
    answers: tuple[Any, ...] = ()  # the hearing sheet, question by question ("" / [] leaves an optional one blank)
    steps: list[Step] = field(default_factory=list)


@dataclass
class ListingSpec:
    seller: str
    title: str
    category: str
    description: str
    price: int
    delivery_days: int
    included_revisions: int
    days_ago: float
    options: list[dict] = field(default_factory=list)
    questions: list[dict] = field(default_factory=list)
    paused_days_ago: float | None = None
    orders: list[OrderSpec] = field(default_factory=list)


SEO_ANSWERS = ("テーマ: 美容クリニックの医療脱毛\nキーワード: 医療脱毛 痛み 回数", "です・ます調",
               ["比較表", "よくある質問（FAQ）"], "")
LOGO_ANSWERS = ("さくらマガジン（Sakura Magazine）", "ナチュラル・やさしい", ["Webサイト", "SNS"],
                "桜色と白を基調にしたいです。")

LISTINGS = [
    ListingSpec(
        "hanako", "SEO記事を1本作成します（3,000字）", "writing",
        "美容・医療分野を中心に5年間SEO記事を書いてきたライターが、検索意図を押さえた記事を1本（3,000字前後）"
        "作成します。\n・キーワードに沿った見出し構成\n・医療広告ガイドラインに配慮した表現\n・コピペチェック済み"
        "\n構成案からお任せいただくことも可能です（オプション）。",
        price=15_000, delivery_days=5, included_revisions=1, days_ago=30,
        options=[
            {"title": "キーワード選定・構成案の作成", "price": 5_000, "extra_days": 2},
            {"title": "WordPressへの入稿", "price": 3_000, "extra_days": 0},
            {"title": "アイキャッチ画像の選定", "price": 2_000, "extra_days": 0},
        ],
        questions=[
            {"kind": "text", "text": "記事のテーマと、上位表示を狙いたいキーワードを教えてください",
             "example": "テーマ: 敏感肌向けのスキンケア／キーワード: 敏感肌 化粧水 選び方", "required": True},
            {"kind": "single", "text": "文体をお選びください", "choices": ["です・ます調", "だ・である調"],
             "example": "です・ます調", "required": True},
            {"kind": "multiple", "text": "記事に入れたい要素を選んでください（複数選択可）",
             "choices": ["比較表", "まとめ", "よくある質問（FAQ）", "専門家のコメント枠"],
             "example": "比較表、よくある質問（FAQ）", "required": False},
            {"kind": "text", "text": "参考にしたい記事や競合サイトのURLがあれば教えてください",
             "example": "https://example.com/column/skincare", "required": False},
        ],
        orders=[
            OrderSpec("completed", ("キーワード選定・構成案の作成",), SEO_ANSWERS, [
                (18, "client", "buy", ""),
                (17.9, "hanako", "say", "ご購入ありがとうございます。ヒアリングシートを拝見しました。"
                                        "構成案から進めさせていただきます。"),
                (17.8, "hanako", "accept", ""),
                (12, "hanako", "deliver", "構成案と記事本文（3,200字）を納品いたします。ご確認をお願いいたします。"),
                (11.5, "client", "request_revision", "施術回数の目安を、クリニック公式サイトの表現（5〜8回）に"
                                                     "合わせてください。"),
                (10.5, "hanako", "deliver", "ご指摘の箇所を修正して再納品いたします。"),
                (10, "client", "approve", ""),
                (10, "client", "say", "丁寧にご対応いただきありがとうございました。また依頼させてください。"),
            ]),
            OrderSpec("delivered", ("WordPressへの入稿",), (
                "テーマ: 敏感肌向けのスキンケア\nキーワード: 敏感肌 化粧水 選び方", "です・ます調", ["まとめ"],
                "https://example.com/column/skincare"), [
                (6, "client", "buy", ""),
                (5.8, "hanako", "accept", ""),
                (5.8, "hanako", "say", "ご依頼ありがとうございます。5日後のお届けを目安に進めます。"),
                (1, "hanako", "deliver", "記事本文（3,100字）を納品し、WordPressに下書きとして入稿しました。"
                                         "ご確認をお願いいたします。"),  # 72 h to approve: auto-approval in 2 days
            ]),
            OrderSpec("in_progress", ("キーワード選定・構成案の作成", "WordPressへの入稿"), (
                "テーマ: 医療ハイフの効果とダウンタイム\nキーワード: ハイフ 効果 いつから", "です・ます調",
                ["比較表", "専門家のコメント枠"], ""), [
                (3, "client", "buy", ""),
                (2.9, "hanako", "accept", ""),
                (0.6, "hanako", "progress", "構成案が確定し、本文の執筆に入りました。明日、前半部分をお見せします。",
                 {"percent": 60, "next_in_days": 1}),
            ]),
            OrderSpec("in_progress", (), (
                "テーマ: 冬の乾燥肌対策\nキーワード: 乾燥肌 対策 冬", "だ・である調", [], ""), [
                (1.6, "client", "buy", ""),
                (1.5, "hanako", "accept", ""),
                (1.5, "hanako", "say", "ご依頼ありがとうございます。明日から執筆に入ります。"),
                # pending: 山田花子 has 24 hours to agree or refuse (silence = cancelled, full refund)
                (0.25, "client", "cancel_request", "社内で記事の企画そのものが中止になってしまいました。"
                                                   "執筆前でしたら、キャンセルさせていただけないでしょうか。",
                 {"reason": "other"}),
            ]),
            OrderSpec("purchased", ("アイキャッチ画像の選定",), (
                "テーマ: 美容クリニックの選び方\nキーワード: 美容クリニック 選び方", "です・ます調", [], ""), [
                (0.4, "client", "buy", ""),  # the 48 h for a first word run until tomorrow
            ]),
        ],
    ),
    ListingSpec(
        "ken", "ロゴを3案ご提案します", "design",
        "会社・お店・サービスのロゴを、ヒアリングをもとに3案ご提案します。\n"
        "・選んでいただいた1案を修正2回まで調整\n・納品形式: PNG（透過）・JPG\n"
        "名刺デザインや使用ガイドラインもオプションで承ります。",
        price=30_000, delivery_days=7, included_revisions=2, days_ago=25,
        options=[
            {"title": "名刺デザイン（両面）", "price": 10_000, "extra_days": 3},
            {"title": "ロゴの使用ガイドライン", "price": 8_000, "extra_days": 2},
            {"title": "AI・SVGデータでの納品", "price": 3_000, "extra_days": 0},
        ],
        questions=[
            {"kind": "text", "text": "ロゴに入れる名前（会社名・店名）を教えてください",
             "example": "Cafe Komorebi（カフェ こもれび）", "required": True},
            {"kind": "single", "text": "ご希望のテイストを1つお選びください",
             "choices": ["ナチュラル・やさしい", "シンプル・モダン", "高級感・エレガント", "ポップ・かわいい"],
             "example": "ナチュラル・やさしい", "required": True},
            {"kind": "multiple", "text": "ロゴを使う場所を選んでください（複数選択可）",
             "choices": ["Webサイト", "名刺", "看板", "SNS", "商品パッケージ"], "example": "Webサイト、名刺、SNS",
             "required": True},
            {"kind": "text", "text": "使いたい色・避けたい色など、イメージがあれば教えてください",
             "example": "緑と茶色を使いたいです。赤は避けてください。", "required": False},
        ],
        orders=[
            # Seed 002: the seller never answers, the 48 h rule cancels and refunds, the buyer buys again.
            OrderSpec("cancelled", ("名刺デザイン（両面）",), LOGO_ANSWERS, [
                (3, "client", "buy", ""),
                (2.9, "client", "say", "はじめまして。Webマガジン「さくらマガジン」のロゴをお願いしたく購入しました。"
                                       "よろしくお願いいたします。"),
                (2, "system", "remind", ""),  # 24 h left
                (1.25, "system", "remind", ""),  # 6 h left
                (0.99, "system", "settle", ""),  # just after the 48 h: the path `tick` takes
                (0.95, "ken", "say", "ご連絡に気づかず、大変申し訳ありませんでした。もしチャンスをいただけるので"
                                     "あれば、ぜひもう一度担当させてください。"),
            ]),
            OrderSpec("responded", ("名刺デザイン（両面）",), LOGO_ANSWERS, [
                (0.9, "client", "buy", ""),  # the buyer buys the same service again
                (0.5, "ken", "say", "再度のご購入ありがとうございます。ヒアリングシートを拝見しました。"
                                    "ご希望の納期はありますか？確認でき次第、承諾いたします。"),
            ]),
            # A delivery that ignores the hearing sheet: the buyer asks 事務局 to step in; the 72 h stop (issue 4).
            OrderSpec("disputed", (), LOGO_ANSWERS, [
                (8, "client", "buy", ""),
                (7.9, "ken", "accept", ""),
                (2, "ken", "deliver", "ロゴ案を3点納品いたします。ご確認ください。"),
                (1.5, "client", "say", "ヒアリングシートでお伝えした色と違うようです。ご確認いただけますか。"),
                (0.5, "client", "open_dispute", "ヒアリングシートで「緑と茶色、赤は避けたい」とお伝えしましたが、"
                                                "赤を基調としたデザインが納品され、ご連絡にもお返事がありません。"),
            ]),
        ],
    ),
    ListingSpec(
        "ken", "Djangoアプリの不具合を1件修正します", "development",
        "Djangoで作られたWebアプリの不具合を1件調査・修正します。修正内容の説明とテストコードを添えて納品します。",
        price=20_000, delivery_days=3, included_revisions=1, days_ago=40, paused_days_ago=2,
        questions=[
            {"kind": "text", "text": "不具合の内容と、再現する手順を教えてください",
             "example": "管理画面でCSVを出力すると500エラーになります（Django 4.2）", "required": True},
        ],
    ),
]

# Last access shown on profiles (days ago): the client was last seen about 23 hours ago (seed 000).
LAST_ACCESS = {"client": 23 / 24, "hanako": 0.02, "ken": 0.1}


# Trust and safety (seed 003), played after the deals: a permit waiting for 事務局, one approved, and a client who
# pushes off-platform work before escrow (a scam caution, three held messages → a flag, a report).
PERMIT_PENDING = ("client", "hanako", "chatwork", 1,
                  "週次の進行確認を、当社の他の外部ライターと同じChatworkグループで行いたいため。")
PERMIT_APPROVED = ("client", "ken", "zoom", 3, "仕様のすり合わせを画面共有しながら30分ほど行いたいため。",
                   "既存の取引実績あり。画面共有での打ち合わせのみ。承認。")
QUICK_JOB = JobSpec("【急募】商品紹介記事の作成（10本）", "writing", "ECサイトの商品紹介記事をお願いします。", 50_000,
                    days_ago=2)
QUICK_SCOUT = "佐藤様、ぜひお願いしたい案件があります。"
QUICK_SCAM = ("手数料がもったいないので、仮払い前ですが先に作業を始めてください。他の人はもう始めています。"
              "お支払いは直接振り込みます。")
QUICK_HELD = ("LINEでやりとりしましょう。LINE ID: quick_works01", "電話のほうが早いです。090-8765-4321 まで",
              "メールでも大丈夫です quick.works@example.jp")
QUICK_REPORT = ("仮払い前の作業と、手数料を避けた直接の支払いを求められました。"
                "「他の人はもう始めている」とも言われています。")

# Reviews (seed 003, 004), played after the deals on the windows their completion opened: the logo contract was
# reviewed by both sides (revealed at once) and answered; on the SEO order only the client has written, so
# 山田花子 sees that a review is waiting but not what it says until she writes hers or the 14 days run out.
# (days ago, deal title, who writes, ratings, comment); a reply: (days ago, deal title, who answers, text).
STARS = ("skill", "quality", "schedule", "communication", "partnership")
REVIEWS = [
    (15.5, "コーポレートサイトのロゴ・名刺デザイン", "client", (5, 5, 4, 5, 5),
     "ヒアリングが丁寧で、修正にも素早く対応していただきました。またお願いしたいです。"),
    (15, "コーポレートサイトのロゴ・名刺デザイン", "ken", (5, 5, 5, 4, 5),
     "仮払いが早く、フィードバックも具体的で進めやすいクライアント様でした。"),
    (9, "SEO記事を1本作成します", "client", (5, 4, 5, 5, 5),
     "構成案の段階から相談に乗っていただき、安心してお任せできました。"),
]
REVIEW_REPLIES = [
    (14, "コーポレートサイトのロゴ・名刺デザイン", "ken",
     "ありがとうございます。名刺の増刷などもお気軽にご相談ください。"),
]
# A payout (§8): 山田花子 registered her bank account and asked for part of her balance; 事務局 has not paid yet.
BANK_ACCOUNT = {"bank_name": "安心銀行", "bank_code": "0001", "branch_name": "本店営業部", "branch_code": "001",
                "account_type": "ordinary", "account_number": "1234567", "holder": "ヤマダ ハナコ"}
WITHDRAWAL = ("hanako", 0.3, 5_000)

# The instant the run started: every step is placed relative to it, so the intervals between steps are exact
# (the blocked test task shows exactly the time that was left, whatever the machine's speed).
_anchor: datetime | None = None


@contextmanager
def as_of(ago: float | timedelta):
    """Run the block with clock.now() standing still `ago` (days, or a timedelta) before the start of the run,
    shifted like the demo clock if `timetravel` was used. Only `anshin.core.clock` is touched, and only for
    the block: the shared demo clock file is never written."""
    ago = ago if isinstance(ago, timedelta) else timedelta(days=ago)
    moment = (_anchor or timezone.now()) + clock.offset() - ago
    real_now = clock.now
    clock.now = lambda: moment  # clock.today() and every service read the time through clock.now
    try:
        yield
    finally:
        clock.now = real_now


@contextmanager
def anchored():
    global _anchor
    _anchor = timezone.now()
    try:
        yield
    finally:
        _anchor = None


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        with anchored():
            self._load()
        self._print_logins()

    def _load(self) -> None:
        self.new_users = set()
        self.users = {key: self._user(key, **spec) for key, spec in USERS.items()}
        created = Counter()
        jobs_by_index = {}
        for index, spec in enumerate(OPEN_JOBS):
            with transaction.atomic():
                job, new = self._job(spec)
                if new:
                    for job_index, worker, days_ago, action, talk in APPLICATIONS:
                        if job_index == index:
                            self._application(job, worker, days_ago, action, talk)
                    if TEST_TASK.job == index:
                        self._test_task(job, TEST_TASK)
            jobs_by_index[index] = job
            created["job"] += new
        for deal in DEALS:
            if not Job.objects.filter(client=self.users["client"], title=deal.job.title).exists():
                with transaction.atomic():
                    self._deal(deal)
                created["job"] += 1
        for spec in LISTINGS:
            if not Listing.objects.filter(seller=self.users[spec.seller], title=spec.title).exists():
                with transaction.atomic():
                    created["order"] += self._listing(spec)
                created["listing"] += 1
        for job_index, worker, days_ago, text in SCOUTS:
            job = jobs_by_index[job_index]
            if not Scout.objects.filter(job=job, worker=self.users[worker]).exists():
                with as_of(days_ago):
                    jobs.scout_send(user=self.users["client"], job_id=job.pk, worker_id=self.users[worker].pk,
                                    message=text)
                created["scout"] += 1
        if not ContactPermit.objects.exists():
            with transaction.atomic():
                self._trust(jobs_by_index)
            created["permit"] += 2
        if not Review.objects.exists():
            with transaction.atomic():
                self._reviews()
            created["review"] += len(REVIEWS)
        if not Withdrawal.objects.exists():
            who, days_ago, amount = WITHDRAWAL
            with transaction.atomic(), as_of(days_ago):
                bank_account_save(user=self.users[who], data=BANK_ACCOUNT)
                withdrawal_request(user=self.users[who], amount=amount)
            created["withdrawal"] += 1
        for key, days_ago in LAST_ACCESS.items():
            if key in self.new_users:
                with as_of(days_ago):
                    presence_touch(self.users[key])
        if sum(created.values()):
            done = ", ".join(f"{created[kind]} {kind}(s)" for kind in created
                             if created[kind])
            self.stdout.write(f"demo data: {done} created")
        else:
            self.stdout.write("demo data: already loaded, nothing changed")

    # --- building blocks --------------------------------------------------------------------------------

    def _user(self, key: str, *, email, display_name, role, bio="", skills="", is_staff=False) -> User:
        user = User.objects.filter(email=email).first()
        if user:
            return user
        from allauth.account.models import EmailAddress

        user = User.objects.create_user(email=email, password=PASSWORD, display_name=display_name, bio=bio,
                                        skills=skills, is_staff=is_staff)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if is_staff:
            grant_operator(user)
        self.new_users.add(key)
        return user

    def _job(self, spec: JobSpec, client_key: str = "client") -> tuple[Job, bool]:
        client = self.users[client_key]
        job = Job.objects.filter(client=client, title=spec.title).first()
        if job:
            return job, False
        with as_of(spec.days_ago):
            today = clock.today()
            job = jobs.job_create(
                user=client, title=spec.title, description=spec.description, category=spec.category,
                skills=spec.skills, budget_min=spec.budget_min, budget_max=spec.budget_max,
                application_deadline=today + timedelta(days=21), delivery_date=today + timedelta(days=45),
            )
        return job, True

    def _apply(self, job: Job, worker: str, text: str, amount: int):
        return jobs.application_create(job_id=job.pk, user=self.users[worker], message=text, amount=amount,
                                       estimated_date=clock.today() + timedelta(days=20))

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

    def _thread_step(self, deal, kind: str, who: str, action: str, text: str, args: dict) -> bool:
        """Steps any deal's thread (contract or order) can take; False if `action` is not one of them."""
        user, thread = self.users.get(who), deal.thread
        if action == "say":
            self._say(thread, who, text)
        elif action == "read":
            thread_mark_read(thread=thread, user=user)
        elif action == "progress":
            message_send_progress(thread=thread, sender=user, percent=args["percent"],
                                  next_date=clock.today() + timedelta(days=args["next_in_days"]), comment=text)
        elif action == "delay":
            deal.refresh_from_db(fields=["delivery_date"])
            message_send_delay(thread=thread, sender=user, late_item=args["late_item"], reason=text,
                               new_date=deal.delivery_date + timedelta(days=args["days_after_delivery_date"]))
        elif action == "date_change":
            deal.refresh_from_db(fields=["delivery_date"])
            date_change_propose(deal_kind=kind, deal_id=deal.pk, user=user, reason=text,
                                new_date=deal.delivery_date + timedelta(days=args["days_after_delivery_date"]))
        elif action == "ack":
            message_acknowledge(thread=thread, sender=user,
                                reply_by=clock.today() + timedelta(days=args["reply_in_days"]))
        elif action == "nudge":
            thread_nudge(thread=thread, sender=user)
        else:
            return False
        return True

    def _deal(self, deal: Deal) -> None:
        client = self.users["client"]
        job, _ = self._job(deal.job)
        application = contract = None
        for days_ago, who, action, text, *more in deal.steps:
            args = more[0] if more else {}
            with as_of(days_ago):
                user = self.users.get(who)
                if contract is not None and self._thread_step(contract, "contract", who, action, text, args):
                    continue
                if action == "apply":
                    application = self._apply(job, who, text, deal.amount)
                elif action == "offer":
                    contract = contracts.contract_offer(
                        application_id=application.pk, user=client, amount=deal.amount,
                        delivery_date=clock.today() + timedelta(days=14), title=job.title,
                    )
                    jobs.job_transition(job_id=job.pk, user=client, action="close")
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

    def _listing(self, spec: ListingSpec) -> int:
        """The listing, then the client's orders on it; returns how many orders were placed."""
        seller = self.users[spec.seller]
        with as_of(spec.days_ago):
            listing = orders.listing_create(
                user=seller, title=spec.title, description=spec.description, category=spec.category,
                price=spec.price, delivery_days=spec.delivery_days, included_revisions=spec.included_revisions,
                options=spec.options, questions=spec.questions,
            )
        for order_spec in spec.orders:
            self._order(listing, order_spec)
        if spec.paused_days_ago is not None:
            with as_of(spec.paused_days_ago):
                orders.listing_transition(listing_id=listing.pk, user=seller, action="pause")
        return len(spec.orders)

    def _order(self, listing: Listing, spec: OrderSpec) -> None:
        buyer = self.users["client"]
        options = {option.title: option.pk for option in listing.options.all()}
        questions = list(listing.questions.all())
        answers = {q.pk: answer for q, answer in zip(questions, spec.answers, strict=True)}
        order = None
        for days_ago, who, action, text, *more in spec.steps:
            args = more[0] if more else {}
            with as_of(days_ago):
                user = self.users.get(who)
                if action == "buy":
                    order = orders.order_purchase(listing_id=listing.pk, user=buyer,
                                                  option_ids=[options[title] for title in spec.options],
                                                  answers=answers)
                elif self._thread_step(order, "order", who, action, text, args):
                    pass
                elif action == "accept":
                    orders.order_accept(order_id=order.pk, user=user)
                elif action == "deliver":
                    orders.order_deliver(order_id=order.pk, user=user, body=text)
                elif action == "request_revision":
                    orders.order_request_revision(order_id=order.pk, user=user, reason=text)
                elif action == "approve":
                    orders.order_approve(order_id=order.pk, user=user)
                elif action == "open_dispute":
                    orders.order_open_dispute(order_id=order.pk, user=user, reason=text)
                elif action == "cancel_request":
                    orders.order_cancel_request(order_id=order.pk, user=user, reason=args["reason"], detail=text)
                elif action == "remind":
                    orders.order_remind(order.pk)
                elif action == "settle":
                    orders.order_settle_due(order.pk)
                else:
                    raise CommandError(f"unknown demo order step {action!r}")
        order.refresh_from_db()
        if order.state != spec.state:
            raise CommandError(f"demo order {order.title!r} ended in {order.state}, not {spec.state}")

    def _test_task(self, job: Job, spec: TestTaskSpec) -> None:
        client, worker = self.users["client"], self.users[spec.worker]
        application = job.applications.get(worker=worker)
        with as_of(spec.shortlisted):
            jobs.application_transition(application_id=application.pk, user=client, action="shortlist")
        with as_of(spec.sent):
            jobs.test_task_send(application_id=application.pk, user=client, instructions=spec.instructions,
                                duration=spec.duration, links=spec.links)
        with as_of(spec.sent - spec.blocked_after):
            thread_mark_read(thread=application.thread, user=worker)
            jobs.test_task_report_blocker(application_id=application.pk, user=worker, question=spec.question)

    def _trust(self, jobs_by_index) -> None:
        u, ops = self.users, self.users["ops"]
        for spec in (PERMIT_PENDING, PERMIT_APPROVED):
            asker, other, tool, days_ago, purpose = spec[:5]
            thread = (Thread.objects.filter(members__user=u[asker]).filter(members__user=u[other])
                      .exclude(kind=Thread.Kind.SCOUT).order_by("-last_message_at").first())
            with as_of(days_ago):
                permit = permit_request(thread_id=thread.pk, user=u[asker], tool=tool, purpose=purpose)
            if len(spec) > 5:
                with as_of(days_ago - 1):
                    permit_decide(permit_id=permit.pk, operator=ops, approve=True, note=spec[5])
        job, _ = self._job(QUICK_JOB, "quick")
        with as_of(2):
            scout = jobs.scout_send(user=u["quick"], job_id=job.pk, worker_id=u["ken"].pk, message=QUICK_SCOUT)
        for hours, text in zip((40, 39, 38), QUICK_HELD, strict=True):
            with as_of(timedelta(hours=hours)):
                try:
                    message_send(thread=scout.thread, sender=u["quick"], body=text)
                except ContactHeld:
                    pass  # held: logged as a hold, the third in 30 days raises a flag for 事務局
        with as_of(timedelta(hours=30)):
            scam = message_send(thread=scout.thread, sender=u["quick"], body=QUICK_SCAM)
        with as_of(timedelta(hours=20)):
            report_create(user=u["ken"], subject_kind="message", subject_id=scam.pk, category="scam",
                          text=QUICK_REPORT)

    def _reviews(self) -> None:
        def window(title: str) -> ReviewWindow:
            return ReviewWindow.objects.get(Q(contract__title=title) | Q(order__title__contains=title))

        for days_ago, title, who, stars, comment in REVIEWS:
            with as_of(days_ago):
                review_submit(window_id=window(title).pk, user=self.users[who],
                              ratings=dict(zip(STARS, stars, strict=True)), comment=comment)
        for days_ago, title, who, text in REVIEW_REPLIES:
            review = Review.objects.get(window=window(title), subject=self.users[who])
            with as_of(days_ago):
                review_reply(review_id=review.pk, user=self.users[who], text=text)

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Anshin: {URL}")
        self.stdout.write(f"デモ用ログイン（パスワードは全員 {PASSWORD}）:")
        for spec in USERS.values():
            self.stdout.write(f"  {spec['email']:<24} {spec['role']}  {spec['display_name']}")
