"""--serve-command: a checkpoint served by a command the user gives (vLLM, SGLang, TGI, ...).

The command is split like a shell line and each part formatted with {checkpoint}, {port} (a free
port on 127.0.0.1 picked for it) and {model} (the served name), e.g.
    vllm serve {checkpoint} --port {port} --served-model-name {model}
The endpoint handed to agent-r is http://127.0.0.1:{port}/v1 with the first model its /v1/models
lists. Every command runs until the companion stops (SIGTERM to its process group).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeCommand:
    def __init__(self, template: str, checkpoint: Path, model: str):
        self.port = free_port()
        self.argv = [
            part.format(checkpoint=str(checkpoint), port=self.port, model=model) for part in shlex.split(template)
        ]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float) -> dict:
        self.process = subprocess.Popen(self.argv, start_new_session=True)  # noqa: S603 (the user's command)
        base = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve command exited with {self.process.returncode}: {shlex.join(self.argv)}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=5) as response:  # noqa: S310
                    models = json.loads(response.read())["data"]
                    if models:
                        return {"baseUrl": base, "model": models[0]["id"], "supportsN": True}
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"serve command did not answer on {base}/models within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
