"""Tracing, metrics and logging set-up shared by every service."""

from __future__ import annotations

import logging
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import REGISTRY, CollectorRegistry

_configured: dict[str, TracerProvider] = {}


def setup_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """A tracer provider named after the service; spans leave the process only when an
    OTLP endpoint is configured, but context always propagates across NATS hops."""
    if service_name in _configured:
        return _configured[service_name]
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if not _configured:
        trace.set_tracer_provider(provider)
    _configured[service_name] = provider
    return provider


def metrics_registry() -> CollectorRegistry:
    return REGISTRY


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # FastStream logs each message at INFO: on a hot path that costs real time.
    logging.getLogger("faststream").setLevel(logging.WARNING)
    logging.getLogger("faststream.access").setLevel(logging.WARNING)
    for noisy in ("pymongo", "httpx", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
