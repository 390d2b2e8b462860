"""A real SMTP server for tests: aiosmtpd on loopback, on a free port, keeping what it receives."""

import asyncio
import email
import email.policy
import socket
import threading
from contextlib import contextmanager

from aiosmtpd.controller import Controller

HOLD_AT_MOST = 60  # seconds a held DATA waits for release: a test that forgets cannot hang CI


class Mailbox:
    """Stores every message at DATA. `hold_next`: the next message is stored, then the reply (250) is held
    until `release` is set — a client killed meanwhile has handed over the mail but never heard it was taken."""

    def __init__(self):
        self.received: list[bytes] = []
        self.got_one = threading.Event()
        self.release = threading.Event()
        self.hold_next = False

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content or envelope.content)
        self.got_one.set()
        if self.hold_next:
            self.hold_next = False
            loop = asyncio.get_running_loop()
            deadline = loop.time() + HOLD_AT_MOST
            while not self.release.is_set() and loop.time() < deadline:
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server():
    """(host, port, mailbox) of a running server; stopped (and any held reply released) on exit."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    try:
        yield controller.hostname, controller.port, mailbox
    finally:
        mailbox.release.set()
        controller.stop()
