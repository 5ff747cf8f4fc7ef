"""Span helpers: one trace per generation and per execution (docs/ARCHITECTURE.md, "Tracing").

Context crosses NATS in message headers (FastStream's telemetry middleware injects the
current span on publish and extracts it on consume). An execution outlives any one message
(results come in on the executor's own pull loop, retries fire from timers, a restarted
executor resumes it with no message at all), so its trace context is also stored on the
execution document (`Execution.trace_parent`) and every executor step starts from it.

Attribute names: `pilot.*` for our ids (span attributes, never metric labels) and the
OpenTelemetry GenAI / HTTP semantic-convention names for LLM and HTTP calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER_NAME = "pilot"

WORKFLOW_ID = "pilot.workflow.id"
EXECUTION_ID = "pilot.execution.id"
GENERATION_ID = "pilot.generation.id"
NODE_ID = "pilot.node.id"
NODE_TYPE = "pilot.node.type"
NODE_ATTEMPT = "pilot.node.attempt"
NODE_STATUS = "pilot.node.status"
COST_USD = "pilot.cost_usd"
GEN_AI_OPERATION = "gen_ai.operation.name"
GEN_AI_PROVIDER = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACEPARENT = "traceparent"


def tracer() -> trace.Tracer:
    # the global provider: `setup_tracing` installs the service's one at start
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, or None outside any trace: stored on an
    execution when it is created, so everything done for it later joins that trace."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(_TRACEPARENT)


def context_from_traceparent(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    ctx = _PROPAGATOR.extract({_TRACEPARENT: traceparent})
    if not trace.get_current_span(ctx).get_span_context().is_valid:
        return None
    return ctx


@contextmanager
def span_in_trace(
    name: str,
    traceparent: str | None,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A current span in the trace `traceparent` names. Under a span of that trace already
    (the handler of a message sent for it) the span is that span's child, which keeps the
    causal chain; otherwise (a results batch, a retry timer, a resume after a restart, a
    cancel request with its own trace) it is a child of the stored context, linked to the
    span it was started under, if any."""
    stored = context_from_traceparent(traceparent)
    parent: otel_context.Context | None = None
    links: list[Link] = []
    if stored is not None:
        here = trace.get_current_span().get_span_context()
        there = trace.get_current_span(stored).get_span_context()
        if not here.is_valid or here.trace_id != there.trace_id:
            parent = stored
            if here.is_valid:
                links.append(Link(here))
    with tracer().start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=_clean(attributes),
        links=links,
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        yield span


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A child of the current span (recording and re-raising any exception)."""
    with tracer().start_as_current_span(name, kind=kind, attributes=_clean(attributes)) as current:
        yield current


def set_attributes(target: Span, attributes: Mapping[str, Any]) -> None:
    target.set_attributes(_clean(attributes))


def set_error(target: Span, kind: str, message: str) -> None:
    """Mark a span failed for a failure that is returned, not raised (a failed node)."""
    target.set_attribute("error.type", kind)
    target.set_status(Status(StatusCode.ERROR, message[:500]))


def annotate_current(attributes: Mapping[str, Any]) -> None:
    """Add ids to the current span (e.g. the HTTP request's, once the ids are known)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(_clean(attributes))


def _clean(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    # OpenTelemetry rejects None values (with a warning per attribute)
    return {k: v for k, v in (attributes or {}).items() if v is not None}
