"""The contact guard (PRODUCT.md §6) finds contact details however they are disguised, leaves ordinary business
texts alone, points at the exact original characters, and masks them. Pure function: no database."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anshin.trust.contact_guard import CONTACT_KINDS, SCAM_KINDS, GuardResult, Span, mask, scan


def contact_parts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in scan(text).contacts]


def kinds(text: str) -> set[str]:
    result = scan(text)
    return {s.kind for s in result.contacts + result.scams}


# --- what other parts of the product send ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "LINE ID: abc_123",
        "090-1234-5678",
        "test@example.com",
        "LINE ID: abc_123 までご連絡ください",
        "急ぎの場合は 090-1234-5678 へ",
    ],
)
def test_the_inputs_other_features_rely_on_are_flagged(text):
    assert scan(text).contact


def test_an_ordinary_business_message_passes():
    text = (
        "予算は¥30,000（税込）、納期は2026年5月10日、作業時間は10:00〜18:00です。写真50枚、"
        "注文番号 #12345 の続きです。修正は2回まで。"
    )
    assert scan(text) == GuardResult()


def test_empty_text_is_clean():
    assert scan("") == GuardResult() and not scan("").contact and not scan("").scam


# --- obfuscations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, number",
    [
        ("携帯番号です→０９０－８７６５－４３２１", "０９０－８７６５－４３２１"),  # 全角 digits and hyphen
        ("電話番号は 〇九〇ー一二三四ー五六七八 です", "〇九〇ー一二三四ー五六七八"),  # 漢数字 + 長音
        ("零九零 一二三四 五六七八", "零九零 一二三四 五六七八"),  # 零
        ("ぜろきゅうぜろ いちにさんよん ごろくななはち に電話ください", "ぜろきゅうぜろ いちにさんよん ごろくななはち"),
        (
            "ゼロハチゼロ、キュウハチナナロク、ゴヨンサンニ までお願いします",
            "ゼロハチゼロ、キュウハチナナロク、ゴヨンサンニ",
        ),
        ("れいきゅうれい ななななにに さんさんよんよん です", "れいきゅうれい ななななにに さんさんよんよん"),
        ("まるはちまる いちにさんし ごろくしちはち", "まるはちまる いちにさんし ごろくしちはち"),  # まる, し, しち
        ("ｾﾞﾛｷｭｳｾﾞﾛ ｲﾁﾆｻﾝﾖﾝ ｺﾞﾛｸﾅﾅﾊﾁ", "ｾﾞﾛｷｭｳｾﾞﾛ ｲﾁﾆｻﾝﾖﾝ ｺﾞﾛｸﾅﾅﾊﾁ"),  # 半角カナ with voiced marks
        ("0 9 0 1 2 3 4 5 6 7 8 にショートメールください", "0 9 0 1 2 3 4 5 6 7 8"),  # spaced digits
        ("番号は090\n1234\n5678です", "090\n1234\n5678"),  # line breaks
        ("090\u200b1234\u200b5678", "090\u200b1234\u200b5678"),  # zero-width spaces
        ("090\u200c-\u200d1234\u2060-5678\ufeff", "090\u200c-\u200d1234\u2060-5678\ufeff"),
        (
            "TEL 0\ufe0f\u20e39\ufe0f\u20e30\ufe0f\u20e3-1\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e3-"
            "5\ufe0f\u20e36\ufe0f\u20e37\ufe0f\u20e38\ufe0f\u20e3 です",
            "0\ufe0f\u20e39\ufe0f\u20e30\ufe0f\u20e3-1\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e3-"
            "5\ufe0f\u20e36\ufe0f\u20e37\ufe0f\u20e38\ufe0f\u20e3",
        ),  # keycap emoji
        ("⓪⑨⓪①②③④⑤⑥⑦⑧ に電話を", "⓪⑨⓪①②③④⑤⑥⑦⑧"),  # circled digits
        ("⓪❾⓪❶❷❸❹❺❻❼❽", "⓪❾⓪❶❷❸❹❺❻❼❽"),  # negative circled digits
        ("番号は「090」「1234」「5678」です", "090」「1234」「5678"),
        ("0901234の5678です", "0901234の5678"),
        ("+81 90-1234-5678 にかけてください", "+81 90-1234-5678"),
        ("固定電話なら06(1234)5678です", "06(1234)5678"),
        (
            "zero nine zero, one two three four, five six seven eight",
            "zero nine zero, one two three four, five six seven eight",
        ),
    ],
)
def test_phone_numbers_are_found_through_obfuscation(text, number):
    assert contact_parts(text) == [number]
    assert scan(text).contacts[0].kind == "phone"


@pytest.mark.parametrize(
    "text, number",
    [
        ("090-1234-5678、10時以降にお願いします", "090-1234-5678"),
        ("03-1234-5678、10時以降にお願いします", "03-1234-5678"),
        ("+81 90 1234 5678、10時以降で", "+81 90 1234 5678"),
    ],
)
def test_a_number_followed_by_other_digits_is_still_found(text, number):
    assert contact_parts(text) == [number]


@pytest.mark.parametrize("dash", list("-‐‑‒–—―−ーｰ─━～〜－"))
def test_every_dash_separates_phone_groups(dash):
    text = f"連絡先 090{dash}1234{dash}5678 です"
    assert contact_parts(text) == [f"090{dash}1234{dash}5678"]


@pytest.mark.parametrize(
    "text, address",
    [
        ("tanaka.design@gmail.com までご連絡ください", "tanaka.design@gmail.com"),
        ("メールアドレス：ｔａｎａｋａ＠ｇｍａｉｌ．ｃｏｍ", "ｔａｎａｋａ＠ｇｍａｉｌ．ｃｏｍ"),
        ("yamada123 アットマーク gmail ドット com", "yamada123 アットマーク gmail ドット com"),
        ("ito.m あっとまーく outlook.jp", "ito.m あっとまーく outlook.jp"),
        ("sato_k(at)yahoo.co.jp", "sato_k(at)yahoo.co.jp"),
        ("info [at] example-design [dot] jp", "info [at] example-design [dot] jp"),
        ("nakamura.writer at gmail dot com", "nakamura.writer at gmail dot com"),
        ("ogawa[アットマーク]gmail[ドット]com", "ogawa[アットマーク]gmail[ドット]com"),
        ("kobayashi\u200b@\u200bgmail.com", "kobayashi\u200b@\u200bgmail.com"),
        ("y a m a d a @ g m a i l . c o m", "y a m a d a @ g m a i l . c o m"),
        ("suzuki★gmail.com（★を@に変えてください）", "suzuki★gmail.com"),
        ("takahashi.r＠gmail (ドメインは省略してます)", "takahashi.r＠gmail"),
    ],
)
def test_email_addresses_are_found_through_obfuscation(text, address):
    assert contact_parts(text) == [address]
    assert scan(text).contacts[0].kind == "email"


@pytest.mark.parametrize(
    "text",
    [
        "L I N E でやり取りできたら嬉しいです",
        "L・I・N・Eで詳しく話しましょう",
        "Ｌ Ｉ Ｎ Ｅ→ abc_0808",
        "ら い ん 交換しよう",
        "ﾗｲﾝ教えてください",
        "LINE\u200bID：yuki_88",
        "ＬＩＮＥのＩＤは ｓａｔｏ＿ｋ です",
    ],
)
def test_tool_names_are_found_spaced_wide_and_in_katakana(text):
    assert "line" in kinds(text)


# --- every kind -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, text",
    [
        ("phone", "お急ぎの場合は090-1234-5678までお電話ください。"),
        ("phone", "電話番号教えてもらえますか？電話で説明したいので"),
        ("email", "メールアドレスを教えていただけますか？"),
        ("line", "LINEで連絡しましょう！"),
        ("line", "ライン交換しませんか？"),
        ("line", "https://line.me/ti/p/AbCdEfGh12 から友だち追加してください"),
        ("chatwork", "チャットワークIDを教えてください"),
        ("skype", "Skypeで live:abc_123 を追加してください"),
        ("skype", "スカイプで面接させてください"),
        ("discord", "ディスコードのIDは yamada#1234 です"),
        ("discord", "discord.gg/AbCd123"),
        ("slack", "スラックでやり取りしましょう"),
        ("telegram", "テレグラムで連絡ください"),
        ("telegram", "t.me/yamada_work"),
        ("whatsapp", "ワッツアップやってます？"),
        ("wechat", "ウィーチャットのIDを教えてください"),
        ("meeting_url", "明日14:00から https://zoom.us/j/1234567890?pwd=abc でお願いします"),
        ("meeting_url", "打ち合わせURLです meet.google.com/abc-defg-hij"),
        ("meeting_url", "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"),
        ("meeting_url", "ズームで顔合わせをお願いできますか"),
        ("meeting_url", "グーグルミートで面談しましょう"),
        ("sns_dm", "インスタの@hana_worksにDMください"),
        ("sns_dm", "ツイッターのDMに連絡先送りました"),
        ("other", "カカオトークのIDは kim123 です"),
        ("other", "個人的な連絡先を交換しませんか"),
    ],
)
def test_each_contact_kind(kind, text):
    result = scan(text)
    assert kind in {s.kind for s in result.contacts}
    assert all(s.kind in CONTACT_KINDS for s in result.contacts)


@pytest.mark.parametrize(
    "kind, text",
    [
        ("leave_platform", "今後はサイト外で直接お取引させていただけませんか"),
        ("leave_platform", "次回からはクラウドワークスを通さずに直接ご依頼したいです"),
        ("fee_evasion", "手数料がかからないので、システム利用料がもったいないです"),
        ("work_before_escrow", "仮払い前に作業を始めてください"),
        ("work_before_escrow", "支払いは納品を見てから考えます、まずは作業をお願いします"),
        ("bank_or_id", "口座番号を教えてください、直接振り込みます"),
        ("bank_or_id", "本人確認のため、保険証の画像をこちらに添付してください"),
        ("everyone_does_it", "ほかのワーカーさんはみんな問題なくやっています"),
        ("upfront_payment", "登録料3,000円をお振込みいただいた方にお仕事をご紹介します"),
    ],
)
def test_each_scam_kind(kind, text):
    result = scan(text)
    assert kind in {s.kind for s in result.scams}
    assert all(s.kind in SCAM_KINDS for s in result.scams)


def test_contact_and_scam_together():
    result = scan("手数料がもったいないので、LINEで直接やり取りしませんか？ID: tanaka77")
    assert result.contact and result.scam
    assert {"fee_evasion", "leave_platform"} <= {s.kind for s in result.scams}


# --- hard negatives -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "予算は¥30,000です",
        "3万円でいかがでしょうか",
        "30000円（税込）でお願いします",
        "報酬は 10000 - 15000 円を予定しています",
        "納期は2026/11/26です",
        "2026-01-05 09:00 開始",
        "01/05、01/12、01/19、01/26、02/02 が納品日です",
        "09:00〜12:00 / 13:00〜18:00（土日祝休み）",
        "注文番号：0123456789 について確認させてください",
        "#12345 の修正依頼です",
        "請求書番号 INV-2026-0042 をご確認ください",
        "受注番号 090-1234-5678-01 の件",
        "会員番号 0120123456 のお客様データを修正",
        "案件ID 0987654321 に応募しました",
        "シリアル 0123-4567-89AB の端末",
        "0 1 2 3 4 5 6 7 8 9 のフォントを作ってください",
        "スコアは 0.98 / 0.97 / 0.95 でした",
        "〒150-0001 東京都渋谷区神宮前1-2-3",
        "いちにさんしで体操する動画の編集",
        "ゼロからわかるSEO入門の記事",
        "一二三四五六七八九十の漢数字を毛筆で書いてください",
        "参考: https://ja.wikipedia.org/wiki/クラウドソーシング",
        "管理画面は https://example.co.jp/wp-admin/ です",
        "納品はGoogleドキュメントでお願いします https://docs.google.com/document/d/1AbCdEf/edit",
        "素材はGoogleドライブに置きました https://drive.google.com/drive/folders/1AbC",
        "リポジトリ: https://github.com/anshin-dev/landing-page",
        "https://zoom.us/pricing のプラン比較記事を書いてください",
        "https://www.chatwork.com/ja/ の機能を比較する記事",
        "https://line.me/ja/ のトップページのような配色で",
        "LINEスタンプのデザインをお願いしたいです（40個）",
        "Slack連携機能の開発をお願いします",
        "Zoomの背景画像を5パターン作成してください",
        "LINE公式アカウントの運用代行を募集します",
        "LINE ID連携のログイン機能実装",
        "Skype for Businessの移行に関する記事",
        "オンラインで完結するお仕事です",
        "ガイドラインに沿って執筆してください",
        "ズームイン・ズームアウトのアニメーションを付けてください",
        "DM（ダイレクトメール）のハガキデザイン",
        "インスタでDM対応をしているので、返信テンプレートを作ってほしいです",
        "@media (max-width: 768px) の指定を追加してください",
        "logo@2x.png と logo@3x.png を書き出してください",
        "git@github.com:anshin-dev/app.git をクローンしてください",
        "PR#5678 をレビューしてください",
        "メールマガジンの原稿を月4本お願いします",
        "メールアドレスの変更方法を教えてください",
    ],
)
def test_ordinary_texts_are_not_contacts(text):
    assert not scan(text).contact


@pytest.mark.parametrize(
    "text",
    [
        "LINE交換はできません。こちらのメッセージでお願いします",
        "電話番号はお伝えできないので、メッセージでお願いします",
        "Zoomでの打ち合わせは不要です。すべてテキストで進めましょう",
        "ChatworkのIDを聞かれましたが、規約上お伝えできません",
    ],
)
def test_refusing_to_exchange_contacts_is_not_a_contact(text):
    assert not scan(text).contact


@pytest.mark.parametrize(
    "text",
    [
        "仮払いしましたので作業開始してください",
        "仮払い前に作業は始めませんので、ご了承ください",
        "手数料20%込みの金額です",
        "振込手数料はこちらで負担します",
        "本人確認はプラットフォームの本人確認機能で完了しています",
        "出金先の口座を登録しました",
        "他のメンバーも同じマニュアルで作業しています",
        "交通費は別途お支払いします",
        "入会金無料キャンペーンのバナー作成",
        "直接契約はお受けできません",
        "「みんなやっている」と言われても、規約違反の直接契約はしません",
        "本人確認書類は事務局にのみ提出しています",
        "先に構成案だけ確認させてください。仮払いはすでに済ませています",
    ],
)
def test_ordinary_and_refusing_texts_are_not_scams(text):
    assert not scan(text).scam


# --- spans and masking ----------------------------------------------------------------------------------------


def test_spans_point_at_the_original_characters_after_normalisation():
    text = "①件目。ご連絡は ｔａｎａｋａ＠ｇｍａｉｌ．ｃｏｍ か ０９０－１２３４－５６７８ へ"
    result = scan(text)
    assert [text[s.start : s.end] for s in result.contacts] == [
        "ｔａｎａｋａ＠ｇｍａｉｌ．ｃｏｍ",
        "０９０－１２３４－５６７８",
    ]
    assert [s.kind for s in result.contacts] == ["email", "phone"]
    assert all(isinstance(s, Span) for s in result.contacts)


def test_spans_survive_characters_that_normalisation_merges_or_drops():
    text = "ｶﾞｲﾄﾞ\u200b参照。090\u200b1234\u200b5678"  # ｶﾞ → ガ (2 → 1), zero-width dropped
    (span,) = scan(text).contacts
    assert text[span.start : span.end] == "090\u200b1234\u200b5678"


def test_mask_replaces_each_contact_with_one_run():
    text = "LINE ID: abc_123 か 090-1234-5678 までご連絡ください"
    assert mask(text, scan(text).contacts) == "●●● か ●●● までご連絡ください"


def test_mask_hides_the_id_given_after_an_intent():
    text = "LINEで直接やり取りしませんか？ID: tanaka77"
    masked = mask(text, scan(text).contacts)
    assert "tanaka77" not in masked and "●●●" in masked


def test_mask_of_a_keycap_number_leaves_no_stray_marks():
    text = (
        "TEL 0\ufe0f\u20e39\ufe0f\u20e30\ufe0f\u20e31\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e35\ufe0f\u20e3"
        "6\ufe0f\u20e37\ufe0f\u20e38\ufe0f\u20e3 です"
    )
    assert mask(text, scan(text).contacts) == "TEL ●●● です"


def test_mask_without_spans_returns_the_text():
    assert mask("こんにちは", ()) == "こんにちは"


def test_mask_covers_overlapping_spans_with_one_run():
    assert mask("abcdef", [Span(0, 3, "other"), Span(2, 4, "other"), Span(4, 6, "other")]) == "●●●●●●"


# --- any text -------------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    list("0123456789０９〇零一二九@＠.．-ー－〜 \n\u200b\ufe0f\u20e3①⓪❶ｾﾞﾛｷｭｳabcLINEｌｉｎｅ:：()（）#_")
    + list("ぜろきゅうまるにライン電話番号外で直接仮払い前")
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_spans_always_lie_inside_the_text_in_order(text):
    result = scan(text)
    for spans in (result.contacts, result.scams):
        assert all(0 <= s.start < s.end <= len(text) for s in spans)
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert "●●●" in mask(text, result.contacts) or not result.contacts
