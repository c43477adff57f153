"""python -m agent_r_trainer.serve_checkpoint DIR --port P [--model NAME] [--max-tokens-cap N]

One checkpoint as an OpenAI-compatible server on 127.0.0.1, without the trainer protocol: what
--serve-command can run where no vLLM is at hand (and what its test runs)."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
from pathlib import Path

from .app import make_server
from .jobs import Companion, CompanionConfig
from .serve import ModelRegistry
from .train import HyperParams


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m agent_r_trainer.serve_checkpoint")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", help="served name (default: the directory's name)")
    p.add_argument("--max-tokens-cap", type=int)
    args = p.parse_args(argv)
    if not (args.checkpoint / "config.json").exists():
        p.error(f"{args.checkpoint}: no config.json (not a model directory)")
    registry = ModelRegistry(args.max_tokens_cap)
    registry.add(args.model or args.checkpoint.name, args.checkpoint)
    # No secret: the webhook refuses every delivery (nothing verifies against a random key).
    config = CompanionConfig(
        secret=secrets.token_hex(32),
        work_dir=args.checkpoint / ".serve-state",
        hyper_params=HyperParams(),
        tiny=False,
        base_model=None,
    )
    server = make_server(args.port, Companion(config, registry), registry)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
