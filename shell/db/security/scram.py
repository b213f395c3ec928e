"""SCRAM-SHA-256 password verifiers computed on the desktop (RFC 5802/7677, PostgreSQL's format),
so ``CREATE ROLE … PASSWORD`` never carries a clear password to the server or its log."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

ITERATIONS = 4096  # PostgreSQL's scram_iterations default


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def verifier(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` for ``password``."""
    salt = salt if salt is not None else os.urandom(16)
    # PostgreSQL SASLprep-normalises the password (NFKC); passwords that are not valid UTF-8 are used raw.
    raw = unicodedata.normalize("NFKC", password).encode("utf-8")
    salted = hashlib.pbkdf2_hmac("sha256", raw, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def is_verifier(text: str) -> bool:
    return isinstance(text, str) and text.startswith("SCRAM-SHA-256$") and text.count("$") == 2
