"""Where `span_in_trace` puts a span: in the trace an execution stored, whatever the
span it is started under."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pilot_shared import tracing
from tests.support.spans import captured_spans


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with captured_spans() as exporter:
        yield exporter


def finished(spans: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans.get_finished_spans()}


def stored_trace() -> tuple[str, trace.SpanContext]:
    with tracing.tracer().start_as_current_span("request") as request:
        traceparent = tracing.current_traceparent()
    assert traceparent is not None
    return traceparent, request.get_span_context()


def test_without_a_current_span_the_stored_context_is_the_parent(
    spans: InMemorySpanExporter,
) -> None:
    traceparent, request = stored_trace()
    with tracing.span_in_trace("execution.step", traceparent):
        pass
    step = finished(spans)["execution.step"]
    assert step.context is not None and step.context.trace_id == request.trace_id
    assert step.parent is not None and step.parent.span_id == request.span_id


def test_under_a_span_of_the_same_trace_the_span_is_its_child(
    spans: InMemorySpanExporter,
) -> None:
    traceparent, request = stored_trace()
    parent_ctx = tracing.context_from_traceparent(traceparent)
    with (
        tracing.tracer().start_as_current_span("message process", context=parent_ctx) as handler,
        tracing.span_in_trace("execution.step", traceparent),
    ):
        pass
    step = finished(spans)["execution.step"]
    assert step.context is not None and step.context.trace_id == request.trace_id
    assert step.parent is not None and step.parent.span_id == handler.get_span_context().span_id


def test_under_a_span_of_another_trace_it_joins_the_stored_one_with_a_link(
    spans: InMemorySpanExporter,
) -> None:
    traceparent, request = stored_trace()
    with (
        tracing.tracer().start_as_current_span("cancel request") as other,
        tracing.span_in_trace("execution.step", traceparent) as step,
    ):
        pass
    assert step.get_span_context().trace_id == request.trace_id
    links = finished(spans)["execution.step"].links
    assert [link.context.span_id for link in links] == [other.get_span_context().span_id]


def test_an_execution_without_a_stored_context_stays_under_the_current_span(
    spans: InMemorySpanExporter,
) -> None:
    with (
        tracing.tracer().start_as_current_span("message process") as handler,
        tracing.span_in_trace("execution.step", None) as step,
    ):
        pass
    assert step.get_span_context().trace_id == handler.get_span_context().trace_id
    assert tracing.context_from_traceparent("garbage") is None
    assert tracing.current_traceparent() is None
