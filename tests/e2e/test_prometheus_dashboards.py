"""Every PromQL expression of every Grafana dashboard returns data from a real Prometheus
scraping `pilot up` through the targets file it writes.

Debian's prometheus (`make prometheus`, which CI runs) scrapes the five services every
second; the test runs completed and failing executions (LLM nodes against a fake
OpenAI-compatible server, so tokens and cost are real numbers), a retry and a generation,
then asks Prometheus for each panel's expression.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from pilot.embedded import free_port
from tests.e2e.conftest import PilotUp, start_pilot_up
from tests.support.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.e2e

PROMETHEUS = Path("/usr/bin/prometheus")
DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
SERVICES = {"gateway", "planner", "generator", "executor", "runners"}
MODEL = "gpt-4o-mini"
# Grafana's variables, as Grafana would fill them for a short range and a 1 s scrape.
VARIABLES = {"$__rate_interval": "30s", "$__range": "5m", "$__interval": "5s"}
SCRAPE_DEADLINE_S = 90


def dashboard_expressions() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) of every target of every panel, rows included."""
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        panels = list(dashboard["panels"])
        while panels:
            panel = panels.pop(0)
            panels.extend(panel.get("panels", []))
            for target in panel.get("targets", []):
                found.append((dashboard["title"], panel["title"], target["expr"]))
    return found


def substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    leftover = re.findall(r"\$\w+", expr)
    assert not leftover, f"dashboard variable(s) {leftover} have no test value: {expr}"
    return expr


@dataclass
class Prometheus:
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{expr}: {r.text}"
        return body["data"]["result"]  # type: ignore[no-any-return]


def start_prometheus(targets_file: Path, workdir: Path) -> Prometheus:
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "pilot",
                "scrape_timeout": "1s",
                "file_sd_configs": [{"files": [str(targets_file)], "refresh_interval": "1s"}],
            }
        ],
    }
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    log_path = workdir / "prometheus.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return Prometheus(url, proc, log_path)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"prometheus not ready:\n{log_path.read_text()[-3000:]}")


@dataclass
class Observed:
    up: PilotUp
    prometheus: Prometheus


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    if not PROMETHEUS.exists():
        pytest.skip(f"{PROMETHEUS} is missing: `make prometheus` installs it (CI does)")
    root = tmp_path_factory.mktemp("pilot-prometheus")
    llm = FakeOpenAI(
        responder=lambda body: Reply(
            content="a short answer", prompt_tokens=20, completion_tokens=8
        )
    )
    with llm.serve():
        up = start_pilot_up(
            root / "data",
            extra_env={
                "PILOT_LLM_BASE_URL": llm.base_url,
                "PILOT_LLM_API_KEY": "sk-test",
                "PILOT_LLM_MODEL": MODEL,
                "PILOT_PLANNER_STRATEGY": "offline",
            },
        )
        try:
            prometheus = start_prometheus(root / "data" / "prometheus" / "targets.json", root)
            try:
                yield Observed(up, prometheus)
            finally:
                prometheus.proc.terminate()
                try:
                    prometheus.proc.wait(30)
                except subprocess.TimeoutExpired:
                    prometheus.proc.kill()
                    prometheus.proc.wait(10)
        finally:
            up.stop()


def _workflow(name: str, llm_config: dict[str, Any], retry: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": [
            {"id": "input_1", "type": "input"},
            {"id": "llm_1", "type": "llm", "config": llm_config, "retry": retry},
            {"id": "output_1", "type": "output", "config": {"value": "{{ nodes.llm_1.output }}"}},
        ],
        "connections": [
            {"id": "c1", "source": "input_1", "target": "llm_1"},
            {"id": "c2", "source": "llm_1", "target": "output_1"},
        ],
    }


ANSWERS = _workflow(
    "answers", {"model": MODEL, "prompt": "Answer {{ input.q }}"}, {"max_attempts": 1}
)
# The fake model answers prose, which the json_schema rejects: a retryable failure, one
# retry, then the node and its execution fail.
BROKEN = _workflow(
    "broken",
    {
        "model": MODEL,
        "prompt": "JSON for {{ input.q }}",
        "json_schema": {"type": "object", "required": ["a"]},
    },
    {"max_attempts": 2, "initial_delay_ms": 10, "max_delay_ms": 50, "jitter": False},
)


