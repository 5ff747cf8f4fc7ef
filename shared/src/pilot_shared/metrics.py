"""Every πlot Prometheus metric, defined once. Names start with `pilot_`; labels are
bounded sets (node type, status, model, strategy, stream), never an id."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from .telemetry import metrics_registry

_R = metrics_registry()
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

EXECUTIONS = Counter(
    "pilot_executions", "Executions finished, by final status", ["status"], registry=_R
)
EXECUTION_DURATION = Histogram(
    "pilot_execution_duration_seconds",
    "Wall time of finished executions",
    ["status"],
    buckets=_LATENCY_BUCKETS,
    registry=_R,
)
NODE_RUNS = Counter(
    "pilot_node_runs",
    "Node attempts finished, by node type and outcome",
    ["node_type", "status"],
    registry=_R,
)
NODE_DURATION = Histogram(
    "pilot_node_duration_seconds",
    "Duration of node attempts",
    ["node_type", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=_R,
)
NODE_RETRIES = Counter(
    "pilot_node_retries",
    "Node attempts scheduled again after a failure",
    ["node_type"],
    registry=_R,
)
LLM_TOKENS = Counter(
    "pilot_llm_tokens",
    "LLM tokens by model and kind (prompt|completion)",
    ["model", "kind"],
    registry=_R,
)
LLM_COST = Counter("pilot_llm_cost_usd", "LLM cost in USD by model", ["model"], registry=_R)
GENERATIONS = Counter(
    "pilot_generations",
    "Workflow generations by planner strategy and outcome",
    ["strategy", "status"],
    registry=_R,
)
GENERATION_DURATION = Histogram(
    "pilot_generation_duration_seconds",
    "Planning or generation latency by strategy",
    ["stage", "strategy"],
    buckets=_LATENCY_BUCKETS,
    registry=_R,
)
STREAM_PENDING = Gauge(
    "pilot_stream_consumer_pending",
    "Messages not yet delivered to a durable consumer",
    ["stream", "consumer"],
    registry=_R,
)
STREAM_ACK_PENDING = Gauge(
    "pilot_stream_consumer_ack_pending",
    "Messages delivered but not yet acknowledged",
    ["stream", "consumer"],
    registry=_R,
)
# publish_all skips FastStream's per-publish span and histograms (the profile's largest
# share of a publish); this counter is what those publishes report instead.
BUS_PIPELINED_PUBLISHES = Counter(
    "pilot_bus_pipelined_publishes",
    "Messages published to JetStream through publish_all (tasks, results, events), by stream",
    ["stream"],
    registry=_R,
)
