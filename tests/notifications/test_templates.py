"""The e-mails themselves: Japanese subject, plain text and HTML, an absolute link to the page, escaping."""

import pytest

from anshin.notifications import mailer
from anshin.notifications.services import notify

pytestmark = pytest.mark.django_db


def rendered(user, kind, *, url="/contracts/7/", title="「ロゴデザイン」納品されました", body="検収してください。"):
    row = notify(user=user, kind=kind, title=title, body=body, url=url, dedupe_key=f"t:{kind}:{url}:{title}")
    mail = mailer.render(row)
    (html, mime), = mail.alternatives
    assert mime == "text/html"
    return mail, html


def test_default_mail_is_japanese_with_an_absolute_link(worker, settings):
    settings.ANSHIN_SITE_URL = "https://anshin.example.jp/"
    mail, html = rendered(worker, "contract.deliver")
    assert mail.subject == "【Anshin】「ロゴデザイン」納品されました"
    assert mail.body.startswith("山田花子 様")
    assert "検収してください。" in mail.body
    assert "https://anshin.example.jp/contracts/7/" in mail.body
    assert 'href="https://anshin.example.jp/contracts/7/"' in html
    assert "山田花子 様" in html and "検収してください。" in html
    assert "https://anshin.example.jp/notifications/settings/" in mail.body  # switchable: how to turn it off
    assert '<html lang="ja">' in html


def test_reminder_mail_says_it_is_always_sent(worker):
    mail, html = rendered(worker, "contract.inspection_reminder", title="「ロゴデザイン」の検収期限まであと1日です")
    assert mail.subject.startswith("【Anshin・要対応】") and "あと1日" in mail.subject
    assert "期限が近づいています" in mail.body and "期限が近づいています" in html
    assert "/notifications/settings/" not in mail.body
    assert "メール通知の設定にかかわらず" in mail.body


def test_message_mail_tells_to_reply_on_the_site(worker):
    mail, html = rendered(worker, "message", url="/messages/3/", title="株式会社サンプルさんから新着メッセージ",
                          body="修正をお願いできますか？")
    assert mail.subject == "【Anshin】株式会社サンプルさんから新着メッセージ（未読）"
    assert "修正をお願いできますか？" in mail.body and "http://127.0.0.1:8000/messages/3/" in mail.body
    assert "このメールに返信しても相手には届きません" in mail.body
    assert "1時間に1通まで" in html


def test_text_is_not_escaped_and_html_is(worker):
    mail, html = rendered(worker, "contract.deliver", title="A&B <script>alert(1)</script>", body="x < y & z")
    assert "A&B <script>alert(1)</script>" in mail.subject and "x < y & z" in mail.body
    assert "<script>" not in html and "A&amp;B &lt;script&gt;" in html and "x &lt; y &amp; z" in html


def test_links_never_leave_the_site(worker, settings):
    settings.ANSHIN_SITE_URL = "https://anshin.example.jp"
    for url in ("https://evil.example/", "//evil.example/x", "", "javascript:alert(1)"):
        mail, html = rendered(worker, "contract.deliver", url=url)
        assert "evil" not in mail.body and "javascript" not in html
        assert "https://anshin.example.jp/notifications/" in mail.body


def test_subject_is_one_line(worker):
    mail, _ = rendered(worker, "contract.deliver", title="改行\nを含む件名")
    assert "\n" not in mail.subject
