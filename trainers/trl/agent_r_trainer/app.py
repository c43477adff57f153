"""The companion's HTTP server (127.0.0.1 only):

  POST /webhook              agent-r's signed dataset.ready delivery (202; 401 bad signature)
  GET  /jobs                 the jobs and their state
  GET  /health               {"ok": true}
  GET  /v1/models            the served checkpoints
  POST /v1/chat/completions  OpenAI chat completions (n, temperature, max_tokens, stop, seed)
  POST /tokenize             vLLM-style token count of a prompt or of chat messages
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .jobs import Companion
from .serve import ModelRegistry, RequestError
from .signing import SIGNATURE_HEADER, verify_signature

MAX_BODY = 16 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    server_version = "agent-r-trainer/1"
    companion: Companion
    registry: ModelRegistry

    def log_message(self, format: str, *args) -> None:  # quiet: one line per webhook only
        pass

    def _send(self, status: int, body: object | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        self._send(status, {"error": {"message": message, "type": kind, "code": status}})

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            raise RequestError(413, "body too large")
        return self.rfile.read(length)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/health":
            self._send(200, {"ok": True})
        elif path in ("/v1/models", "/models"):
            self._send(200, self.registry.models_body())
        elif path in ("/jobs", "/"):
            self._send(200, {"jobs": self.companion.jobs(), "rejected": self.companion.rejected})
        else:
            self._error(404, f"no route GET {path}")

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        try:
            raw = self._body()
            if path == "/webhook":
                self._webhook(raw)
                return
            try:
                body = json.loads(raw or b"null")
            except json.JSONDecodeError:
                raise RequestError(400, "the body is not JSON") from None
            if not isinstance(body, dict):
                raise RequestError(400, "the body must be a JSON object")
            if path in ("/v1/chat/completions", "/chat/completions"):
                self._send(200, self.registry.chat(body))
            elif path in ("/tokenize", "/v1/tokenize"):
                self._send(200, self.registry.tokenize(body))
            else:
                self._error(404, f"no route POST {path}")
        except RequestError as error:
            self._error(error.status, str(error), error.kind)

    def _webhook(self, raw: bytes) -> None:
        companion = self.companion
        verdict = verify_signature(companion.config.secret, raw, self.headers.get(SIGNATURE_HEADER))
        if not verdict.ok:
            companion.rejected += 1
            self._error(401, verdict.message, "invalid_signature")
            return
        try:
            delivery = json.loads(raw)
        except json.JSONDecodeError:
            companion.rejected += 1
            self._error(400, "the delivery is not JSON")
            return
        if not isinstance(delivery, dict) or delivery.get("event") != "dataset.ready":
            self._send(204)  # another event: nothing to do
            return
        data, delivery_id = delivery.get("data"), delivery.get("id")
        problem = payload_problem(data)
        if problem or not isinstance(delivery_id, str) or not delivery_id:
            companion.rejected += 1
            self._error(400, f"not an agent-r iteration dataset: {problem or 'the delivery has no id'}")
            return
        accepted = companion.accept(delivery_id, data)
        self._send(202, {"accepted": accepted, "deliveryId": delivery_id})


def payload_problem(data: object) -> str | None:
    """What is missing from a dataset.ready payload (shared/iterations/schema.ts), or None."""
    if not isinstance(data, dict) or data.get("kind") != "agent-r.iteration.dataset":
        return 'kind must be "agent-r.iteration.dataset"'
    for key, fields in (
        ("loop", ("id", "name")),
        ("iteration", ("id", "index")),
        ("downloads", ("manifest", "datasets")),
        ("callback", ("url",)),
    ):
        part = data.get(key)
        if not isinstance(part, dict) or any(f not in part for f in fields):
            return f"{key} needs {', '.join(fields)}"
    datasets = data["downloads"]["datasets"]
    if not isinstance(datasets, dict) or not all(isinstance(datasets.get(f), str) for f in ("native", "trl")):
        return "downloads.datasets needs the native and trl links"
    if not isinstance(data["iteration"]["index"], int) or data["iteration"]["index"] < 1:
        return "iteration.index must be a positive integer"
    return None


def make_server(port: int, companion: Companion, registry: ModelRegistry) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"companion": companion, "registry": registry})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server
