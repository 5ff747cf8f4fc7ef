"""Messages on the bus. Each kind is told apart by its subject (see `subjects`), and
results sharing one subject by a `kind` literal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, TypeAdapter

from .base import PilotModel, new_id, utcnow
from .blueprint import WorkflowBlueprint
from .execution import NodeError, Usage
from .nodes import Node
from .workflow import Workflow


class UserPreferences(PilotModel):
    complexity: Literal["simple", "standard", "advanced"] = "standard"
    integrations: list[str] = Field(default_factory=list)
    language: Literal["en", "zh"] | None = None


class PlanRequest(PilotModel):
    """gateway -> planner"""

    generation_id: str = Field(default_factory=new_id)
    prompt: str
    user_preferences: UserPreferences = Field(default_factory=UserPreferences)
    owner_id: str = "anonymous"
    planner: Literal["auto", "offline", "llm"] = "auto"


class GenerateRequest(PilotModel):
    """planner -> generator"""

    generation_id: str
    prompt: str
    blueprint: WorkflowBlueprint
    user_preferences: UserPreferences = Field(default_factory=UserPreferences)
    owner_id: str = "anonymous"


class GenerationEvent(PilotModel):
    """planner/generator -> whoever waits on the generation (the gateway)."""

    generation_id: str
    type: Literal["generation.planned", "generation.completed", "generation.failed"]
    ts: datetime = Field(default_factory=utcnow)
    workflow_id: str | None = None
    workflow: Workflow | None = None
    error: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class RunRequest(PilotModel):
    """gateway -> executor: start (or resume) the execution, whose document already exists."""

    execution_id: str
    workflow_id: str


class NodeTask(PilotModel):
    """executor -> runner of `node.type`. `context` holds what templates may read:
    `input` (the workflow input) and `nodes` ({node_id: {"output": …}}) of upstream nodes."""

    task_id: str
    execution_id: str
    workflow_id: str
    node: Node
    attempt: int = 1
    context: dict[str, Any] = Field(default_factory=dict)


class NodeChunk(PilotModel):
    """runner -> executor: a piece of streamed output (becomes a `node.chunk` event)."""

    kind: Literal["chunk"] = "chunk"
    task_id: str
    execution_id: str
    node_id: str
    attempt: int = 1
    index: int = 0
    text: str


class NodeResult(PilotModel):
    """runner -> executor: the outcome of one attempt."""

    kind: Literal["result"] = "result"
    task_id: str
    execution_id: str
    node_id: str
    attempt: int = 1
    status: Literal["completed", "failed"]
    output: Any = None
    handle: str | None = Field(
        default=None, description="for branching nodes: the chosen outgoing source_handle"
    )
    error: NodeError | None = None
    usage: Usage | None = None
    duration_ms: float = 0.0
    started_at: datetime = Field(default_factory=utcnow)
    # what the node actually ran on (its rendered config/prompt), for the execution log
    input: Any = None


class CancelRequest(PilotModel):
    """anyone -> executor: stop a running execution (emits `execution.cancelled`)."""

    execution_id: str
    reason: str = "cancelled by request"


class RerunRequest(PilotModel):
    """anyone -> executor: run a new execution (`new_execution_id`) of the same workflow
    and input as `execution_id`, reusing the outputs of every node that is not downstream
    of `from_node_ids`. With no node ids, the nodes that failed are restarted."""

    execution_id: str
    new_execution_id: str = Field(default_factory=new_id)
    from_node_ids: list[str] = Field(default_factory=list)


RunnerMessage: TypeAlias = Annotated[NodeChunk | NodeResult, Field(discriminator="kind")]
RUNNER_MESSAGE_ADAPTER: TypeAdapter[RunnerMessage] = TypeAdapter(RunnerMessage)


# --- planner queries (core NATS request/reply, see `subjects.PLANNER_QUERIES`) ---------


class QueryError(PilotModel):
    """Why a query has no answer; the asker maps `kind` to its own error (a 404, a 422)."""

    kind: Literal["not_found", "invalid", "internal"]
    detail: str


class TemplateSummary(PilotModel):
    id: str
    name: str
    description: str
    tags: list[str] = Field(default_factory=list)
    languages: list[Literal["en", "zh"]] = Field(default_factory=list)
    node_types: list[str] = Field(default_factory=list)


class TemplateNode(PilotModel):
    id: str
    type: str
    name: str = ""
    config: dict[str, Any] = Field(default_factory=dict)


class TemplateConnection(PilotModel):
    source: str
    target: str
    source_handle: str | None = None


class TemplateDetail(TemplateSummary):
    """A template's graph as the planner builds it, before the generator lays it out."""

    nodes: list[TemplateNode] = Field(default_factory=list)
    connections: list[TemplateConnection] = Field(default_factory=list)


class TemplateRecommendation(PilotModel):
    template_id: str
    name: str
    score: float = Field(ge=0, le=1)
    reason: str


class OptimizationSuggestion(PilotModel):
    kind: str = Field(description="cheaper_model, add_retries, merge_llm_calls, parallelize, …")
    title: str
    detail: str
    node_ids: list[str] = Field(default_factory=list)
    patch: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="{node_id: {field: value}} to merge into the node"
    )
    saving: str = ""


class TemplateListQuery(PilotModel):
    language: Literal["en", "zh"] = "en"


class TemplateListReply(PilotModel):
    templates: list[TemplateSummary]


class TemplateQuery(PilotModel):
    template_id: str
    language: Literal["en", "zh"] = "en"


class TemplateReply(PilotModel):
    template: TemplateDetail | None = None
    error: QueryError | None = None


class RecommendQuery(PilotModel):
    prompt: str
    limit: int = Field(default=3, ge=1, le=20)


class RecommendReply(PilotModel):
    recommendations: list[TemplateRecommendation] = Field(default_factory=list)
    error: QueryError | None = None


class InstantiateRequest(PilotModel):
    """gateway -> planner: plan `template_id` as generation `generation_id`; the planner
    answers once the `GenerateRequest` is queued, and the generation then proceeds (and
    reports) like a generation from a prompt."""

    generation_id: str
    template_id: str
    prompt: str = ""
    user_preferences: UserPreferences = Field(default_factory=UserPreferences)
    owner_id: str = "anonymous"


class InstantiateReply(PilotModel):
    generation_id: str
    error: QueryError | None = None


class OptimizeQuery(PilotModel):
    workflow: Workflow


class OptimizeReply(PilotModel):
    suggestions: list[OptimizationSuggestion] = Field(default_factory=list)
    error: QueryError | None = None
