from django.core.management.base import BaseCommand, CommandError

from anshin.accounts.models import User
from anshin.core import audit
from anshin.ops.permissions import OPERATOR_GROUP, grant_operator


class Command(BaseCommand):
    help = "Make an account an operator (事務局): staff, in the group 事務局. Audited."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"no account with the e-mail {email}")
        grant_operator(user)
        audit.record(subject=user, action="operator_granted", actor_role="system", payload={"by": "manage.py"})
        self.stdout.write(f"{user.email} is now in the group {OPERATOR_GROUP}")
