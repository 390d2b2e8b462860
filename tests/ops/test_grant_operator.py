import io

import pytest
from django.core.management import CommandError, call_command

from anshin.accounts.models import User
from anshin.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_grant_operator_makes_an_operator_and_leaves_a_trace(make_user):
    user = make_user("newop")
    assert not user.is_operator
    call_command("grant_operator", "NEWOP@example.com", stdout=io.StringIO())
    assert User.objects.get(pk=user.pk).is_operator
    assert AuditEvent.objects.filter(action="operator_granted", subject_id=user.pk).exists()


def test_grant_operator_refuses_an_unknown_email(db):
    with pytest.raises(CommandError):
        call_command("grant_operator", "nobody@example.com", stdout=io.StringIO())
