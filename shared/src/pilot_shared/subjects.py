"""Every NATS subject and stream πlot uses. Nothing else spells them.

Commands and work items live in work-queue streams (each message is consumed once, by a
durable pull consumer with explicit acks); events live in a limits-retention stream so
they can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PREFIX = "pilot"

# Commands (work queues)
PLAN = f"{PREFIX}.cmd.plan"  # PlanRequest, gateway -> planner
GENERATE = f"{PREFIX}.cmd.generate"  # GenerateRequest, planner -> generator
RUN = f"{PREFIX}.cmd.run"  # RunRequest, gateway -> executor
CANCEL = f"{PREFIX}.cmd.cancel"  # CancelRequest, anyone -> executor
RERUN = f"{PREFIX}.cmd.rerun"  # RerunRequest, anyone -> executor
TASKS_PREFIX = f"{PREFIX}.tasks"  # NodeTask, executor -> runner, one subject per node type
RESULTS = f"{PREFIX}.results"  # NodeChunk | NodeResult, runner -> executor

# Events (replayable)
GENERATION_EVENTS_PREFIX = f"{PREFIX}.events.generation"
EXECUTION_EVENTS_PREFIX = f"{PREFIX}.events.execution"
WORKFLOW_EVENTS_PREFIX = f"{PREFIX}.events.workflow"

# Queries: core NATS request/reply, in no stream (an answer nobody waits for any more is
# worthless, and a stream would answer the request itself with its publish ack).
QUERY_PREFIX = f"{PREFIX}.query"
TEMPLATES_LIST = f"{QUERY_PREFIX}.templates.list"  # TemplateListQuery -> TemplateListReply
TEMPLATES_GET = f"{QUERY_PREFIX}.templates.get"  # TemplateQuery -> TemplateReply
TEMPLATES_RECOMMEND = f"{QUERY_PREFIX}.templates.recommend"  # RecommendQuery -> RecommendReply
# InstantiateRequest -> InstantiateReply; the workflow then arrives as generation events.
TEMPLATES_INSTANTIATE = f"{QUERY_PREFIX}.templates.instantiate"
OPTIMIZATIONS = f"{QUERY_PREFIX}.optimizations"  # OptimizeQuery -> OptimizeReply
PLANNER_QUERIES = (
    TEMPLATES_LIST,
    TEMPLATES_GET,
    TEMPLATES_RECOMMEND,
    TEMPLATES_INSTANTIATE,
    OPTIMIZATIONS,
)


def tasks(node_type: str) -> str:
    return f"{TASKS_PREFIX}.{node_type}"


def generation_events(generation_id: str) -> str:
    return f"{GENERATION_EVENTS_PREFIX}.{generation_id}"


def execution_events(workflow_id: str = "*", execution_id: str = "*") -> str:
    """`execution_events(wf)` matches every execution of one workflow;
    `execution_events(execution_id=x)` one execution of any workflow."""
    return f"{EXECUTION_EVENTS_PREFIX}.{workflow_id}.{execution_id}"


def workflow_events(workflow_id: str = "*") -> str:
    """Saved edits and sharing changes of one workflow (WorkflowChange), which every
    gateway relays to the workflow's collaborators."""
    return f"{WORKFLOW_EVENTS_PREFIX}.{workflow_id}"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    work_queue: bool
    max_age_s: float = 0  # 0: no age limit
    max_msg_size: int = 8 * 1024 * 1024
    duplicate_window_s: float = 120
    extra: dict[str, object] = field(default_factory=dict)


COMMANDS = StreamSpec("PILOT_COMMANDS", [f"{PREFIX}.cmd.>"], work_queue=True)
TASKS = StreamSpec("PILOT_TASKS", [f"{TASKS_PREFIX}.>"], work_queue=True)
RESULTS_STREAM = StreamSpec("PILOT_RESULTS", [RESULTS], work_queue=True)
EVENTS = StreamSpec(
    "PILOT_EVENTS", [f"{PREFIX}.events.>"], work_queue=False, max_age_s=7 * 24 * 3600
)
STREAMS: tuple[StreamSpec, ...] = (COMMANDS, TASKS, RESULTS_STREAM, EVENTS)

# Durable consumer names: one per role, so that N processes of a role share the work.
PLANNER_DURABLE = "planner"
GENERATOR_DURABLE = "generator"
EXECUTOR_RUNS_DURABLE = "executor-runs"
EXECUTOR_RESULTS_DURABLE = "executor-results"
EXECUTOR_CANCEL_DURABLE = "executor-cancel"
EXECUTOR_RERUN_DURABLE = "executor-rerun"
# Queue group of the planner's query subscribers: one process of N answers each query.
PLANNER_QUERY_QUEUE = "planner-queries"


def runner_durable(node_type: str) -> str:
    return f"runner-{node_type}"


def stream_for(subject: str) -> StreamSpec:
    for spec in STREAMS:
        for pattern in spec.subjects:
            if _matches(pattern, subject):
                return spec
    raise KeyError(f"no stream holds subject {subject!r}")


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i >= len(s) or (tok != "*" and tok != s[i]):
            return False
    return len(p) == len(s)
