"""The trainer protocol: a verified dataset.ready delivery becomes a job (recorded on disk before
it is acknowledged, so a restarted companion finishes it); one job at a time downloads the data
through the signed links, trains from the loop's previous checkpoint (or the base model), serves
the new checkpoint and calls back, signed, with its endpoint."""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .serve import ModelRegistry
from .serving_command import ServeCommand
from .signing import SIGNATURE_HEADER, signature_header
from .tiny import build_tiny_base
from .train import HyperParams, hyper_params_dict, read_jsonl, train_iteration, write_checkpoint_manifest

CALLBACK_ATTEMPTS = 5


def download(url: str, timeout: float = 120) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (agent-r's signed links)
        return response.read()


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80]


@dataclass
class CompanionConfig:
    secret: str
    work_dir: Path
    hyper_params: HyperParams
    tiny: bool
    base_model: Path | None
    serve_command: str | None = None
    serve_timeout: float = 600
    public_base: str = ""  # http://127.0.0.1:PORT, set once the server listens
    log: list[str] = field(default_factory=list)


class Companion:
    def __init__(self, config: CompanionConfig, registry: ModelRegistry):
        self.config = config
        self.registry = registry
        self.jobs_dir = config.work_dir / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.queue: queue.Queue[str] = queue.Queue()
        self.lock = threading.Lock()
        self.commands: list[ServeCommand] = []
        self.rejected = 0
        threading.Thread(target=self._worker, name="trainer-jobs", daemon=True).start()

    # -- job records ------------------------------------------------------------------------------

    def _job_path(self, delivery_id: str) -> Path:
        return self.jobs_dir / f"{safe_name(delivery_id)}.json"

    def _read(self, delivery_id: str) -> dict:
        return json.loads(self._job_path(delivery_id).read_text())

    def _write(self, job: dict) -> None:
        path = self._job_path(job["deliveryId"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job, indent=2))
        tmp.replace(path)

    def _update(self, delivery_id: str, **changes) -> dict:
        with self.lock:
            job = {**self._read(delivery_id), **changes}
            self._write(job)
            return job

    def jobs(self) -> list[dict]:
        out = []
        for path in sorted(self.jobs_dir.glob("*.json"), key=lambda p: p.stat().st_mtime):
            job = json.loads(path.read_text())
            job.pop("payload", None)
            out.append(job)
        return out

    def accept(self, delivery_id: str, payload: dict) -> bool:
        """Records the job (before the delivery is acknowledged) and queues it. False: seen before."""
        with self.lock:
            if self._job_path(delivery_id).exists():
                return False
            self._write({"deliveryId": delivery_id, "status": "queued", "payload": payload, "error": None})
        self.queue.put(delivery_id)
        return True

    def resume(self) -> None:
        """Re-serves every finished checkpoint and re-queues every unfinished job (after a restart)."""
        for job in self.jobs():
            if job.get("status") == "done" and job.get("checkpoint") and not self.config.serve_command:
                self.registry.add(job["model"], Path(job["checkpoint"]))
        for job in self.jobs():
            if job.get("status") in ("queued", "training", "calling back"):
                self.queue.put(job["deliveryId"])

    # -- the worker -------------------------------------------------------------------------------

    def _worker(self) -> None:
        while True:
            delivery_id = self.queue.get()
            try:
                self._run(delivery_id)
            except Exception as error:  # the job fails with the reason; the companion goes on
                traceback.print_exc()
                self._update(delivery_id, status="failed", error=f"{type(error).__name__}: {error}")

    def _checkpoint_of(self, loop_id: str, index: int) -> Path | None:
        for job in self.jobs():
            if job.get("loopId") == loop_id and job.get("index") == index and job.get("status") == "done":
                return Path(job["checkpoint"])
        return None

    def _run(self, delivery_id: str) -> None:
        job = self._read(delivery_id)
        if job["status"] in ("done", "failed"):
            return
        payload = job["payload"]
        loop, iteration = payload["loop"], payload["iteration"]
        index = iteration["index"]
        loop_dir = self.config.work_dir / "loops" / safe_name(loop["id"])
        out_dir = loop_dir / f"it{index}"
        model_name = f"{'tiny' if self.config.tiny else 'agent-r'}-{safe_name(loop['id'])}-it{index}"
        trained = job["status"] == "calling back" and (out_dir / "agent-r-checkpoint.json").exists()
        if not trained:
            self._update(delivery_id, status="training", loopId=loop["id"], index=index, model=model_name)
            manifest_bytes = download(payload["downloads"]["manifest"])
            native_bytes = download(payload["downloads"]["datasets"]["native"])
            trl_bytes = download(payload["downloads"]["datasets"]["trl"])
            card = self._data_card(payload)
            natives, trl_rows = read_jsonl(native_bytes.decode()), read_jsonl(trl_bytes.decode())
            if not trl_rows:
                raise RuntimeError("no revision data: the dataset has no record with a trained turn")
            parent = self._checkpoint_of(loop["id"], index - 1) if index > 1 else None
            if parent is not None:
                base = parent
            elif self.config.tiny:
                base = build_tiny_base(trl_rows, loop_dir / "tiny-base", self.config.hyper_params.seed)
            else:
                base = self.config.base_model
            hp = self.config.hyper_params
            result = train_iteration(base, trl_rows, natives, out_dir, hp, index)
            write_checkpoint_manifest(
                out_dir,
                {
                    "model": model_name,
                    "loop": loop,
                    "iteration": iteration,
                    "base": str(base),
                    "continuesFrom": str(parent) if parent else None,
                    "dataset": {
                        "run": payload.get("run"),
                        "manifest": json.loads(manifest_bytes),
                        "files": {
                            "trl": {"records": len(trl_rows), "sha256": hashlib.sha256(trl_bytes).hexdigest()},
                            "native": {"records": len(natives), "sha256": hashlib.sha256(native_bytes).hexdigest()},
                        },
                    },
                    "dataCard": card,
                    "hyperParams": hyper_params_dict(hp, index),
                    "trl": {"completion_only_loss": True, "assistant_only_loss": True, "format": "prompt-completion"},
                    "mask": result.mask.as_dict(),
                    "train": {"steps": result.steps, "loss": result.train_loss, "seconds": round(result.seconds, 2)},
                    "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
            )
            self._update(
                delivery_id,
                status="calling back",
                checkpoint=str(out_dir),
                continuesFrom=str(parent) if parent else None,
                examples=len(trl_rows),
                mask=result.mask.as_dict(),
                train={"steps": result.steps, "loss": result.train_loss, "seconds": round(result.seconds, 2)},
            )
        job = self._read(delivery_id)
        endpoint = self._serve(model_name, out_dir)
        notes = {
            "trainer": "trainers/trl",
            "checkpoint": str(out_dir),
            "continuesFrom": job.get("continuesFrom"),
            "examples": job.get("examples"),
            "mask": job.get("mask"),
            "train": job.get("train"),
        }
        status = self._call_back(payload["callback"]["url"], {"endpoint": endpoint, "notes": notes})
        self._update(delivery_id, status="done", endpoint=endpoint, callbackStatus=status)

    def _data_card(self, payload: dict) -> object | None:
        """The data card, when agent-r sends one (inline, or as a download link)."""
        for place in (payload.get("downloads", {}), payload):
            for key, value in place.items():
                if "card" not in key.lower():
                    continue
                if isinstance(value, str) and value.startswith(("http://", "https://")):
                    return json.loads(download(value))
                if isinstance(value, dict):
                    return value
        return None

    def _serve(self, model_name: str, checkpoint: Path) -> dict:
        if self.config.serve_command:
            command = ServeCommand(self.config.serve_command, checkpoint, model_name)
            self.commands.append(command)
            return command.start(self.config.serve_timeout)
        self.registry.add(model_name, checkpoint)
        return {"baseUrl": f"{self.config.public_base}/v1", "model": model_name, "supportsN": True}

    def _call_back(self, url: str, body: dict) -> int:
        raw = json.dumps(body).encode()
        last = ""
        for attempt in range(CALLBACK_ATTEMPTS):
            request = urllib.request.Request(
                url,
                data=raw,
                method="POST",
                headers={
                    "content-type": "application/json",
                    SIGNATURE_HEADER: signature_header(self.config.secret, raw),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    return response.status
            except urllib.error.HTTPError as error:
                last = f"{error.code} {error.read()[:300].decode(errors='replace')}"
                if 400 <= error.code < 500 and error.code not in (408, 429):
                    break
            except OSError as error:
                last = str(error)
            time.sleep(min(30, 2**attempt))
        raise RuntimeError(f"callback {url} failed: {last}")

    def stop(self) -> None:
        for command in self.commands:
            command.stop()
