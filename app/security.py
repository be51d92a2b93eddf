"""Passwords, signed tokens and secret-derived hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
# A real hash to verify against when the e-mail is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against its hash (or a dummy one, to keep timing even)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_is_weak(password: str, user_inputs: list[str]) -> bool:
    """Tell whether a password is too short or easy to guess (zxcvbn score under 3)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return True
    inputs = [u for u in user_inputs if u]
    # zxcvbn only matches whole inputs: add their words so "OlgaDueñas" counts as the name.
    words = {w for u in inputs for w in re.split(r"[\W_]+", u.lower()) if len(w) >= 3}
    return zxcvbn(password[:100], user_inputs=inputs + sorted(words))["score"] < 3


class TokenError(Exception):
    """A signed token that is invalid or expired; ``expired`` tells which."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"portal.{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    """Sign a payload for one purpose (email-confirm, password-reset, ...)."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int) -> Any:
    """Return a token's payload, or raise TokenError when it is forged, altered or too old."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except BadSignature:
        raise TokenError(expired=False) from None


def fingerprint(value: str) -> str:
    """Return a short keyed hash of a value (used to make reset tokens single-use)."""
    key = current_app.secret_key.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def new_secret_token() -> tuple[str, str]:
    """Return a random token and the SHA-256 hash to store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_secret_token(token)


def hash_secret_token(token: str) -> str:
    """Hash a random token for storage and look-up."""
    return hashlib.sha256(token.encode()).hexdigest()
