"""The JSON API: every UI action has a twin here calling the same service. OpenAPI at /api/openapi.json,
interactive docs at /api/docs (Swagger UI served from Ninja's own static files, never a CDN).

Every error is `{"code": ..., "message": ...}` with a 4xx status and a Japanese message; input that fails the
schema is 422 `invalid` naming the fields. Auth: `Authorization: Bearer <token>` (POST /api/tokens) or the
browser session (with the CSRF token on unsafe methods)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, JsonResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import PathView
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from anshin.accounts.api import router as accounts_router
from anshin.contracts.api import router as contracts_router
from anshin.core.api_auth import AUTH, CsrfFailed
from anshin.core.errors import DomainError
from anshin.deals.api import router as deals_router
from anshin.jobs.api import router as jobs_router
from anshin.messaging.api import router as messaging_router
from anshin.notifications.api import router as notifications_router
from anshin.ops.api import router as ops_router
from anshin.orders.api import router as orders_router
from anshin.payouts.api import router as payouts_router
from anshin.reviews.api import router as reviews_router
from anshin.trust.api import router as trust_router


class Renderer(JSONRenderer):
    """UTF-8 JSON: Japanese stays readable in the body (no \\uXXXX escapes)."""

    json_dumps_params = {"ensure_ascii": False}


NUL_MESSAGE = "入力に使用できない制御文字（NUL）が含まれています。"


def _refuse_nul(value) -> None:
    """PostgreSQL text cannot hold NUL: refuse it at the door (like Django forms do), never a 500 later."""
    if isinstance(value, str):
        if "\x00" in value:
            raise DomainError("invalid", NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item)


class BodyParser(Parser):
    """JSON bodies. A form-encoded or multipart request carries no JSON body (an action posted with an empty
    form, e.g. `curl -X POST -F ...`): it reads as "no body" rather than as unparsable JSON."""

    def parse_body(self, request):
        if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return {}
        data = super().parse_body(request)
        _refuse_nul(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        _refuse_nul({key: value for key, value in result.items() if isinstance(value, str | list)})
        return result


api = NinjaAPI(
    title="Anshin API",
    version="1",
    description="安心（Anshin）のJSON API。画面でできる操作はすべてここからも同じサービスを通して行えます。",
    urls_namespace="api",
    auth=AUTH,
    renderer=Renderer(),
    parser=BodyParser(),
    # Swagger UI from Ninja's bundled static files needs "ninja" in INSTALLED_APPS; otherwise Ninja would
    # fall back to a CDN, which we never use (no network at run time): then the docs page is off.
    docs_url="/docs" if "ninja" in settings.INSTALLED_APPS else None,
)


# --- errors ---------------------------------------------------------------------------------------------

def error(request, status: int, code: str, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


FIELD_LABELS = {
    "title": "タイトル", "description": "仕事の詳細", "category": "カテゴリ", "skills": "スキル",
    "budget_min": "予算（下限）", "budget_max": "予算（上限）", "application_deadline": "応募期限",
    "delivery_date": "納期", "hires": "募集人数", "message": "応募メッセージ", "amount": "金額",
    "estimated_date": "完了予定日", "reason": "理由", "body": "本文", "links": "URL", "files": "添付ファイル",
    "card_token": "カードのトークン", "email": "メールアドレス", "password": "パスワード", "name": "名前",
    "q": "検索語", "sort": "並び順", "limit": "件数", "offset": "開始位置", "action": "操作",
    "job_id": "仕事ID", "application_id": "応募ID", "contract_id": "契約ID", "thread_id": "スレッドID",
    "after_id": "メッセージID", "display_name": "表示名", "bio": "自己紹介",
    "hide_last_access": "最終アクセス日時の非公開", "user_id": "ユーザーID", "notification_id": "お知らせID",
    "instructions": "課題の内容", "duration_minutes": "制限時間（分）", "question": "質問", "answer": "回答",
    "result": "評価", "comment": "コメント", "worker_id": "ワーカーID", "scout_id": "スカウトID", "box": "一覧の種類",
    "percent": "進捗", "next_date": "次回のプレビュー予定日", "late_item": "遅れている作業", "new_date": "新しい日付",
    "reply_by": "返信予定日", "worker_amount": "受注者に支払う額", "deal_kind": "取引の種類", "deal_id": "取引ID",
    "request_id": "リクエストID", "price": "価格", "delivery_days": "お届け日数", "included_revisions": "修正回数",
    "options": "オプション", "questions": "ヒアリング", "answers": "ヒアリングの回答", "option_ids": "オプション",
    "detail": "詳細", "price_min": "価格（下限）", "price_max": "価格（上限）", "listing_id": "サービスID",
    "order_id": "注文ID", "subject": "通報の対象", "id": "対象ID", "text": "通報の内容", "tool": "利用するツール",
    "purpose": "利用目的", "permit_id": "申請ID", "mask_contacts": "連絡先を伏せる", "note": "内部メモ",
    "approve": "判断", "assignee_id": "担当者", "resolution": "結果", "outcome": "解決方法", "item_id": "項目ID",
    "kind": "種類", "state": "状態", "mine": "自分の担当", "actor_id": "操作者", "subject_type": "対象の種類",
    "skill": "スキル", "quality": "クオリティ", "schedule": "スケジュール", "communication": "コミュニケーション",
    "partnership": "パートナーシップ", "window_id": "評価ID", "review_id": "レビューID", "groups": "メール通知の設定",
    "bank_name": "銀行名", "bank_code": "銀行コード", "branch_name": "支店名", "branch_code": "支店コード",
    "account_type": "口座種別", "account_number": "口座番号", "holder": "口座名義", "request_key": "リクエストキー",
    "withdrawal_id": "出金申請ID",
}


SCHEMA_PARAMS = ("payload", "filters")  # handler parameter names that wrap a whole schema


def _path(loc) -> list[str]:
    """("body", "payload", "amount") -> ["amount"]; ("form", "body") -> ["body"]; ("query", "limit") -> ["limit"]."""
    rest = [str(part) for part in loc[1:]]
    if rest and rest[0] in SCHEMA_PARAMS:
        rest = rest[1:]
    return rest


def _field(loc) -> str:
    names = [name for name in _path(loc) if not name.isdigit()]
    if not names:
        return "リクエスト本文"
    name = names[-1]
    return f"{FIELD_LABELS.get(name, name)}（{name}）"


def _describe(err: dict) -> str:
    field, kind, ctx = _field(err.get("loc", ())), err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return f"{field}を入力してください"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return f"{field}は整数で入力してください"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{field}は日付（YYYY-MM-DD）で入力してください"
    if kind == "string_too_long":
        return f"{field}は{ctx.get('max_length')}文字以内で入力してください"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{field}は{ctx.get('ge', ctx.get('gt'))}{'以上' if 'ge' in ctx else 'より大きい値'}で入力してください"
    if kind in ("less_than_equal", "less_than"):
        return f"{field}は{ctx.get('le', ctx.get('lt'))}{'以下' if 'le' in ctx else '未満'}で入力してください"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace(" or ", ", ").replace(", ", "、")
        return f"{field}は次のいずれかを指定してください: {expected}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{field}は true または false で指定してください"
    if kind in ("string_type", "str_type"):
        return f"{field}は文字列で入力してください"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        return f"{field}の形式が正しくありません"
    return f"{field}の値が正しくありません"


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    problems = list(dict.fromkeys(_describe(e) for e in exc.errors))  # keep order, drop repeats
    fields = [
        {"field": ".".join(_path(e.get("loc", ()))),
         "type": e.get("type", ""), "message": _describe(e)}
        for e in exc.errors
    ]
    return error(request, 422, "invalid", "入力内容を確認してください: " + "、".join(problems) + "。", errors=fields)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return error(request, exc.status, exc.code, exc.message, **exc.details())


@api.exception_handler(Http404)
def on_404(request, exc):
    return error(request, 404, "not_found", "見つかりません。")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error(request, 401, "unauthenticated",
                 "ログインが必要です。Authorization: Bearer <APIトークン> を付けるか、ログインしてください。")


HTTP_ERRORS = {
    400: ("bad_request", "リクエストの形式が正しくありません（JSONを確認してください）。"),
    401: ("unauthenticated", "ログインが必要です。"),
    403: ("forbidden", "この操作は許可されていません。"),
    404: ("not_found", "見つかりません。"),
    405: ("method_not_allowed", "このURLではその操作はできません。"),
    413: ("too_large", "送信データが大きすぎます。"),
    429: ("throttled", "リクエストが多すぎます。しばらく待ってから再度お試しください。"),
}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, DomainError):  # raised while parsing the body (e.g. a NUL character)
        return on_domain_error(request, exc.__cause__)
    if isinstance(exc, CsrfFailed):
        return error(request, 403, "csrf_failed", exc.message)
    code, message = HTTP_ERRORS.get(exc.status_code, ("error", "リクエストを処理できませんでした。"))
    return error(request, exc.status_code if 400 <= exc.status_code < 500 else 400, code, message)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return error(request, 413, "too_large", "送信データが大きすぎます。")


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc):
    if isinstance(exc, TooManyFieldsSent):
        return error(request, 400, "bad_request", "送信された項目が多すぎます。")
    return error(request, 400, "bad_request", "リクエストの形式が正しくありません。")


def _json_not_allowed(self):
    """Ninja answers a wrong method with a plain-text 405 and offers no hook for it; ours is JSON like every
    other error. (PathView._not_allowed is the one place Ninja builds that response.)"""
    allowed = sorted({method for operation in self.operations for method in operation.methods})
    response = JsonResponse({"code": "method_not_allowed", "message": HTTP_ERRORS[405][1]}, status=405,
                            json_dumps_params={"ensure_ascii": False})
    response["Allow"] = ", ".join(allowed)
    return response


PathView._not_allowed = _json_not_allowed


# --- routes ---------------------------------------------------------------------------------------------

api.add_router("", accounts_router)
api.add_router("", jobs_router)
api.add_router("", contracts_router)
api.add_router("", messaging_router)
api.add_router("", orders_router)
api.add_router("", deals_router)
api.add_router("", trust_router)
api.add_router("", ops_router)
api.add_router("", reviews_router)
api.add_router("", notifications_router)
api.add_router("", payouts_router)

# Anything else under /api/ is a JSON 404 too (not the site's HTML page). Registered last, so it only
# catches paths no other route matched.
fallback = Router(auth=None)


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False)
def unknown_path(request, rest: str):
    raise Http404


api.add_router("", fallback)