async def _run(client: httpx.AsyncClient, workflow: dict[str, Any], runs: int) -> set[str]:
    r = await client.post("/api/workflows", json=workflow)
    assert r.status_code == 201, r.text
    wf = r.json()["id"]
    ids = []
    for i in range(runs):
        r = await client.post(f"/api/workflows/{wf}/execute", json={"input_data": {"q": i}})
        assert r.status_code == 202, r.text
        ids.append(r.json()["execution_id"])
    statuses = set()
    deadline = time.monotonic() + 60
    for eid in ids:
        while True:
            r = await client.get(f"/api/executions/{eid}")
            assert r.status_code == 200, r.text
            if r.json()["status"] in ("completed", "failed", "cancelled"):
                statuses.add(r.json()["status"])
                break
            assert time.monotonic() < deadline, f"execution {eid} did not finish"
            await asyncio.sleep(0.1)
    return statuses


async def _exercise(up: PilotUp) -> None:
    async with up.client() as client:
        assert await _run(client, ANSWERS, 3) == {"completed"}
        assert await _run(client, BROKEN, 2) == {"failed"}
        r = await client.post(
            "/api/workflows/generate",
            json={
                "prompt": "summarize incoming emails and post them to Slack",
                "user_preferences": {"complexity": "simple", "integrations": ["slack"]},
            },
        )
        assert r.status_code in (200, 201), r.text


PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase",
    "histogram_quantile", "le", "on", "ignoring", "and", "or", "unless",
}  # fmt: skip
LABELS = {"status", "model", "kind", "node_type", "stream", "consumer", "stage", "strategy"}


def test_dashboards_use_only_pilot_metrics_and_up() -> None:
    """Checked without Prometheus: each panel queries pilot_* series (or `up`), and
    between them the dashboards show every metric metrics.py defines."""
    used: set[str] = set()
    for dash, title, expr in dashboard_expressions():
        bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", "", substitute(expr))
        names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare)) - PROMQL_WORDS - LABELS
        foreign = {n for n in names if not n.startswith("pilot_") and n != "up"}
        assert not foreign, f"{dash} / {title} uses {foreign}"
        used |= {re.sub(r"_(bucket|total)$", "", n) for n in names}
    from prometheus_client import Counter, Gauge, Histogram

    from pilot_shared import metrics

    defined = {
        m._name for m in vars(metrics).values() if isinstance(m, Counter | Gauge | Histogram)
    }
    assert defined - used == set(), "metrics no panel shows"


def test_pilot_up_writes_a_targets_file_for_every_service(observed: Observed) -> None:
    groups = json.loads((observed.up.data_dir / "prometheus" / "targets.json").read_text())
    assert {g["labels"]["service"] for g in groups} == SERVICES
    assert all(g["labels"]["job"] == "pilot" and len(g["targets"]) == 1 for g in groups)
    assert "Prometheus targets" in observed.up.log_path.read_text()


async def test_every_dashboard_expression_returns_data(observed: Observed) -> None:
    expressions = dashboard_expressions()
    assert len(expressions) >= 15, "the dashboards lost their panels"
    await _exercise(observed.up)

    prometheus = observed.prometheus
    deadline = time.monotonic() + SCRAPE_DEADLINE_S
    empty: list[tuple[str, str, str]] = []
    while True:
        empty = [
            (dash, title, expr)
            for dash, title, expr in expressions
            if not await asyncio.to_thread(prometheus.query, substitute(expr))
        ]
        if not empty or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert not empty, "expressions without data:\n" + "\n".join(
        f"  {dash} / {title}: {substitute(expr)}" for dash, title, expr in empty
    )

    # Every service is scraped (its metrics port answers) ...
    up = prometheus.query('up{job="pilot"} == 1')
    assert {s["metric"]["service"] for s in up} == SERVICES
    # ... and the numbers behind the panels are the ones the runs produced.
    cost = prometheus.query(f'sum(pilot_llm_cost_usd_total{{model="{MODEL}"}})')
    assert float(cost[0]["value"][1]) > 0
    retries = prometheus.query('sum(pilot_node_retries_total{node_type="llm"})')
    assert float(retries[0]["value"][1]) >= 2
    failed = prometheus.query('sum(pilot_executions_total{status="failed"})')
    assert float(failed[0]["value"][1]) == 2
    lag = prometheus.query("count(max by (stream, consumer) (pilot_stream_consumer_pending))")
    assert float(lag[0]["value"][1]) >= 5  # planner, generator, executor's, runners'
