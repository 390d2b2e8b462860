"""Mail backends that fail the way real servers do (settings.EMAIL_BACKEND in tests)."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class Unreachable(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusesRecipients(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"5.1.1 User unknown") for m in email_messages})
