"""The tool node against real local servers: a webhook receiver gets the Slack, WeCom,
DingTalk and Feishu payloads in each platform's documented format, an aiosmtpd SMTP server
receives the email, the example plugin loads through the `pilot.tools` entry points."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pymongo.asynchronous.database import AsyncDatabase

from pilot.embedded import free_port
from pilot_runners.registry import Registry, build_registry
from pilot_runners.settings import RunnerSettings
from pilot_runners.task import run_task
from pilot_shared.contracts import NODE_ADAPTER, NodeResult, NodeTask
from pilot_shared.store import WORKFLOW_SECRETS, Document
from tests.support.http_servers import CountingServer


def tool_task(tool: str, params: dict[str, Any], context: dict[str, Any] | None = None) -> NodeTask:
    return NodeTask(
        task_id="e1:t:1",
        execution_id="e1",
        workflow_id="wf",
        node=NODE_ADAPTER.validate_python(
            {"id": "t", "type": "tool", "config": {"tool": tool, "params": params}}
        ),
        context=context or {"input": {"msg": "Order 42 shipped"}, "nodes": {}},
    )


@pytest.fixture
async def registry(db: AsyncDatabase[Document], tmp_path: Path) -> AsyncIterator[Registry]:
    settings = RunnerSettings(data_dir=tmp_path, http_allowlist=["127.0.0.1"])
    reg = build_registry(settings, db=db)
    yield reg
    await reg.aclose()


@pytest.fixture
def receiver() -> Iterator[CountingServer]:
    with CountingServer(body=b'{"errcode": 0, "errmsg": "ok"}').serve() as server:
        yield server


async def run_tool(registry: Registry, tool: str, params: dict[str, Any]) -> NodeResult:
    async def emit(text: str) -> None:
        pass

    return await run_task(tool_task(tool, params), registry.handler_for("tool"), emit)


def body_of(server: CountingServer, i: int = -1) -> Any:
    return json.loads(server.requests[i].body)


async def test_slack_payload(registry: Registry, receiver: CountingServer) -> None:
    result = await run_tool(
        registry,
        "slack",
        {"webhook_url": f"{receiver.url}/services/T/B/X", "text": "{{ input.msg }}"},
    )
    assert result.status == "completed", result.error
    assert receiver.requests[0].method == "POST" and receiver.requests[0].path == "/services/T/B/X"
    assert receiver.requests[0].headers["Content-Type"] == "application/json"
    assert body_of(receiver) == {"text": "Order 42 shipped"}


async def test_wecom_payload(registry: Registry, receiver: CountingServer) -> None:
    result = await run_tool(
        registry,
        "wecom",
        {
            "webhook_url": f"{receiver.url}/cgi-bin/webhook/send?key=abc",
            "content": "订单 {{ input.msg }}",
            "mentioned_list": ["@all"],
        },
    )
    assert result.status == "completed", result.error
    assert receiver.requests[0].path == "/cgi-bin/webhook/send?key=abc"
    assert body_of(receiver) == {
        "msgtype": "text",
        "text": {"content": "订单 Order 42 shipped", "mentioned_list": ["@all"]},
    }


async def test_wecom_errcode_fails_the_node(registry: Registry) -> None:
    with CountingServer(body=b'{"errcode": 93000, "errmsg": "invalid webhook url"}').serve() as s:
        result = await run_tool(registry, "wecom", {"webhook_url": s.url, "content": "x"})
    assert result.status == "failed" and result.error is not None
    assert "93000" in result.error.message and not result.error.retryable


async def test_dingtalk_payload_is_signed(registry: Registry, receiver: CountingServer) -> None:
    secret = "SEC0123456789abcdef"
    result = await run_tool(
        registry,
        "dingtalk",
        {
            "webhook_url": f"{receiver.url}/robot/send?access_token=tok",
            "content": "钉钉: {{ input.msg }}",
            "secret": secret,
            "at_mobiles": ["13800000000"],
        },
    )
    assert result.status == "completed", result.error
    assert body_of(receiver) == {
        "msgtype": "text",
        "text": {"content": "钉钉: Order 42 shipped"},
        "at": {"atMobiles": ["13800000000"], "isAtAll": False},
    }
    query = parse_qs(urlsplit(receiver.requests[0].path).query)
    assert query["access_token"] == ["tok"]
    ts = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]


async def test_feishu_payload_is_signed(registry: Registry, receiver: CountingServer) -> None:
    secret = "feishu-secret"
    result = await run_tool(
        registry,
        "feishu",
        {
            "webhook_url": f"{receiver.url}/open-apis/bot/v2/hook/x",
            "text": "{{ input.msg }}",
            "secret": secret,
        },
    )
    assert result.status == "completed", result.error
    body = body_of(receiver)
    assert body["msg_type"] == "text" and body["content"] == {"text": "Order 42 shipped"}
    ts = body["timestamp"]
    expected = base64.b64encode(
        hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected


async def test_feishu_unsigned(registry: Registry, receiver: CountingServer) -> None:
    result = await run_tool(registry, "feishu", {"webhook_url": receiver.url, "text": "hi"})
    assert result.status == "completed", result.error
    assert body_of(receiver) == {"msg_type": "text", "content": {"text": "hi"}}


async def test_generic_webhook_and_sms(registry: Registry, receiver: CountingServer) -> None:
    result = await run_tool(
        registry,
        "webhook",
        {
            "url": f"{receiver.url}/hook",
            "payload": {"order": "{{ input.msg }}"},
            "headers": {"X-K": "v"},
        },
    )
    assert result.status == "completed", result.error
    assert body_of(receiver) == {"order": "Order 42 shipped"}
    assert receiver.requests[0].headers["X-K"] == "v"
    result = await run_tool(
        registry,
        "sms",
        {
            "provider_url": f"{receiver.url}/sms",
            "api_key": "k1",
            "to": "+8613800000000",
            "text": "hi",
        },
    )
    assert result.status == "completed", result.error
    assert body_of(receiver) == {"to": "+8613800000000", "text": "hi"}
    assert receiver.requests[-1].headers["Authorization"] == "Bearer k1"


async def test_webhook_url_from_a_secret_is_never_echoed(
    registry: Registry, receiver: CountingServer
) -> None:
    assert registry.secrets is not None
    url = f"{receiver.url}/services/T000/B000/SECRETPART"
    await registry.secrets.put("SLACK_URL", url)
    stored = await registry.secrets._col.database[WORKFLOW_SECRETS].find_one({"_id": "SLACK_URL"})
    assert stored is not None and "SECRETPART" not in json.dumps(stored, default=str)
    task = tool_task("slack", {"webhook_url": "{{ secrets.SLACK_URL }}", "text": "hi"})

    async def emit(text: str) -> None:
        pass

    outcome = await registry.handler_for("tool")(task, emit)
    assert receiver.requests[0].path == "/services/T000/B000/SECRETPART"
    assert "SECRETPART" not in json.dumps(outcome.input) + json.dumps(outcome.output)
    assert outcome.input["params"]["webhook_url"] == "***"
    # the workflow holds only the name
    assert "SECRETPART" not in task.model_dump_json()


async def test_missing_secret_fails_clearly(registry: Registry) -> None:
    result = await run_tool(registry, "slack", {"webhook_url": "{{ secrets.NOPE }}", "text": "x"})
    assert result.status == "failed" and result.error is not None
    assert result.error.kind == "secret" and "'NOPE' is not defined" in result.error.message


async def test_blocked_webhook_never_reaches_the_server(
    db: AsyncDatabase[Document], tmp_path: Path, receiver: CountingServer
) -> None:
    reg = build_registry(RunnerSettings(data_dir=tmp_path), db=db)  # no allowlist
    try:
        result = await run_tool(reg, "slack", {"webhook_url": receiver.url, "text": "x"})
    finally:
        await reg.aclose()
    assert result.status == "failed" and result.error is not None
    assert "SSRF guard" in result.error.message and not result.error.retryable
    assert receiver.requests == []


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()

    def authenticate(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login,
            auth_data.password,
        ) == (b"bot", b"s3cret")
        if ok:
            return AuthResult(success=True)
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Authentication credentials invalid"
        )

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


async def test_email_reaches_the_smtp_server(
    registry: Registry, smtp_server: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp_server
    assert registry.secrets is not None
    await registry.secrets.put("SMTP_PASSWORD", "s3cret")
    result = await run_tool(
        registry,
        "email",
        {
            "host": "127.0.0.1",
            "port": controller.port,
            "start_tls": False,
            "username": "bot",
            "password": "{{ secrets.SMTP_PASSWORD }}",
            "from": "pilot@example.com",
            "to": ["ops@example.com", "oncall@example.com"],
            "subject": "Shipped: {{ input.msg }}",
            "body": "Hello,\n{{ input.msg }}.\n",
        },
    )
    assert result.status == "completed", result.error
    assert "s3cret" not in result.model_dump_json()
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "pilot@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "Shipped: Order 42 shipped"
    assert "Order 42 shipped." in message.get_payload()


async def test_email_with_a_wrong_password_is_not_retried(
    registry: Registry, smtp_server: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp_server
    result = await run_tool(
        registry,
        "email",
        {
            "host": "127.0.0.1",
            "port": controller.port,
            "start_tls": False,
            "username": "bot",
            "password": "wrong",
            "from": "a@example.com",
            "to": "b@example.com",
            "subject": "x",
        },
    )
    assert result.status == "failed" and result.error is not None
    assert "rejected the username or password" in result.error.message
    assert not result.error.retryable and inbox.envelopes == []


async def test_example_plugin_is_loaded_from_entry_points(registry: Registry) -> None:
    assert registry.tools is not None and "word_count" in registry.tools.names()
    result = await run_tool(registry, "word_count", {"text": "{{ input.msg }}"})
    assert result.status == "completed", result.error
    assert result.output == {"words": 3, "lines": 1, "chars": 16}


async def test_unknown_tool_lists_the_available_ones(registry: Registry) -> None:
    result = await run_tool(registry, "nope", {})
    assert result.status == "failed" and result.error is not None
    assert "unknown tool 'nope'" in result.error.message and "slack" in result.error.message


def self_signed(tmp_path: Path) -> tuple[Path, Path, str]:
    """A certificate for 127.0.0.1 (key file, cert file, PEM)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pilot-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_text(pem)
    return key_file, cert_file, pem


@pytest.mark.parametrize("mode", ["implicit", "starttls"])
async def test_email_over_tls(registry: Registry, tmp_path: Path, mode: str) -> None:
    import ssl

    key_file, cert_file, pem = self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    inbox = Inbox()
    kwargs: dict[str, Any] = (
        {"ssl_context": server_ctx}
        if mode == "implicit"
        else {"tls_context": server_ctx, "require_starttls": True}
    )
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        params = {
            "host": "127.0.0.1",
            "port": controller.port,
            "from": "a@example.com",
            "to": "b@example.com",
            "subject": f"over {mode} TLS",
            "body": "hi",
            "ca_cert": pem,
        }
        params.update({"use_tls": True} if mode == "implicit" else {"start_tls": True})
        result = await run_tool(registry, "email", params)
        untrusted = await run_tool(
            registry, "email", {k: v for k, v in params.items() if k != "ca_cert"}
        )
    finally:
        controller.stop()
    assert result.status == "completed", result.error
    assert len(inbox.envelopes) == 1
    # the self-signed certificate is not trusted by default
    assert untrusted.status == "failed" and untrusted.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.error.message, untrusted.error
    assert not untrusted.error.retryable
