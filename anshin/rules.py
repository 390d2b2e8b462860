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
PRESENCE_WRITE_EVERY = timedelta(minutes=1)  # last access is written at most once a minute per user

# Timers
TICK_BATCH_SIZE = 100
