"""Spans of the services a test runs in-process, kept in memory.

In one process every service's own spans (pilot_shared.tracing) go to the global tracer
provider, which the first `setup_tracing` call installs; this adds an in-memory exporter
to it for the duration of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pilot_shared.telemetry import setup_tracing


@contextmanager
def captured_spans() -> Iterator[InMemorySpanExporter]:
    setup_tracing("pilot-tests", None)  # installs the global provider if nothing has yet
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), provider
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield exporter
    finally:
        exporter.shutdown()  # the processor stays (it cannot be removed) but drops spans


def attr(span: ReadableSpan, key: str) -> object:
    return (span.attributes or {}).get(key)
