"""The trained checkpoints as an OpenAI-compatible chat model, with transformers' generate.

One model answers at a time (a lock): the companion is for tests, demos and small models on
CPU; a GPU box serves with --serve-command (vLLM and the like) instead.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path


class RequestError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.kind = kind


@dataclass
class Completion:
    text: str
    finish_reason: str
    completion_tokens: int


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """The text up to the first stop string (excluded), and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def no_blank_start(blank_ids: list[int], prompt_length: int):
    """A logits processor that makes the first generated token a visible one: not the end of the
    answer, not a special or whitespace-only token. agent-r takes a blank completion for an error
    and retries it, and a weak model at temperature 0 would send the same blank answer each time."""
    import torch
    from transformers import LogitsProcessor

    blocked = torch.tensor(blank_ids, dtype=torch.long)

    class NoBlankStart(LogitsProcessor):
        def __call__(self, input_ids, scores):
            if input_ids.shape[1] == prompt_length:
                scores[:, blocked] = -float("inf")
            return scores

    return NoBlankStart()


class LoadedModel:
    def __init__(self, directory: Path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.directory = directory
        self.tokenizer = AutoTokenizer.from_pretrained(directory)
        self.model = AutoModelForCausalLM.from_pretrained(directory, dtype="auto")
        self.model.eval()
        vocabulary = range(len(self.tokenizer))
        self.blank_ids = [i for i in vocabulary if not self.tokenizer.decode([i], skip_special_tokens=True).strip()]
        self.blank_ids = sorted({*self.blank_ids, *self.tokenizer.all_special_ids})

    def prompt_ids(self, messages: list[dict], add_generation_prompt: bool = True) -> list[int]:
        ids = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=add_generation_prompt, tokenize=True
        )
        return list(ids["input_ids"] if hasattr(ids, "keys") else ids)

    def generate(
        self,
        messages: list[dict],
        n: int,
        temperature: float,
        max_tokens: int,
        stop: list[str],
        seed: int | None,
    ) -> tuple[int, list[Completion]]:
        import torch
        from transformers import LogitsProcessorList

        prompt = self.prompt_ids(messages)
        if seed is not None:
            torch.manual_seed(seed)
        sample = temperature > 0
        inputs = torch.tensor([prompt])
        with torch.no_grad():
            output = self.model.generate(
                inputs,
                attention_mask=torch.ones_like(inputs),
                max_new_tokens=max_tokens,
                do_sample=sample,
                temperature=temperature if sample else None,
                top_p=None,
                top_k=None,
                num_return_sequences=n,
                eos_token_id=self.tokenizer.eos_token_id,
                pad_token_id=self.tokenizer.pad_token_id,
                logits_processor=LogitsProcessorList([no_blank_start(self.blank_ids, len(prompt))]),
            )
        completions = []
        for row in output:
            new = row[len(prompt) :].tolist()
            ended = self.tokenizer.eos_token_id in new
            if ended:
                new = new[: new.index(self.tokenizer.eos_token_id)]
            text, stopped = cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True), stop)
            finish = "stop" if ended or stopped else "length"
            completions.append(Completion(text, finish, len(new)))
        return len(prompt), completions


class ModelRegistry:
    """Checkpoints by served name; at most `keep` loaded at once (least recently used leaves)."""

    def __init__(self, max_tokens_cap: int | None, keep: int = 3):
        self.paths: dict[str, Path] = {}
        self.loaded: OrderedDict[str, LoadedModel] = OrderedDict()
        self.max_tokens_cap = max_tokens_cap
        self.keep = keep
        self.lock = threading.Lock()
        self.created = int(time.time())

    def add(self, name: str, directory: Path) -> None:
        with self.lock:
            self.paths[name] = directory

    def names(self) -> list[str]:
        return list(self.paths)

    def _model(self, name: str) -> LoadedModel:
        if name not in self.paths:
            raise RequestError(404, f"The model `{name}` does not exist.", "NotFoundError")
        if name not in self.loaded:
            self.loaded[name] = LoadedModel(self.paths[name])
            while len(self.loaded) > self.keep:
                self.loaded.popitem(last=False)
        self.loaded.move_to_end(name)
        return self.loaded[name]

    def models_body(self) -> dict:
        """Model cards as vLLM writes them, with max_model_len (the context length agent-r reads)."""
        cards = []
        for name, directory in list(self.paths.items()):
            config = json.loads((directory / "config.json").read_text())
            card = {"id": name, "object": "model", "created": self.created, "owned_by": "agent-r-trainer"}
            if isinstance(config.get("max_position_embeddings"), int):
                card["max_model_len"] = config["max_position_embeddings"]
            cards.append(card)
        return {"object": "list", "data": cards}

    def chat(self, body: dict) -> dict:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError(400, "messages: a non-empty list is required")
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("content"), str) or m.get("role") not in (
                "system",
                "user",
                "assistant",
            ):
                raise RequestError(400, "messages: each needs a role (system, user, assistant) and text content")
        def given(key: str, default: object) -> object:
            return default if body.get(key) is None else body[key]

        n = given("n", 1)
        temperature = given("temperature", 1.0)
        requested = given("max_tokens", given("max_completion_tokens", 256))
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else stop
        seed = body.get("seed")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 16:
            raise RequestError(400, "n must be an integer from 1 to 16")
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise RequestError(400, "temperature must be a number from 0 to 2")
        if not isinstance(requested, int) or requested < 1:
            raise RequestError(400, "max_tokens must be a positive integer")
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop) or len(stop) > 4:
            raise RequestError(400, "stop must be a string or a list of up to 4 strings")
        if seed is not None and not isinstance(seed, int):
            raise RequestError(400, "seed must be an integer")
        max_tokens = min(requested, self.max_tokens_cap) if self.max_tokens_cap else requested
        name = body.get("model")
        with self.lock:
            model = self._model(name if isinstance(name, str) else "")
            prompt_tokens, completions = model.generate(
                [{"role": m["role"], "content": m["content"]} for m in messages],
                n,
                float(temperature),
                max_tokens,
                stop,
                seed,
            )
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": name,
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": c.text},
                    "finish_reason": c.finish_reason,
                }
                for i, c in enumerate(completions)
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": sum(c.completion_tokens for c in completions),
                "total_tokens": prompt_tokens + sum(c.completion_tokens for c in completions),
            },
        }

    def tokenize(self, body: dict) -> dict:
        """vLLM's /tokenize: {model, prompt} or {model, messages[, add_generation_prompt]}."""
        name = body.get("model")
        with self.lock:
            model = self._model(name if isinstance(name, str) else "")
            if isinstance(body.get("messages"), list):
                ids = model.prompt_ids(body["messages"], bool(body.get("add_generation_prompt", True)))
            elif isinstance(body.get("prompt"), str):
                ids = model.tokenizer(body["prompt"], add_special_tokens=body.get("add_special_tokens", True))[
                    "input_ids"
                ]
            else:
                raise RequestError(400, "give prompt (text) or messages")
        return {"count": len(ids), "max_model_len": model.model.config.max_position_embeddings, "tokens": ids}
