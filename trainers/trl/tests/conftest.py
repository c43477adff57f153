"""Shared fixtures: agent-r records written by agent-r's own TypeScript exporters, and a tiny
base model built on them (once per session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TRAINER_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = TRAINER_DIR.parents[1]
sys.path.insert(0, str(TRAINER_DIR))

from agent_r_trainer.train import read_jsonl  # noqa: E402


@pytest.fixture(scope="session")
def records(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    """(TRL rows, native records). AGENT_R_TRL_RECORDS=DIR with trl.jsonl and native.jsonl (e.g.
    `agent-r export RUN --format trl` / `--format native`) checks your own data instead."""
    given = os.environ.get("AGENT_R_TRL_RECORDS")
    if given:
        out = Path(given)
    else:
        node = shutil.which("node")
        if not node:
            pytest.skip("node is needed to write the test records with agent-r's exporters")
        out = tmp_path_factory.mktemp("records")
        subprocess.run(
            [node, "--import", "tsx", "trainers/trl/tests/make_records.ts", str(out)],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    return read_jsonl((out / "trl.jsonl").read_text()), read_jsonl((out / "native.jsonl").read_text())


@pytest.fixture(scope="session")
def tiny_base(records, tmp_path_factory) -> Path:
    from agent_r_trainer.tiny import build_tiny_base

    return build_tiny_base(records[0], tmp_path_factory.mktemp("tiny-base"))
