"""What each role may do. The roles are the kernel's; each app grants them its own permissions in its
``AppConfig.ready()``, so a permission is named and granted in one place, by the app that checks it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ImproperlyConfigured

# The roles a member of staff or an API token can hold; a member of staff holds each per agency.
ROLES: tuple[str, ...] = ("reader", "clerk", "registrar", "case_officer", "supervisor", "administrator")

# Each permission's owner (the label of the app that granted it), and each role's permissions.
_OWNERS: dict[str, str] = {}
_GRANTS: dict[str, frozenset[str]] = dict.fromkeys(ROLES, frozenset())


def permissions_grant(*, app: str, grants: Mapping[str, Iterable[str]]) -> None:
    """Give each role in ``grants`` the permissions listed for it, on behalf of ``app``. Granting the
    same table again (Django may call ``ready()`` twice) changes nothing; naming a role the kernel does
    not know, or a permission another app already granted, is a configuration error."""
    unknown = sorted(set(grants) - set(ROLES))
    if unknown:
        raise ImproperlyConfigured(f"The app {app!r} grants permissions to unknown roles: {', '.join(unknown)}.")
    for role, permissions in grants.items():
        for permission in permissions:
            owner = _OWNERS.setdefault(permission, app)
            if owner != app:
                raise ImproperlyConfigured(
                    f"The permission {permission!r} is granted by both {owner!r} and {app!r}; one app owns it."
                )
        _GRANTS[role] = _GRANTS[role] | frozenset(permissions)


def role_permissions(role: str) -> frozenset[str]:
    """What ``role`` may do; nothing for a role the kernel does not know."""
    return _GRANTS.get(role, frozenset())


def permissions_table() -> dict[str, frozenset[str]]:
    """Every role with every permission the installed apps granted it."""
    return dict(_GRANTS)
