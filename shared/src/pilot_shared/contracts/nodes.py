"""Node contracts: the eight node types, each with its own config model.

`Node` is a discriminated union on `type`, validated through the module-level
`NODE_ADAPTER`; an unknown type fails validation with a message naming the allowed types.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, TypeAdapter, field_validator, model_validator

from .base import PilotModel

NodeType: TypeAlias = Literal[
    "input", "llm", "condition", "loop", "api", "output", "knowledge", "tool"
]
NODE_TYPES: tuple[str, ...] = (
    "input",
    "llm",
    "condition",
    "loop",
    "api",
    "output",
    "knowledge",
    "tool",
)

# Handles with a meaning of their own on connections.
ERROR_HANDLE = "error"
LOOP_BODY_HANDLE = "body"


class Position(PilotModel):
    x: float = 0
    y: float = 0


class RetryPolicy(PilotModel):
    max_attempts: int = Field(default=1, ge=1, le=20)
    initial_delay_ms: int = Field(default=500, ge=0)
    multiplier: float = Field(default=2.0, ge=1.0)
    max_delay_ms: int = Field(default=10_000, ge=0)
    jitter: bool = True


class OnError(PilotModel):
    strategy: Literal["fail", "continue", "error_branch", "fallback"] = "fail"
    default_output: Any = None


# --- configs, one per node type -------------------------------------------------------


class InputConfig(PilotModel):
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    input_type: str = "text"


class LLMConfig(PilotModel):
    model: str = "gpt-4o-mini"
    prompt: str = "{{ input }}"
    system_prompt: str | None = None
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    stream: bool = True
    json_schema: dict[str, Any] | None = None
    fallback_models: list[str] = Field(default_factory=list)


class ConditionCase(PilotModel):
    handle: str = Field(min_length=1)
    when: str = Field(min_length=1)


class ConditionConfig(PilotModel):
    """Exactly one of: `expression` (handles true/false), `cases` (+ `default_handle`),
    or `mode="llm_classify"` with `labels` and an `input` template."""

    mode: Literal["expression", "cases", "llm_classify"] | None = None
    expression: str | None = None
    cases: list[ConditionCase] | None = None
    default_handle: str = "default"
    labels: list[str] | None = None
    input: str | None = None
    model: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ConditionConfig:
        if self.mode is None:
            if self.expression is not None and self.cases is None:
                self.mode = "expression"
            elif self.cases is not None and self.expression is None:
                self.mode = "cases"
            else:
                raise ValueError(
                    "a condition needs exactly one of 'expression', 'cases', "
                    "or mode 'llm_classify' with 'labels'"
                )
        if self.mode == "expression" and not self.expression:
            raise ValueError("mode 'expression' needs an 'expression'")
        if self.mode == "cases" and not self.cases:
            raise ValueError("mode 'cases' needs a non-empty 'cases' list")
        if self.mode == "llm_classify" and not (self.labels and self.input):
            raise ValueError("mode 'llm_classify' needs 'labels' and an 'input' template")
        return self

    def handles(self) -> list[str]:
        if self.mode == "expression":
            return ["true", "false"]
        if self.mode == "cases":
            return [c.handle for c in self.cases or []] + [self.default_handle]
        return [*(self.labels or []), self.default_handle]


class LoopConfig(PilotModel):
    mode: Literal["for_each", "while"] = "for_each"
    items: str | None = None
    condition: str | None = None
    body: list[str] = Field(default_factory=list)
    concurrency: int = Field(default=4, ge=1, le=64)
    max_iterations: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _mode_fields(self) -> LoopConfig:
        if self.mode == "for_each" and not self.items:
            raise ValueError("a for_each loop needs an 'items' template")
        if self.mode == "while" and not self.condition:
            raise ValueError("a while loop needs a 'condition'")
        return self


HTTP_METHODS: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


class ApiConfig(PilotModel):
    # A method name, or a template rendering to one (checked again when the node runs).
    method: str = "GET"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    timeout_s: float = Field(default=30, gt=0, le=600)
    # how `body` is sent: JSON, an urlencoded form (a mapping), or text as it renders
    body_type: Literal["json", "form", "text"] = "json"
    # how the response body is read: by its content type, or always as JSON / text
    response_type: Literal["auto", "json", "text"] = "auto"
    # a cap below the runner's PILOT_HTTP_MAX_RESPONSE_BYTES
    max_response_bytes: int | None = Field(default=None, ge=1)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if "{{" in value or "{%" in value:
            return value
        method = value.strip().upper()
        if method not in HTTP_METHODS:
            raise ValueError(f"method must be one of {', '.join(HTTP_METHODS)} or a template")
        return method


class OutputConfig(PilotModel):
    value: str | None = None
    mapping: dict[str, str] | None = None
    format: Literal["text", "json"] = "text"

    @model_validator(mode="after")
    def _value_or_mapping(self) -> OutputConfig:
        if self.value is not None and self.mapping is not None:
            raise ValueError("an output has either 'value' or 'mapping', not both")
        return self


class KnowledgeConfig(PilotModel):
    knowledge_base_id: str | None = None
    query: str = "{{ input }}"
    top_k: int = Field(default=3, ge=1, le=50)


class ToolConfig(PilotModel):
    tool: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


# --- nodes ----------------------------------------------------------------------------

NODE_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$"


class _NodeBase(PilotModel):
    id: str = Field(pattern=NODE_ID_PATTERN)
    name: str = ""
    position: Position = Field(default_factory=Position)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_s: float = Field(default=60, gt=0, le=3600)
    on_error: OnError = Field(default_factory=OnError)


class InputNode(_NodeBase):
    type: Literal["input"] = "input"
    config: InputConfig = Field(default_factory=InputConfig)


class LLMNode(_NodeBase):
    type: Literal["llm"] = "llm"
    config: LLMConfig = Field(default_factory=LLMConfig)


class ConditionNode(_NodeBase):
    type: Literal["condition"] = "condition"
    config: ConditionConfig


class LoopNode(_NodeBase):
    type: Literal["loop"] = "loop"
    config: LoopConfig


class ApiNode(_NodeBase):
    type: Literal["api"] = "api"
    config: ApiConfig


class OutputNode(_NodeBase):
    type: Literal["output"] = "output"
    config: OutputConfig = Field(default_factory=OutputConfig)


class KnowledgeNode(_NodeBase):
    type: Literal["knowledge"] = "knowledge"
    config: KnowledgeConfig = Field(default_factory=KnowledgeConfig)


class ToolNode(_NodeBase):
    type: Literal["tool"] = "tool"
    config: ToolConfig


Node: TypeAlias = Annotated[
    InputNode
    | LLMNode
    | ConditionNode
    | LoopNode
    | ApiNode
    | OutputNode
    | KnowledgeNode
    | ToolNode,
    Field(discriminator="type"),
]
NODE_ADAPTER: TypeAdapter[Node] = TypeAdapter(Node)

CONFIG_MODELS: dict[str, type[PilotModel]] = {
    "input": InputConfig,
    "llm": LLMConfig,
    "condition": ConditionConfig,
    "loop": LoopConfig,
    "api": ApiConfig,
    "output": OutputConfig,
    "knowledge": KnowledgeConfig,
    "tool": ToolConfig,
}


class Connection(PilotModel):
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    source_handle: str | None = None
