"""The pure built-in tools (calculator, datetime, JSON, CSV) and the tool registry."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from pilot_runners.safe_http import SafeHttpClient, SsrfGuard
from pilot_runners.settings import RunnerSettings
from pilot_runners.tools import ToolContext, ToolError, ToolRegistry, builtin_tools
from pilot_runners.tools import registry as registry_module
from pilot_runners.tools.builtin import calculate, dingtalk_sign, feishu_sign


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    guard = SsrfGuard()
    return ToolContext(
        http=SafeHttpClient(guard),
        guard=guard,
        settings=RunnerSettings(data_dir=tmp_path),
        node_context={},
    )


async def run(tool: str, params: dict[str, Any], ctx: ToolContext) -> Any:
    found = ToolRegistry(builtin_tools()).get(tool)
    assert found is not None
    return await found.run(params, ctx)


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ** 10", 1024),
        ("2 ^ 3", 8),
        ("7 // 2 + 7 % 2", 4),
        ("-3 + +5", 2),
        ("10 / 4", 2.5),
        ("sqrt(16) + abs(-2)", 6),
        ("round(pi, 2)", 3.14),
        ("max(1, 5, 3) - min(4, 2)", 3),
        ("price * qty", 30),
    ],
)
def test_calculator(expr: str, value: float) -> None:
    assert calculate(expr, {"price": 10, "qty": "3"}) == value


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('x')",
        "().__class__",
        "open('/etc/passwd')",
        "lambda: 1",
        "[1, 2]",
        "'a' * 3",
        "9 ** 9 ** 9",
        "1 / 0",
        "x",
        "1 +",
    ],
)
def test_calculator_refuses_anything_else(expr: str) -> None:
    with pytest.raises(ToolError):
        calculate(expr)


async def test_datetime(ctx: ToolContext) -> None:
    out = await run(
        "datetime",
        {
            "op": "add",
            "value": "2026-01-30T10:00:00+00:00",
            "days": 2,
            "timezone": "Asia/Shanghai",
            "format": "%Y/%m/%d %H:%M",
        },
        ctx,
    )
    assert out["iso"] == "2026-02-01T18:00:00+08:00" and out["formatted"] == "2026/02/01 18:00"
    assert out["weekday"] == "Sunday"
    diff = await run(
        "datetime", {"op": "diff", "value": "2026-01-01", "other": "2026-01-03T12:00:00"}, ctx
    )
    assert diff == {"seconds": 216000.0, "days": 2.5}
    now = await run("datetime", {"op": "now"}, ctx)
    assert now["iso"].endswith("+00:00")
    with pytest.raises(ToolError):
        await run("datetime", {"op": "now", "timezone": "Mars/Olympus"}, ctx)


async def test_json_transforms(ctx: ToolContext) -> None:
    data = {"user": {"name": "Li", "tags": ["a", "b"]}, "n": 1}
    assert await run("json", {"op": "get", "data": data, "path": "user.tags[1]"}, ctx) == "b"
    assert await run("json", {"op": "get", "data": data, "path": "user.missing"}, ctx) is None
    assert await run("json", {"op": "parse", "data": '{"a": [1]}'}, ctx) == {"a": [1]}
    assert (
        await run("json", {"op": "stringify", "data": {"城市": "杭州"}}, ctx) == '{"城市": "杭州"}'
    )
    assert await run("json", {"op": "pick", "data": data, "keys": ["n", "zzz"]}, ctx) == {"n": 1}
    assert await run("json", {"op": "merge", "data": {"a": 1}, "with": {"b": 2}}, ctx) == {
        "a": 1,
        "b": 2,
    }
    with pytest.raises(ToolError):
        await run("json", {"op": "parse", "data": "{nope"}, ctx)


async def test_csv_transforms(ctx: ToolContext) -> None:
    rows = await run("csv", {"op": "parse", "data": 'name,qty\nkettle,2\n"lamp, big",1\n'}, ctx)
    assert rows == [{"name": "kettle", "qty": "2"}, {"name": "lamp, big", "qty": "1"}]
    text = await run("csv", {"op": "format", "data": rows}, ctx)
    assert text == 'name,qty\nkettle,2\n"lamp, big",1\n'
    assert (
        await run("csv", {"op": "format", "data": rows, "columns": ["qty"], "delimiter": ";"}, ctx)
        == "qty\n2\n1\n"
    )


def test_signatures_match_the_documented_algorithms() -> None:
    # DingTalk: HmacSHA256(key=secret, "ts\nsecret"); Feishu: HmacSHA256(key="ts\nsecret", "")
    assert (
        dingtalk_sign("SEC123", 1700000000000) == "lkcPI1uoxBY1gUnCnnPH1Kkru0Hqjo7rFpA3haIVhEQ="
    )  # openssl
    assert (
        feishu_sign("abc", 1700000000) == "VIS10b0EBvzzSdFnuk4tznEmK5wHaruvf/WnViv2yR4="
    )  # openssl


def test_registry_loads_plugins_and_survives_broken_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = ToolRegistry.default()
    assert {
        "slack",
        "wecom",
        "dingtalk",
        "feishu",
        "email",
        "sms",
        "webhook",
        "calculator",
        "datetime",
        "json",
        "csv",
        "word_count",
    } <= set(registry.names())
    assert any(t["name"] == "word_count" and t["params_schema"] for t in registry.describe())

    broken = [
        EntryPoint("broken", "no_such_module_xyz:Tool", "pilot.tools"),
        EntryPoint("slack", "pilot_tool_example:WordCount", "pilot.tools"),  # shadows a built-in
    ]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: broken)
    registry = ToolRegistry(builtin_tools())
    assert registry.load_plugins() == []
    assert set(registry.errors) == {"broken", "slack"}
    assert "ModuleNotFoundError" in registry.errors["broken"]
    assert "already taken" in registry.errors["slack"]
