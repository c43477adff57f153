"""The companion's signatures against agent-r's own implementation (shared/webhooks/signing.ts)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from agent_r_trainer.signing import compute_signature, signature_header, verify_signature
from conftest import PROJECT_ROOT

SECRET = "trainer-secret-0123456789"
BODY = json.dumps({"id": "dlv_1", "event": "dataset.ready", "data": {"text": "é ✓"}}).encode()


def node_signature(timestamp: int, body: bytes) -> str:
    node = shutil.which("node")
    if not node:
        pytest.skip("node is needed to compare with agent-r's signing code")
    script = (
        "import { computeSignature } from './shared/webhooks/signing.ts';"
        "const [secret, t, body] = process.argv.slice(1);"
        "process.stdout.write(await computeSignature(secret, Number(t), Buffer.from(body, 'base64')));"
    )
    import base64

    done = subprocess.run(
        [node, "--import", "tsx", "--input-type=module", "-e", script, SECRET, str(timestamp), base64.b64encode(body)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def test_same_mac_as_agent_r():
    assert compute_signature(SECRET, 1_700_000_000, BODY) == node_signature(1_700_000_000, BODY)


def test_verify_accepts_a_fresh_signature_and_rotated_secrets():
    header = signature_header(SECRET, BODY)
    assert verify_signature(SECRET, BODY, header).ok
    t = header.split(",")[0]
    rotated = f"{t},v1={'0' * 64},{header.split(',')[1]}"
    assert verify_signature(SECRET, BODY, rotated).ok


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing x-agent-r-signature header"),
        ("v1=abc", "malformed"),
        ("t=1,t=2,v1=" + "0" * 64, "malformed"),
        ("t=1000,v1=" + "0" * 64, "away from now"),
    ],
)
def test_verify_refuses(header, message):
    verdict = verify_signature(SECRET, BODY, header)
    assert not verdict.ok and message in verdict.message


def test_verify_refuses_another_body_or_secret():
    header = signature_header(SECRET, BODY)
    assert verify_signature(SECRET, BODY + b" ", header).message == "signature does not match the body"
    assert not verify_signature("another-secret-0123456", BODY, header).ok
