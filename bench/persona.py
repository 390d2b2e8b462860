"""Credentials for the HTTP mix, made directly in the bench database (never through the login form, so no rate
limit is involved): a session for the client and the worker of the loadgen persona, an API token for the
client, and the threads the send-message run writes to.

Run with the bench environment (bench/server.py `bench_env`): `python bench/persona.py MANIFEST` prints JSON."""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anshin.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from anshin.accounts.models import ApiToken, User  # noqa: E402
from anshin.messaging.models import Thread  # noqa: E402
from anshin.trust.blocks import blocked_between  # noqa: E402
from anshin.trust.contact_guard import scan  # noqa: E402

# A chat message of ordinary length with nothing for the contact guard to hold.
MESSAGE = ("お世話になっております。構成案の修正が完了しましたので、共有いたします。"
           "ご確認のうえ、気になる点があればこちらのメッセージでお知らせください。よろしくお願いいたします。")
SEND_THREADS = 32  # sends spread over this many threads, as real traffic is (one thread serialises on its lock)
TOKEN_NAME = "bench"


def session_key(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def send_threads(sender: User, exclude: int) -> list[int]:
    """Threads of the sender other than the measured one, where nobody is blocked (a block refuses messages)."""
    threads = []
    for thread in (Thread.objects.filter(members__user=sender).exclude(pk=exclude)
                   .prefetch_related("members").order_by("-last_message_at")[: SEND_THREADS * 4]):
        if not any(m.user_id != sender.pk and blocked_between(sender.pk, m.user_id) for m in thread.members.all()):
            threads.append(thread.pk)
        if len(threads) == SEND_THREADS:
            break
    return threads or [exclude]


def main(manifest_path: str) -> int:
    persona = json.loads(Path(manifest_path).read_text(encoding="utf-8"))["persona"]
    client = User.objects.get(pk=persona["client_id"])
    worker = User.objects.get(pk=persona["worker_id"])
    if scan(MESSAGE).contact:
        raise SystemExit("bench message would be held by the contact guard")
    if client.messaging_restricted_at:
        raise SystemExit(f"persona client {client.pk} may not send messages")
    token = ApiToken.objects.filter(user=client, name=TOKEN_NAME).first() or ApiToken.objects.create(
        user=client, key=ApiToken.new_key(), name=TOKEN_NAME)
    members = set(Thread.objects.get(pk=persona["thread_id"]).members.values_list("user_id", flat=True))
    print(json.dumps({
        "sessions": {"client": session_key(client), "worker": session_key(worker)},
        "thread_viewer": "client" if client.pk in members else "worker",
        "token": token.key,
        "send_threads": send_threads(client, persona["thread_id"]),
        "message": MESSAGE,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
