"""The built-in tools. Every HTTP call goes through the SSRF-guarded client."""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import hmac
import io
import json
import math
import operator
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from ..safe_http import BlockedRequestError, ResponseTooLargeError, SafeResponse
from .base import Tool, ToolContext, ToolError

# --- helpers --------------------------------------------------------------------------


def _req(params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    if value is None or value == "":
        raise ToolError(f"missing parameter {key!r}")
    return value


async def post_json(
    ctx: ToolContext,
    url: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    method: str = "POST",
) -> SafeResponse:
    try:
        response = await ctx.http.request(
            method,
            url,
            json=payload,
            headers=headers,
            params=params,
            timeout_s=ctx.timeout_s,
        )
    except BlockedRequestError as exc:
        raise ToolError(
            f"request blocked by the SSRF guard: {exc} (a deployment can open a host with "
            "PILOT_HTTP_ALLOWLIST)"
        ) from None
    except ResponseTooLargeError as exc:
        raise ToolError(str(exc)) from None
    except httpx.TimeoutException:
        raise ToolError("the request timed out", retryable=True) from None
    except httpx.HTTPError as exc:
        raise ToolError(f"the request failed: {type(exc).__name__}", retryable=True) from None
    if response.status_code >= 400:
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        detail = response.content[:300].decode("utf-8", "replace")
        raise ToolError(f"HTTP {response.status_code}: {detail}", retryable=retryable)
    return response


def _check_errcode(body: Any, platform: str) -> None:
    """WeCom/DingTalk answer HTTP 200 with {"errcode": n}; Feishu with {"code": n}."""
    if not isinstance(body, dict):
        return
    code = body.get("errcode", body.get("code", body.get("StatusCode", 0)))
    if code not in (0, None, "0"):
        message = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
        raise ToolError(f"{platform} refused the message (code {code}): {message}")


# --- chat webhooks --------------------------------------------------------------------


class SlackWebhook:
    name = "slack"
    description = "Post a message to a Slack incoming webhook ({'text': ...})."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "webhook_url": {"type": "string"},
            "text": {"type": "string"},
            "blocks": {"type": "array"},
        },
        "required": ["webhook_url", "text"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        payload: dict[str, Any] = {"text": str(_req(params, "text"))}
        if params.get("blocks"):
            payload["blocks"] = params["blocks"]
        response = await post_json(ctx, str(_req(params, "webhook_url")), payload)
        return {"sent": True, "status": response.status_code}


class WeComWebhook:
    name = "wecom"
    description = "企业微信群机器人: post a text message to a WeCom group-robot webhook."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "webhook_url": {"type": "string"},
            "content": {"type": "string"},
            "mentioned_list": {"type": "array", "items": {"type": "string"}},
            "mentioned_mobile_list": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["webhook_url", "content"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        text: dict[str, Any] = {"content": str(_req(params, "content"))}
        for key in ("mentioned_list", "mentioned_mobile_list"):
            if params.get(key):
                text[key] = list(params[key])
        response = await post_json(
            ctx, str(_req(params, "webhook_url")), {"msgtype": "text", "text": text}
        )
        body = response.json_or_text()
        _check_errcode(body, "WeCom")
        return {"sent": True, "status": response.status_code}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signing: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class DingTalkWebhook:
    name = "dingtalk"
    description = "钉钉自定义机器人: post a text message, signed when a secret is given."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "webhook_url": {"type": "string"},
            "content": {"type": "string"},
            "secret": {"type": "string"},
            "at_mobiles": {"type": "array", "items": {"type": "string"}},
            "at_all": {"type": "boolean"},
        },
        "required": ["webhook_url", "content"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        payload: dict[str, Any] = {
            "msgtype": "text",
            "text": {"content": str(_req(params, "content"))},
        }
        if params.get("at_mobiles") or params.get("at_all"):
            payload["at"] = {
                "atMobiles": list(params.get("at_mobiles") or []),
                "isAtAll": bool(params.get("at_all")),
            }
        query: dict[str, str] = {}
        if params.get("secret"):
            ts = int(time.time() * 1000)
            query = {"timestamp": str(ts), "sign": dingtalk_sign(str(params["secret"]), ts)}
        response = await post_json(ctx, str(_req(params, "webhook_url")), payload, params=query)
        _check_errcode(response.json_or_text(), "DingTalk")
        return {"sent": True, "status": response.status_code}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark bot signing: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FeishuWebhook:
    name = "feishu"
    description = "飞书自定义机器人: post a text message, signed when a secret is given."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "webhook_url": {"type": "string"},
            "text": {"type": "string"},
            "secret": {"type": "string"},
        },
        "required": ["webhook_url", "text"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        payload: dict[str, Any] = {
            "msg_type": "text",
            "content": {"text": str(_req(params, "text"))},
        }
        if params.get("secret"):
            ts = int(time.time())
            payload = {
                "timestamp": str(ts),
                "sign": feishu_sign(str(params["secret"]), ts),
                **payload,
            }
        response = await post_json(ctx, str(_req(params, "webhook_url")), payload)
        _check_errcode(response.json_or_text(), "Feishu")
        return {"sent": True, "status": response.status_code}


class GenericWebhook:
    name = "webhook"
    description = "Send a JSON payload to any URL (POST by default)."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "method": {"enum": ["POST", "PUT", "PATCH", "GET", "DELETE"]},
            "payload": {},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["url"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        method = str(params.get("method") or "POST").upper()
        response = await post_json(
            ctx,
            str(_req(params, "url")),
            params.get("payload") if method not in ("GET", "DELETE") else None,
            headers={str(k): str(v) for k, v in (params.get("headers") or {}).items()},
            method=method,
        )
        return {"status": response.status_code, "body": response.json_or_text()}


class SmsTool:
    name = "sms"
    description = (
        "Send an SMS through a configurable HTTP provider: POST {to, text} (and `sender`) as "
        "JSON to `provider_url` (default PILOT_SMS_URL) with a bearer key."
    )
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "to": {"type": "string"},
            "text": {"type": "string"},
            "sender": {"type": "string"},
            "provider_url": {"type": "string"},
            "api_key": {"type": "string"},
        },
        "required": ["to", "text"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        url = params.get("provider_url") or ctx.settings.sms_url
        if not url:
            raise ToolError("no SMS provider: set params.provider_url or PILOT_SMS_URL")
        key = params.get("api_key") or (
            ctx.settings.sms_api_key.get_secret_value() if ctx.settings.sms_api_key else None
        )
        payload = {"to": str(_req(params, "to")), "text": str(_req(params, "text"))}
        if params.get("sender"):
            payload["sender"] = str(params["sender"])
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await post_json(ctx, str(url), payload, headers=headers)
        return {"sent": True, "status": response.status_code, "provider": response.json_or_text()}


class EmailTool:
    name = "email"
    description = "Send an email over SMTP (aiosmtplib): implicit TLS, STARTTLS and auth."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "host": {"type": "string"},
            "port": {"type": "integer"},
            "username": {"type": "string"},
            "password": {"type": "string"},
            "use_tls": {"type": "boolean"},
            "start_tls": {"type": "boolean"},
            "ca_cert": {"type": "string", "description": "PEM of a private CA to trust"},
            "from": {"type": "string"},
            "to": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "cc": {"type": "array", "items": {"type": "string"}},
            "subject": {"type": "string"},
            "body": {"type": "string"},
            "html": {"type": "string"},
        },
        "required": ["host", "from", "to", "subject"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        import aiosmtplib

        host = str(_req(params, "host"))
        use_tls = bool(params.get("use_tls", False))
        port = int(params.get("port") or (465 if use_tls else 587))
        # the SMTP host is author-controlled like any URL: the same guard applies
        try:
            await ctx.guard.check(f"http://{host}:{port}/")
        except BlockedRequestError as exc:
            raise ToolError(f"SMTP host blocked by the SSRF guard: {exc}") from None
        to = params["to"] if isinstance(params["to"], list) else [params["to"]]
        message = EmailMessage()
        message["From"] = str(params["from"])
        message["To"] = ", ".join(str(t) for t in to)
        if params.get("cc"):
            message["Cc"] = ", ".join(str(t) for t in params["cc"])
        message["Subject"] = str(params.get("subject", ""))
        message.set_content(str(params.get("body") or ""))
        if params.get("html"):
            message.add_alternative(str(params["html"]), subtype="html")
        start_tls = params.get("start_tls")
        tls_context = None
        if params.get("ca_cert"):
            try:
                tls_context = ssl.create_default_context(cadata=str(params["ca_cert"]))
            except (ssl.SSLError, ValueError) as exc:
                raise ToolError(f"ca_cert is not a usable PEM certificate: {exc}") from None
        try:
            errors, reply = await aiosmtplib.send(
                message,
                hostname=host,
                port=port,
                username=params.get("username") or None,
                password=params.get("password") or None,
                use_tls=use_tls,
                start_tls=None if start_tls is None else bool(start_tls),
                tls_context=tls_context,
                timeout=ctx.timeout_s,
            )
        except aiosmtplib.SMTPAuthenticationError:
            raise ToolError("the SMTP server rejected the username or password") from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise ToolError(f"the SMTP server refused the recipients: {exc}") from None
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            # a certificate that does not verify will not verify on the next attempt either
            bad_cert = isinstance(exc, ssl.SSLCertVerificationError) or (
                "CERTIFICATE_VERIFY_FAILED" in str(exc)
            )
            raise ToolError(
                f"could not reach the SMTP server: {exc}", retryable=not bad_cert
            ) from None
        except aiosmtplib.SMTPException as exc:
            raise ToolError(f"SMTP failed: {exc}") from None
        return {"sent": True, "recipients": to, "refused": sorted(errors), "reply": reply}


# --- calculator -----------------------------------------------------------------------

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "floor": math.floor,
    "ceil": math.ceil,
}
_CONSTS = {"pi": math.pi, "e": math.e}
MAX_EXPRESSION_CHARS = 500
MAX_POWER = 1000


def calculate(expression: str, variables: dict[str, Any] | None = None) -> float | int:
    """Evaluate arithmetic by walking its syntax tree: numbers, + - * / // % **, unary
    signs, parentheses, named variables, and a fixed set of math functions. No eval."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError("the expression is too long")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise ToolError(f"not an arithmetic expression: {expression!r}") from None
    names = {**_CONSTS, **(variables or {})}

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > MAX_POWER:
                raise ToolError(f"exponent over {MAX_POWER}")
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ToolError(f"unknown name {node.id!r}")
            value = names[node.id]
            if isinstance(value, bool) or not isinstance(value, int | float):
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise ToolError(f"variable {node.id!r} is not a number") from None
            return value
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
            and not node.keywords
        ):
            return _FUNCS[node.func.id](*[ev(a) for a in node.args])
        raise ToolError(f"not allowed in a calculation: {ast.dump(node)[:60]}")

    try:
        result = ev(tree)
    except ZeroDivisionError:
        raise ToolError("division by zero") from None
    except (OverflowError, ValueError, TypeError) as exc:
        raise ToolError(f"cannot calculate: {exc}") from None
    if isinstance(result, float) and result.is_integer() and abs(result) < 2**53:
        return int(result)
    return result  # type: ignore[no-any-return]


class Calculator:
    name = "calculator"
    description = "Safe arithmetic: + - * / // % ** (or ^), parentheses, sqrt, round, min, max..."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"expression": {"type": "string"}, "variables": {"type": "object"}},
        "required": ["expression"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        return {"result": calculate(str(_req(params, "expression")), params.get("variables"))}


# --- date and time --------------------------------------------------------------------


def _tz(name: str | None) -> Any:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"unknown time zone {name!r}") from None


def _parse_dt(value: Any, tz: Any) -> datetime:
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ToolError(f"not an ISO 8601 date/time: {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


class DateTimeTool:
    name = "datetime"
    description = (
        "Dates and times: op now | format | add | diff | parse (ISO 8601, IANA time zones)."
    )
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "op": {"enum": ["now", "format", "add", "diff", "parse"]},
            "value": {"type": "string"},
            "other": {"type": "string"},
            "timezone": {"type": "string"},
            "format": {"type": "string"},
            "days": {"type": "number"},
            "hours": {"type": "number"},
            "minutes": {"type": "number"},
            "seconds": {"type": "number"},
        },
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        op = params.get("op") or "now"
        tz = _tz(params.get("timezone"))
        if op == "now":
            dt = datetime.now(tz)
        else:
            dt = _parse_dt(_req(params, "value"), tz).astimezone(tz)
        if op == "add":
            dt += timedelta(
                days=float(params.get("days") or 0),
                hours=float(params.get("hours") or 0),
                minutes=float(params.get("minutes") or 0),
                seconds=float(params.get("seconds") or 0),
            )
        if op == "diff":
            other = _parse_dt(_req(params, "other"), tz)
            return {
                "seconds": (other - dt).total_seconds(),
                "days": (other - dt).total_seconds() / 86400,
            }
        out: dict[str, Any] = {
            "iso": dt.isoformat(),
            "timestamp": dt.timestamp(),
            "date": dt.date().isoformat(),
            "weekday": dt.strftime("%A"),
        }
        if params.get("format"):
            out["formatted"] = dt.strftime(str(params["format"]))
        return out


# --- JSON and CSV ---------------------------------------------------------------------


def _get_path(data: Any, path: str) -> Any:
    for part in [p for p in path.replace("[", ".").replace("]", "").split(".") if p]:
        if isinstance(data, dict):
            data = data.get(part)
        elif (
            isinstance(data, list)
            and part.lstrip("-").isdigit()
            and -len(data) <= int(part) < len(data)
        ):
            data = data[int(part)]
        else:
            return None
    return data


class JsonTool:
    name = "json"
    description = "JSON transforms: op parse | stringify | get (dotted path) | pick (keys) | merge."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "op": {"enum": ["parse", "stringify", "get", "pick", "merge"]},
            "data": {},
            "path": {"type": "string"},
            "keys": {"type": "array", "items": {"type": "string"}},
            "with": {"type": "object"},
            "indent": {"type": "integer"},
        },
        "required": ["op"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        op, data = params["op"], params.get("data")
        if isinstance(data, str) and op != "stringify":
            try:
                data = json.loads(data)
            except ValueError:
                if op == "parse":
                    raise ToolError("the data is not valid JSON") from None
        if op == "parse":
            return data
        if op == "stringify":
            return json.dumps(data, ensure_ascii=False, indent=params.get("indent"), default=str)
        if op == "get":
            return _get_path(data, str(params.get("path") or ""))
        if op == "pick":
            if not isinstance(data, dict):
                raise ToolError("pick needs an object")
            return {k: data[k] for k in params.get("keys") or [] if k in data}
        if op == "merge":
            if not isinstance(data, dict):
                raise ToolError("merge needs an object")
            return {**data, **(params.get("with") or {})}
        raise ToolError(f"unknown op {op!r}")


class CsvTool:
    name = "csv"
    description = "CSV transforms: op parse (text -> rows as objects) | format (rows -> text)."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "op": {"enum": ["parse", "format"]},
            "data": {},
            "delimiter": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["op", "data"],
    }

    async def run(self, params: dict[str, Any], ctx: ToolContext) -> Any:
        delimiter = str(params.get("delimiter") or ",")
        data = params["data"]
        if params["op"] == "parse":
            reader = csv.DictReader(io.StringIO(str(data)), delimiter=delimiter)
            return [dict(row) for row in reader]
        if params["op"] == "format":
            if isinstance(data, str):
                data = json.loads(data)
            rows = [r for r in data if isinstance(r, dict)]
            columns = params.get("columns") or list(dict.fromkeys(k for r in rows for k in r))
            buf = io.StringIO()
            writer = csv.DictWriter(
                buf,
                fieldnames=columns,
                delimiter=delimiter,
                extrasaction="ignore",
                lineterminator="\n",
            )
            writer.writeheader()
            writer.writerows(rows)
            return buf.getvalue()
        raise ToolError(f"unknown op {params['op']!r}")


def builtin_tools() -> list[Tool]:
    return [
        SlackWebhook(),
        WeComWebhook(),
        DingTalkWebhook(),
        FeishuWebhook(),
        GenericWebhook(),
        SmsTool(),
        EmailTool(),
        Calculator(),
        DateTimeTool(),
        JsonTool(),
        CsvTool(),
    ]
