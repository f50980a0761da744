"""Values sealed with AES-256-GCM under a key file in the data directory, so that a copy of the
database alone (a backup held in another country, say) does not reveal them.

Each purpose has its own key file, created on first use (0600, in a 0700 directory) under
``GOV21_DATA_DIR/keys/``. Every sealed value is bound to associated data (AAD) chosen by its
owner, such as the row it belongs to, so a value moved to another row no longer opens.

A sealed value starts with a version header, ``v1:``: the AEAD is AES-256-GCM with a 12-byte
random nonce. In bytes it is ``b"v1:" + nonce + ciphertext``; as text, ``"v1:" +
base64url(nonce + ciphertext)``. Message bodies in the exchange log were sealed without a header
before this module existed; :meth:`Sealer.open` still reads them when the caller allows it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from gov21.core.crypto import private_file

HEADER: Final = b"v1:"
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16


class SealError(ValueError):
    """A value that does not open: not sealed by us, changed, bound to other data, or sealed under
    another key."""


def _decrypt(aead: AESGCM, nonce_and_ciphertext: bytes, aad: bytes) -> bytes:
    if len(nonce_and_ciphertext) < NONCE_BYTES + TAG_BYTES:
        raise SealError("too short to be a sealed value")
    nonce, ciphertext = nonce_and_ciphertext[:NONCE_BYTES], nonce_and_ciphertext[NONCE_BYTES:]
    try:
        return aead.decrypt(nonce, ciphertext, aad)
    except InvalidTag as error:
        raise SealError("sealed with another key, bound to other data, or changed") from error


@dataclass(frozen=True)
class Sealer:
    """Seals and opens values for one purpose, under the key file ``keys/<key_name>`` of the data
    directory (for example ``identity-seal.key``)."""

    key_name: str

    def key_path(self) -> Path:
        return Path(settings.DATA_DIR) / "keys" / self.key_name

    def _aead(self) -> AESGCM:
        path = self.key_path()
        key = private_file(path, lambda: secrets.token_bytes(KEY_BYTES))
        if len(key) != KEY_BYTES:
            raise RuntimeError(f"{path} is not a {KEY_BYTES}-byte key; restore it from the key backup.")
        return AESGCM(key)

    def seal(self, plain: bytes, *, aad: bytes) -> bytes:
        """``plain`` sealed and bound to ``aad``, with the version header."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return HEADER + nonce + self._aead().encrypt(nonce, plain, aad)

    def open(self, sealed: bytes, *, aad: bytes, headerless: bool = False) -> bytes:
        """The plain bytes of ``sealed``; :class:`SealError` if it does not open under ``aad``.
        ``headerless`` also accepts values sealed before the version header existed (bare
        nonce and ciphertext)."""
        aead = self._aead()
        if sealed.startswith(HEADER):
            try:
                return _decrypt(aead, sealed[len(HEADER) :], aad)
            except SealError:
                # A headerless value's random nonce may begin with the header's three bytes.
                if not headerless:
                    raise
        if not headerless:
            raise SealError("not a sealed value")
        return _decrypt(aead, sealed, aad)

    def seal_text(self, plain: str, *, aad: bytes) -> str:
        """``plain`` sealed as text (``v1:`` and base64url), for a text column."""
        sealed = self.seal(plain.encode(), aad=aad)
        return HEADER.decode() + base64.urlsafe_b64encode(sealed[len(HEADER) :]).decode()

    def open_text(self, sealed: str, *, aad: bytes) -> str:
        """The text that :meth:`seal_text` sealed; :class:`SealError` if it does not open."""
        if not sealed.startswith(HEADER.decode()):
            raise SealError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(HEADER) :])
        except (binascii.Error, ValueError) as error:
            raise SealError("not a sealed value") from error
        try:
            return self.open(HEADER + raw, aad=aad).decode()
        except UnicodeDecodeError as error:
            raise SealError("not sealed text") from error


__all__ = ["HEADER", "SealError", "Sealer"]
