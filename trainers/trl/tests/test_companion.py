"""Training across iterations (k+1 continues from k's checkpoint), the OpenAI-compatible server
of the checkpoints, and the webhook endpoint's refusals, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from agent_r_trainer.app import make_server
from agent_r_trainer.jobs import Companion, CompanionConfig
from agent_r_trainer.serve import ModelRegistry
from agent_r_trainer.signing import SIGNATURE_HEADER, signature_header
from agent_r_trainer.train import TINY_HYPER_PARAMS, HyperParams, train_iteration

SECRET = "companion-secret-0123456789"


def weights(directory: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(directory / "model.safetensors"))


@pytest.fixture(scope="module")
def checkpoints(records, tiny_base, tmp_path_factory):
    trl_rows, natives = records
    out = tmp_path_factory.mktemp("loop")
    hp = HyperParams(**{**vars(TINY_HYPER_PARAMS), "epochs_first": 2, "epochs_next": 1})
    first = train_iteration(tiny_base, trl_rows, natives, out / "it1", hp, 1)
    return first, hp, out


def test_iteration_two_continues_from_iteration_one(records, tiny_base, checkpoints):
    trl_rows, natives = records
    first, hp, out = checkpoints
    assert first.mask.ok and first.epochs == 2
    assert first.steps == 2 * -(-len(trl_rows) // hp.batch_size)  # 2 epochs of ceil(n / batch) steps
    w0, w1 = weights(tiny_base), weights(first.checkpoint)
    assert any(not w0[k].equal(w1[k]) for k in w0), "training changed the weights"
    second = train_iteration(first.checkpoint, trl_rows, natives, out / "it2", hp, 2)
    assert second.epochs == 1 and second.steps == -(-len(trl_rows) // hp.batch_size)
    w2 = weights(second.checkpoint)
    # Iteration 2 started from iteration 1's weights: one epoch moves them less than the distance
    # from the random base.
    distance = lambda a, b: sum(float((a[k] - b[k]).abs().sum()) for k in a)  # noqa: E731
    assert 0 < distance(w1, w2) < distance(w0, w2)
    assert (second.checkpoint / "tokenizer.json").read_text() == (tiny_base / "tokenizer.json").read_text()


def post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, dict | None]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def server(checkpoints, tmp_path_factory):
    first = checkpoints[0]
    registry = ModelRegistry(max_tokens_cap=12)
    registry.add("tiny-it1", first.checkpoint)
    config = CompanionConfig(
        secret=SECRET, work_dir=tmp_path_factory.mktemp("work"), hyper_params=TINY_HYPER_PARAMS, tiny=True, base_model=None
    )
    companion = Companion(config, registry)
    httpd = make_server(0, companion, registry)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", companion
    httpd.shutdown()


def test_openai_compatible_chat(server, records):
    base, _ = server
    with urllib.request.urlopen(f"{base}/v1/models", timeout=10) as response:
        cards = json.loads(response.read())["data"]
    assert [(m["id"], m["max_model_len"]) for m in cards] == [("tiny-it1", 16384)]
    prompt = records[0][0]["prompt"]
    body = {"model": "tiny-it1", "messages": prompt, "n": 3, "temperature": 1.0, "max_tokens": 500, "seed": 7}
    status, out = post(f"{base}/v1/chat/completions", json.dumps(body).encode())
    assert status == 200, out
    assert [c["index"] for c in out["choices"]] == [0, 1, 2]
    assert all(c["finish_reason"] in ("stop", "length") for c in out["choices"])
    assert out["usage"]["completion_tokens"] <= 3 * 12  # the tiny cap on max_tokens
    status, again = post(f"{base}/v1/chat/completions", json.dumps(body).encode())
    assert [c["message"] for c in again["choices"]] == [c["message"] for c in out["choices"]], "seeded"
    greedy = {**body, "n": 1, "temperature": 0}
    text = post(f"{base}/v1/chat/completions", json.dumps(greedy).encode())[1]["choices"][0]["message"]["content"]
    assert text.strip(), "never a blank completion (agent-r retries those), even from a weak model"
    if len(text) > 2:
        stop = text[1:3]
        cut = post(f"{base}/v1/chat/completions", json.dumps({**greedy, "stop": [stop]}).encode())[1]
        assert cut["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": text[: text.find(stop)]}, "finish_reason": "stop"}
    status, tokens = post(f"{base}/tokenize", json.dumps({"model": "tiny-it1", "messages": prompt}).encode())
    assert status == 200 and tokens["count"] == len(tokens["tokens"]) == out["usage"]["prompt_tokens"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "nope", "messages": [{"role": "user", "content": "hi"}]}, 404, "does not exist"),
        ({"model": "tiny-it1", "messages": []}, 400, "messages"),
        ({"model": "tiny-it1", "messages": [{"role": "user", "content": "hi"}], "n": 0}, 400, "n must"),
        ({"model": "tiny-it1", "messages": [{"role": "user", "content": "hi"}], "temperature": 9}, 400, "temperature"),
    ],
)
def test_chat_refuses_bad_requests(server, body, status, message):
    got, out = post(f"{server[0]}/v1/chat/completions", json.dumps(body).encode())
    assert got == status and message in out["error"]["message"]


def test_webhook_refusals(server):
    base, companion = server
    body = json.dumps({"id": "dlv_x", "event": "dataset.ready", "data": {"kind": "something else"}}).encode()
    before = companion.rejected
    assert post(f"{base}/webhook", body)[0] == 401
    status, out = post(f"{base}/webhook", body, {SIGNATURE_HEADER: signature_header("wrong-secret-0123456789", body)})
    assert status == 401 and out["error"]["message"] == "signature does not match the body"
    status, out = post(f"{base}/webhook", body, {SIGNATURE_HEADER: signature_header(SECRET, body)})
    assert status == 400 and "not an agent-r iteration dataset" in out["error"]["message"]
    other = json.dumps({"id": "dlv_y", "event": "run.completed", "data": {}}).encode()
    assert post(f"{base}/webhook", other, {SIGNATURE_HEADER: signature_header(SECRET, other)})[0] == 204
    assert companion.rejected == before + 3
    assert companion.jobs() == []


def test_serve_command_serves_a_checkpoint_and_stops(checkpoints, monkeypatch):
    import sys

    from agent_r_trainer.serving_command import ServeCommand
    from conftest import TRAINER_DIR

    monkeypatch.setenv("PYTHONPATH", str(TRAINER_DIR))

    first = checkpoints[0]
    template = f"{sys.executable} -m agent_r_trainer.serve_checkpoint {{checkpoint}} --port {{port}} --model {{model}}"
    command = ServeCommand(template, first.checkpoint, "served-it1")
    endpoint = command.start(timeout=180)
    try:
        assert endpoint == {"baseUrl": f"http://127.0.0.1:{command.port}/v1", "model": "served-it1", "supportsN": True}
        body = {"model": "served-it1", "messages": [{"role": "user", "content": "Goal: craft 1 stick."}], "max_tokens": 4}
        status, out = post(f"{endpoint['baseUrl']}/chat/completions", json.dumps(body).encode())
        assert status == 200 and out["usage"]["completion_tokens"] <= 4
    finally:
        command.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{endpoint['baseUrl']}/models", timeout=5)
