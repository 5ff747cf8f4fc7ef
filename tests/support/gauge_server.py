"""A local HTTP server that answers `/n/<k>` with `{"n": k}` after a short delay and
measures how many requests it serves at once; `/fail/<key>` fails a scripted number of
times per key first (HTTP 503), `/down` always fails.

Like payment APIs, it honours `Idempotency-Key`: a request repeating a key it has seen
for a path is answered again but not applied again. `hits` counts requests, `effects`
counts what was applied."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pilot.embedded import free_port


@dataclass
class GaugeServer:
    delay_s: float = 0.02
    failures_before_success: int = 0
    down: bool = False  # `/maybe/...` fails while this is set
    port: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)
    _seen_keys: set[tuple[str, str]] = field(default_factory=set)
    in_flight: int = 0
    max_in_flight: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    @contextmanager
    def serve(self) -> Iterator[GaugeServer]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                key = self.headers.get("Idempotency-Key")
                with outer._lock:
                    outer.hits[path] += 1
                    count = outer.hits[path]
                    if key is None or (path, key) not in outer._seen_keys:
                        outer.effects[path] += 1
                        if key is not None:
                            outer._seen_keys.add((path, key))
                    outer.times.setdefault(path, []).append(time.monotonic())
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    time.sleep(outer.delay_s)
                    status, body = 200, {"path": path}
                    parts = path.strip("/").split("/")
                    if parts[0] == "n" and len(parts) > 1:
                        body = {"n": int(parts[1])}
                    elif parts[0] == "fail" and count <= outer.failures_before_success:
                        status, body = 503, {"error": "flaky"}
                    elif parts[0] == "down" or (parts[0] == "maybe" and outer.down):
                        status, body = 503, {"error": "down"}
                finally:
                    with outer._lock:
                        outer.in_flight -= 1
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the caller died (a killed runner): nothing to answer
                    self.close_connection = True

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = self.port or free_port()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
