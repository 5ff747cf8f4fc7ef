"""The api node: one HTTP request, every part templated, through the SSRF-guarded client.

Secrets are referenced by name (`{{ secrets.TOKEN }}`) in the URL, headers, query or body;
their values are resolved here, used for the request, and masked in everything the node
reports (its input, output and errors)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo.errors import PyMongoError

from pilot_shared.contracts import ApiNode, NodeTask
from pilot_shared.contracts.nodes import HTTP_METHODS
from pilot_shared.templating import render

from ..outcome import EmitChunk, NodeFailure, NodeOutcome
from ..providers.openai_compat import retry_after
from ..safe_http import BlockedRequestError, ResponseTooLargeError, SafeHttpClient, SafeResponse
from ..secrets import SecretError, SecretStore, mask, referenced_names
from .llm import as_text

_RETRYABLE_STATUS = frozenset({408, 425, 429})
_MAX_ERROR_BODY = 300


IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass
class HttpCall:
    """A request as rendered (secret values in it), ready to send."""

    method: str
    url: str
    headers: dict[str, str]
    query: dict[str, str]
    json_body: Any = None
    form: dict[str, Any] | None = None
    content: bytes | None = None

    def echo(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "url": self.url}
        if self.headers:
            out["headers"] = self.headers
        if self.query:
            out["query"] = self.query
        if self.json_body is not None:
            out["body"] = self.json_body
        elif self.form is not None:
            out["body"] = self.form
        elif self.content is not None:
            out["body"] = self.content.decode("utf-8", "replace")
        return out


def render_deep(value: Any, context: dict[str, Any]) -> Any:
    """Every string in `value` (keys too) rendered as a template."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, dict):
        return {as_text(render_deep(k, context)): render_deep(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_deep(v, context) for v in value]
    return value


async def secret_context(
    store: SecretStore | None, context: dict[str, Any], *templates: Any
) -> tuple[dict[str, Any], list[str]]:
    """The render context with `secrets` holding the values the templates name."""
    names = referenced_names(*templates)
    if not names:
        return context, []
    if store is None:
        raise NodeFailure("secret", "secrets are not available in this runner (no store)")
    try:
        values = await store.resolve(names)
    except SecretError as exc:
        raise NodeFailure("secret", str(exc), retryable=False) from None
    except PyMongoError as exc:
        raise NodeFailure(
            "store", f"cannot read secrets: {type(exc).__name__}", retryable=True
        ) from None
    return {**context, "secrets": values}, list(values.values())


class ApiHandler:
    def __init__(
        self, http: SafeHttpClient, secrets: SecretStore | None, *, max_response_bytes: int
    ) -> None:
        self.http = http
        self.secrets = secrets
        self.max_response_bytes = max_response_bytes

    async def __call__(self, task: NodeTask, emit_chunk: EmitChunk) -> NodeOutcome:
        assert isinstance(task.node, ApiNode)
        config = task.node.config
        context, hidden = await secret_context(
            self.secrets, task.context, config.url, config.headers, config.query, config.body
        )
        try:
            call = self._render(task, context)
            cap = config.max_response_bytes or self.max_response_bytes
            response = await send(self.http, call, timeout_s=config.timeout_s, cap=cap)
        except NodeFailure as failure:
            failure.error.message = mask(failure.error.message, hidden)
            raise
        # DESIGN.md §4: the output is the parsed JSON body, or the text (answers that are
        # not 2xx failed above), so templates read `nodes.<id>.output.<field>`.
        body = read_body(response, config.response_type)
        return NodeOutcome(output=mask(body, hidden), input=mask(call.echo(), hidden))

    def _render(self, task: NodeTask, context: dict[str, Any]) -> HttpCall:
        assert isinstance(task.node, ApiNode)
        config = task.node.config
        method = as_text(render(config.method, context)).strip().upper()
        if method not in HTTP_METHODS:
            raise NodeFailure(
                "validation", f"method {method!r} is not one of {', '.join(HTTP_METHODS)}"
            )
        call = HttpCall(
            method=method,
            url=as_text(render(config.url, context)).strip(),
            headers={k: as_text(v) for k, v in render_deep(config.headers, context).items()},
            query={k: as_text(v) for k, v in render_deep(config.query, context).items()},
        )
        if not any(k.lower() == IDEMPOTENCY_HEADER.lower() for k in call.headers):
            # A runner killed after sending cannot know whether the call took effect, and
            # the task is redelivered to another runner. The task id is the same on every
            # redelivery (and new for each retry attempt), so an API that honours the
            # header applies the call once: at-least-once delivery, exactly-once effect.
            call.headers[IDEMPOTENCY_HEADER] = task.task_id
        if config.body is not None and method not in ("GET", "HEAD"):
            body = render_deep(config.body, context)
            if config.body_type == "form":
                if not isinstance(body, dict):
                    raise NodeFailure("validation", "a form body must be a mapping of fields")
                call.form = {k: as_text(v) for k, v in body.items()}
            elif config.body_type == "text":
                call.content = as_text(body).encode()
            else:
                call.json_body = _json_body(body)
        return call


def _json_body(body: Any) -> Any:
    # a whole-body template like "{{ input }}" may render to a JSON string: send it as JSON
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


async def send(http: SafeHttpClient, call: HttpCall, *, timeout_s: float, cap: int) -> SafeResponse:
    """Send `call`, turning every failure into a classified NodeFailure (5xx, 408/429 and
    transport errors retryable; other 4xx, blocked URLs and oversized answers not)."""
    try:
        response = await http.request(
            call.method,
            call.url,
            headers=call.headers,
            params=call.query or None,
            json=call.json_body,
            data=call.form,
            content=call.content,
            timeout_s=timeout_s,
            max_response_bytes=cap,
        )
    except BlockedRequestError as exc:
        raise NodeFailure(
            "blocked",
            f"request blocked by the SSRF guard: {exc} (a deployment can open a host with "
            "PILOT_HTTP_ALLOWLIST)",
            retryable=False,
        ) from None
    except ResponseTooLargeError as exc:
        raise NodeFailure("http", str(exc), retryable=False) from None
    except httpx.TimeoutException:
        raise NodeFailure(
            "timeout", f"HTTP request timed out after {timeout_s:g}s", retryable=True
        ) from None
    except httpx.HTTPError as exc:
        raise NodeFailure(
            "http", f"HTTP request failed: {type(exc).__name__}: {exc}", retryable=True
        ) from None
    status = response.status_code
    if status >= 400:
        retryable = status >= 500 or status in _RETRYABLE_STATUS
        detail = response.content[:_MAX_ERROR_BODY].decode("utf-8", "replace")
        wait = None
        if status in (429, 503):
            wait = retry_after(response.headers)
        raise NodeFailure(
            "http",
            f"HTTP {status} from {response.url.split('?')[0]}: {detail}",
            retryable=retryable,
            retry_after_s=wait,
        )
    return response


def read_body(response: SafeResponse, response_type: str) -> Any:
    if response_type == "text":
        ctype = response.headers.get("content-type", "")
        return response.content.decode(_charset(ctype), "replace")
    if response_type == "json":
        try:
            return json.loads(response.content)
        except ValueError:
            raise NodeFailure("http", "the response is not JSON", retryable=False) from None
    return response.json_or_text()


def _charset(content_type: str) -> str:
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
