"""Public servants' sign-ins and the roles they hold in each agency."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from gov21.identity.models import (
    Account,
    StaffRole,
)
from gov21.identity.services.tokens import check_role


@transaction.atomic
def staff_create(*, username: str, password: str, roles: list[str], agency: str = "civil-registry") -> AbstractBaseUser:
    for role in roles:
        check_role(role)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"is_staff": False})
    user.set_password(password)
    user.save()
    Account.objects.get_or_create(
        user=user,
        defaults={
            "kind": Account.Kind.STAFF,
            "status": Account.Status.ACTIVE,
            "created_at": timezone.now(),
            "activated_at": timezone.now(),
        },
    )
    for role in roles:
        StaffRole.objects.get_or_create(user=user, role=role, agency=agency)
    return user
