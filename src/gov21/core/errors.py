"""One error type for the whole domain, mapped once to RFC 9457 problem+json at the HTTP edge."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure a caller can act on.

    ``code`` is stable and machine-readable (it becomes the problem ``type``); ``status`` is the
    HTTP status the edge answers with; ``field`` names the offending input where there is one.
    """

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int = 422,
        title: str | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.title = title or code.replace("_", " ").capitalize()
        self.field = field
        self.extra = extra or {}


class NotFound(DomainError):
    def __init__(self, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(code, detail, status=404, title="Not found", field=field)


class Conflict(DomainError):
    def __init__(
        self, code: str, detail: str, *, field: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, detail, status=409, title="Conflict", field=field, extra=extra)


class Forbidden(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail, status=403, title="Forbidden")


class Unauthenticated(DomainError):
    def __init__(self, code: str = "unauthenticated", detail: str = "Sign in or present a valid API token.") -> None:
        super().__init__(code, detail, status=401, title="Unauthenticated")
