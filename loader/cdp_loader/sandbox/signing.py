"""Pre-signed URLs in the manner of S3: the path and an expiry, signed with a server secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qs


class UrlSigner:
    """Signs and checks `?Expires=<epoch>&Signature=<hmac>` query strings."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def query(self, method: str, path: str, expires: int) -> str:
        """The query string that makes `method path` valid until `expires` (epoch seconds)."""
        return f"Expires={expires}&Signature={self._signature(method, path, expires)}"

    def check(self, method: str, path: str, query: str, now: float | None = None) -> str | None:
        """Why the signed query is refused ("expired", "bad signature"), or None when valid."""
        fields = parse_qs(query)
        expires_text = fields.get("Expires", [""])[0]
        signature = fields.get("Signature", [""])[0]
        if not expires_text.isdigit() or not signature:
            return "bad signature"
        expected = self._signature(method, path, int(expires_text))
        if not hmac.compare_digest(expected, signature):
            return "bad signature"
        if int(expires_text) < (time.time() if now is None else now):
            return "expired"
        return None

    def _signature(self, method: str, path: str, expires: int) -> str:
        message = f"{method}\n{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
