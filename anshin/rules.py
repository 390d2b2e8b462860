"""Every number of the product (PRODUCT.md) in one place. Code reads these; tests may patch them."""

from datetime import timedelta

# §1 jobs and applications
OFFER_ACCEPT_WINDOW = timedelta(days=7)  # worker accepts the offer or it lapses

# §2 contracts
FUNDING_WINDOW = timedelta(days=7)  # client funds escrow after acceptance or the contract is cancelled
DEEMED_ACCEPTANCE_AFTER = timedelta(days=7)  # silence after the *last* delivery = 検収合格
INSPECTION_REMINDERS = (timedelta(days=3), timedelta(days=1))  # before deemed acceptance, to the client

# Platform fee on a contract release: (upper bound of the slice in yen or None, percent). Tax included.
CONTRACT_FEE_TIERS = ((100_000, 20), (200_000, 10), (None, 5))

# Amounts: integer yen, bounded so a typo cannot create a ¥10億 contract.
MIN_AMOUNT = 1_000
MAX_AMOUNT = 10_000_000

# §4 messages
MESSAGE_MAX_LENGTH = 10_000
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_FILES = 5
ATTACHMENT_TYPES = {  # extension -> accepted content types
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".zip": "application/zip",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
THREAD_PAGE_MESSAGES = 50  # the thread page shows the newest 50; 「以前のメッセージを表示」 loads 50 more each time
PRESENCE_WRITE_EVERY = timedelta(minutes=1)  # last access is written at most once a minute per user

# Timers
TICK_BATCH_SIZE = 100

# §1 test tasks
TEST_TASK_MIN_DURATION = timedelta(hours=1)
TEST_TASK_MAX_DURATION = timedelta(days=14)
TEST_TASK_REMINDERS = (timedelta(hours=6),)  # to the worker, before the (paused-aware) due time

# §2 contracts: delivery date, overdue, termination
DATE_CHANGE_MAX_AHEAD = timedelta(days=365)  # a proposed delivery date at most this far ahead
OVERDUE_TERMINATION_AFTER = timedelta(days=3)  # past the delivery date without delivery: the client may end it alone
TERMINATION_SILENCE = timedelta(days=7)  # no answer to a 契約途中終了リクエスト = agreement
TERMINATION_REMINDERS = (timedelta(days=2),)

# §3 service orders (Coconala style)
LISTING_MIN_PRICE = 1_000
ORDER_BUYER_FEE_PERMILLE = 55  # 5.5% on top of the price, paid by the buyer; rounded down
ORDER_SELLER_FEE_PERCENT = 22  # kept from the price at payout
FIRST_RESPONSE_WINDOW = timedelta(hours=48)  # seller silence → auto-cancel with full refund
FIRST_RESPONSE_REMINDERS = (timedelta(hours=24), timedelta(hours=6))  # to the seller
APPROVAL_WINDOW = timedelta(hours=72)  # buyer silence after 正式な納品 → approved
APPROVAL_REMINDERS = (timedelta(hours=24),)  # to the buyer
CANCEL_REQUEST_WINDOW = timedelta(hours=24)  # the other side's silence on キャンセル申請 → cancelled
MAX_INCLUDED_REVISIONS = 10
MAX_DELIVERY_DAYS = 90

# §4 responsiveness
NUDGE_AFTER = timedelta(hours=24)  # the waiting side may nudge (返信催促) after this long without a reply
NUDGE_EVERY = timedelta(days=1)  # at most one nudge a day per thread and sender
NUDGE_ESCALATION_BUSINESS_DAYS = 3  # still no reply during a contract → an operator queue item

# §7 operations: a new queue item (dispute, escalation) is due this many business days after it is opened
OPS_QUEUE_DUE_BUSINESS_DAYS = 2

# §6 trust and safety
PERMIT_DUE_BUSINESS_DAYS = 2  # サービス外連絡申請: operators decide within 2 business days (JP holidays excluded)
PERMIT_PURPOSE_MAX_LENGTH = 1_000
GUARD_FLAG_HOLDS = 3  # the third hold…
GUARD_FLAG_WINDOW = timedelta(days=30)  # …within 30 days raises an operator flag
REPORT_TEXT_MAX_LENGTH = 2_000
OPS_NOTE_MAX_LENGTH = 2_000  # every operator action carries an internal note

# §5 reviews (issue 5)
REVIEW_WINDOW = timedelta(days=14)  # after completion or termination; then what was written is revealed
REVIEW_REMINDERS = (timedelta(days=3), timedelta(days=1))  # before the window closes, to whoever has not written
REVIEW_COMMENT_MAX_LENGTH = 2_000

# §4 profile figures (issue 5)
FIGURES_WINDOW = timedelta(days=90)  # response rate and reply times look at this much history
RESPONSE_WITHIN = timedelta(hours=24)  # a first message answered within this counts as responded
FIGURES_REFRESH_AFTER = timedelta(hours=20)  # the clock computes a snapshot again after this long (or once stale)
FIGURES_MAX_AGE = timedelta(days=1)  # an operator's view computes figures older than this (pages serve snapshots)
FIGURES_REFRESH_BATCH = 20  # people per tick (a very busy person's figures take seconds to compute)

# §9 notifications (issue 5)
UNREAD_MESSAGE_EMAIL_AFTER = timedelta(minutes=10)  # an unread message is e-mailed after this long…
UNREAD_MESSAGE_EMAIL_EVERY = timedelta(hours=1)  # …at most once per thread and recipient per this
EMAIL_BATCH_SIZE = 50

# §8 withdrawals (issue 5)
WITHDRAWAL_MIN = 1_000  # 出金申請: at least this much, from the available balance
WITHDRAWAL_DUE_BUSINESS_DAYS = 3  # operators pay a request within this many business days
