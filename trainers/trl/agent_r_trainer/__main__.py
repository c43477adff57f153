"""python -m agent_r_trainer (--tiny | --base-model DIR) --secret S [--port P] [options]

Prints one line TRAINER_URL=http://127.0.0.1:PORT/webhook once the server answers; SIGTERM or
SIGINT stops it, and every --serve-command it started.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
import threading
import urllib.request
from pathlib import Path

from .train import TINY_HYPER_PARAMS, HyperParams

TINY_MAX_TOKENS = 48


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="npm run trainer --", description=__doc__.split("\n\n")[0])
    base = p.add_mutually_exclusive_group(required=True)
    base.add_argument("--tiny", action="store_true", help="a 2-layer model and tokenizer built locally")
    base.add_argument("--base-model", type=Path, help="a local Hugging Face model directory")
    p.add_argument("--secret", required=True, help="the loop's trainer secret (16+ characters)")
    p.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (default: a free one)")
    p.add_argument("--work-dir", type=Path, default=Path(".agent-r/trainer"), help="checkpoints and jobs")
    p.add_argument("--serve-command", help="serve each checkpoint with this command ({checkpoint} {port} {model})")
    p.add_argument("--serve-timeout", type=float, default=600, help="seconds for the serve command to answer")
    p.add_argument("--lr", type=float, help="learning rate (default 2e-5; --tiny 1e-3)")
    p.add_argument("--scheduler", help="lr scheduler (default cosine)")
    p.add_argument("--warmup-ratio", type=float, help="warm-up share of the steps (default 0.03)")
    p.add_argument("--epochs-first", type=float, help="epochs of iteration 1 (default 3)")
    p.add_argument("--epochs-next", type=float, help="epochs of later iterations (default 1)")
    p.add_argument("--batch-size", type=int, help="per-device batch size (default 1; --tiny 4)")
    p.add_argument("--grad-accum", type=int, help="gradient accumulation steps (default 1)")
    p.add_argument("--max-length", type=int, help="truncate examples to N tokens (default: never)")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--seed", type=int, help="training seed (default 0)")
    p.add_argument("--max-tokens-cap", type=int, help=f"cap on max_tokens when serving (--tiny: {TINY_MAX_TOKENS})")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args(argv)
    if len(args.secret) < 16:
        p.error("--secret needs 16+ characters")
    if args.base_model and not (args.base_model / "config.json").exists():
        p.error(f"--base-model {args.base_model}: no config.json there (a Hugging Face model directory)")
    return args


def hyper_params(args: argparse.Namespace) -> HyperParams:
    hp = HyperParams(**vars(TINY_HYPER_PARAMS)) if args.tiny else HyperParams()
    for attr, value in (
        ("learning_rate", args.lr),
        ("lr_scheduler_type", args.scheduler),
        ("warmup_ratio", args.warmup_ratio),
        ("epochs_first", args.epochs_first),
        ("epochs_next", args.epochs_next),
        ("batch_size", args.batch_size),
        ("grad_accum", args.grad_accum),
        ("max_length", args.max_length),
        ("seed", args.seed),
    ):
        if value is not None:
            setattr(hp, attr, value)
    hp.gradient_checkpointing = args.gradient_checkpointing
    return hp


def die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent (the npm launcher) dies."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def warm_up() -> None:
    from trl import SFTTrainer  # noqa: F401


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    die_with_parent()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from .app import make_server
    from .jobs import Companion, CompanionConfig
    from .serve import ModelRegistry

    cap = args.max_tokens_cap if args.max_tokens_cap is not None else (TINY_MAX_TOKENS if args.tiny else None)
    registry = ModelRegistry(cap)
    config = CompanionConfig(
        secret=args.secret,
        work_dir=args.work_dir.resolve(),
        hyper_params=hyper_params(args),
        tiny=args.tiny,
        base_model=args.base_model.resolve() if args.base_model else None,
        serve_command=args.serve_command,
        serve_timeout=args.serve_timeout,
    )
    companion = Companion(config, registry)
    server = make_server(args.port, companion, registry)
    port = server.server_address[1]
    config.public_base = f"http://127.0.0.1:{port}"
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()

    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with urllib.request.urlopen(f"{config.public_base}/health", timeout=30) as response:  # noqa: S310
        json.loads(response.read())
    companion.resume()
    print(f"TRAINER_URL={config.public_base}/webhook", flush=True)
    # TRL and transformers take a while to import: warm up while agent-r builds the first dataset.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    while not stopping.wait(3600):
        pass
    server.shutdown()
    companion.stop()
    sys.stdout.flush()
    os._exit(0)  # the job thread may be mid-training: it is abandoned (the job resumes on restart)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
