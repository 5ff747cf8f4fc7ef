"""Where one execution's time goes: a 10-node chain run one at a time under `pilot up`,
every service exporting its spans to a local OTLP receiver; prints, for the median run,
each span's start and duration relative to the run's first span, by service.

    python -m benchmarks.execution.timeline [RUNS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from .pilot_peer import warm_chain

Span = tuple[str, str, int, int]  # service, name, start ns, end ns


def _receiver(spans: list[Span]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for rs in request.resource_spans:
                names = [a.value.string_value for a in rs.resource.attributes]
                keys = [a.key for a in rs.resource.attributes]
                service = names[keys.index("service.name")] if "service.name" in keys else ""
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        start, end = s.start_time_unix_nano, s.end_time_unix_nano
                        spans.append((service, s.name, start, end))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def main(runs: int) -> None:
    spans: list[Span] = []
    server = _receiver(spans)
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="pilot-timeline-") as tmp:
        async with warm_chain(Path(tmp), {"PILOT_OTLP_ENDPOINT": endpoint}) as (system, wf):
            walls: list[tuple[float, str, int, int]] = []
            for i in range(runs):
                began = time.time_ns()
                (eid,) = await system.submit(wf, [{"k": i}])
                (done,) = await system.wait([eid], 60)
                walls.append((done.finished - done.submitted, eid, began, time.time_ns()))
            await asyncio.sleep(8)  # batch span processors export every 5 s
    walls.sort()
    print("walls ms:", [round(w[0] * 1000, 1) for w in walls])
    wall, eid, began, ended = walls[len(walls) // 2]
    mine = sorted((s for s in spans if began <= s[2] <= ended), key=lambda s: s[2])
    t0 = began
    print(f"median run {eid}: {wall * 1000:.1f} ms, {len(mine)} spans")
    for service, name, start, end in mine:
        print(f"{(start - t0) / 1e6:8.2f} +{(end - start) / 1e6:7.2f}  {service:22s} {name}")
    per: dict[str, float] = defaultdict(float)
    for service, name, start, end in mine:
        per[f"{service} {name.split(' ')[0]}"] += (end - start) / 1e6
    print("--- total span time by service/name ---")
    for key, ms in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"{ms:8.2f} {key}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
