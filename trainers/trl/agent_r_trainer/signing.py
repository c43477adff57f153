"""agent-r's webhook signatures, the Python side (shared/webhooks/signing.ts is the reference).

    x-agent-r-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Several v1 entries may be sent; any one matching is enough. The timestamp must lie within the
tolerance (5 minutes) of now, either way. MACs are compared with hmac.compare_digest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

SIGNATURE_HEADER = "x-agent-r-signature"
DEFAULT_TOLERANCE_SECONDS = 5 * 60
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    if not secret:
        raise ValueError("webhook signing secret is empty")
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_signature(secret, t, body)}"


@dataclass
class Verdict:
    ok: bool
    message: str = ""


def verify_signature(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    now: int | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> Verdict:
    if not header:
        return Verdict(False, f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    if len(header) <= 2000:
        for part in header.split(","):
            key, eq, value = part.partition("=")
            if not eq:
                continue
            key, value = key.strip(), value.strip()
            if key == "t":
                if not re.fullmatch(r"\d{1,15}", value) or timestamp is not None:
                    timestamp = None
                    candidates = []
                    break
                timestamp = int(value)
            elif key == "v1":
                candidates.append(value)
    if timestamp is None or not candidates:
        return Verdict(False, f"malformed {SIGNATURE_HEADER} header (want t=<unix>,v1=<hex>)")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        return Verdict(
            False,
            f"signature timestamp is {current - timestamp}s away from now (tolerance {tolerance}s)",
        )
    expected = compute_signature(secret, timestamp, body)
    matched = False
    for candidate in candidates:  # every candidate is compared: timing does not tell which matched
        if _HEX64.match(candidate) and hmac.compare_digest(candidate.lower(), expected):
            matched = True
    if not matched:
        return Verdict(False, "signature does not match the body")
    return Verdict(True)
