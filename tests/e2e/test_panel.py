"""The workflow panel at `/` in a real headless Chromium (Debian's), driven by Playwright.

Generate from a prompt, see the nodes drawn, edit a node (and meet a conflict), run it, see
every node reach completed and the output appear; a screenshot of each panel state is saved
under `UI_SCREENSHOTS_DIR` (`make test-ui` names it; default test-artifacts/screenshots).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import PilotUp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("UI_SCREENSHOTS_DIR", "test-artifacts/screenshots"))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium: run `make browser`",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def api(up: PilotUp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {up.admin_key}", **kwargs.pop("headers", {})}
    return httpx.request(method, up.base_url + path, headers=headers, timeout=60, **kwargs)


def test_page_is_served_without_a_key(pilot_up: PilotUp) -> None:
    page = httpx.get(pilot_up.base_url + "/", timeout=10)
    assert page.status_code == 200
    assert '<script type="module" src="/ui/app.js">' in page.text
    for module in ("app.js", "api.js", "graph.js", "i18n.js", "panels.js", "styles.css"):
        assert httpx.get(f"{pilot_up.base_url}/ui/{module}", timeout=10).status_code == 200


def test_generate_edit_run_in_the_panel(pilot_up: PilotUp, browser: Any) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(pilot_up.base_url + "/")
        assert page.locator("body").get_attribute("data-state") == "hidden"
        assert page.locator("#generate").inner_text() == "Generate"
        page.fill("#api-key", pilot_up.admin_key)
        page.click("#save-key")
        page.fill("#prompt", "Translate a text into French")
        shot(page, "01-hidden")

        # Generating: hold the request so the state can be seen, then let it through.
        held: list[Any] = []
        page.route("**/api/workflows/generate", lambda route: held.append(route))
        page.click("#generate")
        page.wait_for_function("document.body.dataset.state === 'generating'")
        while not held:
            page.wait_for_timeout(50)
        shot(page, "02-generating")
        held[0].continue_()
        page.wait_for_function("document.body.dataset.state === 'editing'", timeout=60_000)
        page.unroute("**/api/workflows/generate")

        # Editing: every node of the stored workflow is drawn, with its connections.
        workflow_id = page.evaluate("location.hash.slice(1)")
        workflow = api(pilot_up, "GET", f"/api/workflows/{workflow_id}").json()
        drawn = page.eval_on_selector_all("g.node", "gs => gs.map(g => g.dataset.nodeId)")
        assert sorted(drawn) == sorted(n["id"] for n in workflow["nodes"])
        assert page.locator("g.edge").count() == len(workflow["connections"])
        input_node = next(n for n in workflow["nodes"] if n["type"] == "input")
        fields = input_node["config"]["schema"]["properties"]
        assert page.locator("#run-form input, #run-form textarea").count() == len(fields)
        shot(page, "03-editing")

        # Edit the LLM node's config: saved as a new version through the API.
        llm = next(n for n in workflow["nodes"] if n["type"] == "llm")
        page.click(f'g.node[data-node-id="{llm["id"]}"]')
        config = json.loads(page.input_value("#editor-config"))
        assert config == llm["config"]
        config["prompt"] += "\nKeep it short."
        page.fill("#editor-config", json.dumps(config, indent=2))
        page.click("#editor-save")
        page.wait_for_selector("#editor-message.ok")
        assert "version 2" in page.inner_text("#editor-message")
        stored = api(pilot_up, "GET", f"/api/workflows/{workflow_id}").json()
        assert stored["version"] == 2
        stored_llm = next(n for n in stored["nodes"] if n["id"] == llm["id"])
        assert stored_llm["config"]["prompt"].endswith("Keep it short.")
        shot(page, "04-node-edited")

        # Someone else saves meanwhile: the panel's next save is a conflict, shown as such.
        other = api(
            pilot_up,
            "PATCH",
            f"/api/workflows/{workflow_id}/nodes/{llm['id']}",
            json={"name": "Translate (renamed elsewhere)"},
            headers={"If-Match": '"2"'},
        )
        assert other.status_code == 200, other.text
        # The collaboration socket tells the page at once.
        page.wait_for_selector("#message.notice")
        assert "version 3" in page.inner_text("#message")
        assert page.locator("#editor-message.ok").count() == 1  # no silent reload
        page.fill("#editor-config", json.dumps({**config, "prompt": "Conflicting edit"}))
        page.click("#editor-save")
        page.wait_for_selector("#editor-message.error")
        assert "Conflict" in page.inner_text("#editor-message")
        shot(page, "05-conflict")
        page.click("#editor-reload")
        page.wait_for_function("document.getElementById('wf-meta').textContent.includes('3')")
        page.click("#editor-close")

        # Run: inputs from the input node's schema, live events, every node completed.
        for name in fields:
            page.fill(f'#run-form [name="{name}"]', "Good morning, how are you?")
        page.click("#run-button")
        page.wait_for_function("document.body.dataset.state === 'executing'")
        page.wait_for_selector('#final-output[data-status="completed"]', timeout=90_000)
        statuses = page.eval_on_selector_all(
            "g.node", "gs => Object.fromEntries(gs.map(g => [g.dataset.nodeId, g.dataset.status]))"
        )
        assert statuses == {n["id"]: "completed" for n in workflow["nodes"]}
        assert page.inner_text("#final-output").strip()
        assert page.locator(f'#chunks .chunk[data-node-id="{llm["id"]}"]').inner_text().strip()
        assert "ms" in page.inner_text("#totals")
        metrics = page.text_content(f'g.node[data-node-id="{llm["id"]}"] text.metrics') or ""
        assert "ms" in metrics
        page.wait_for_selector("#execution-list a")
        shot(page, "06-executing")

        # A run started elsewhere (here: the API, 202) is followed live over the socket.
        started = api(
            pilot_up,
            "POST",
            f"/api/workflows/{workflow_id}/execute",
            json={"input_data": {name: "Bonjour" for name in fields}},
        )
        assert started.status_code == 202, started.text
        elsewhere = started.json()["execution_id"]
        page.wait_for_selector(f'#totals[data-execution-id="{elsewhere}"]', timeout=30_000)
        page.wait_for_selector('#final-output[data-status="completed"]', timeout=90_000)
        statuses = page.eval_on_selector_all(
            "g.node", "gs => Object.fromEntries(gs.map(g => [g.dataset.nodeId, g.dataset.status]))"
        )
        assert statuses == {n["id"]: "completed" for n in workflow["nodes"]}
        page.wait_for_function("document.querySelectorAll('#execution-list a').length === 2")

        # Past executions and their log.
        page.click("#execution-list a")
        page.wait_for_function("document.getElementById('execution-log').textContent.length > 0")
        assert llm["id"] in page.inner_text("#execution-log")

        # Chinese, switched by hand (and kept across a reload).
        page.select_option("#lang", "zh")
        assert page.inner_text("#generate") == "生成"
        assert page.inner_text("#state-badge") == "执行中"
        shot(page, "07-chinese")
        page.reload()
        assert page.inner_text("#generate") == "生成"
        assert not errors, errors
    finally:
        context.close()


def test_chinese_browser_and_a_graph_with_branches_and_a_loop(
    pilot_up: PilotUp, browser: Any
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(pilot_up.base_url + "/")
        assert page.inner_text("#generate") == "生成"
        page.fill("#api-key", pilot_up.admin_key)
        page.click("#save-key")
        page.fill(
            "#prompt",
            "For each customer message in a list, classify it; "
            "if it is negative draft an apology, else a thank you",
        )
        page.click("#generate")
        page.wait_for_function("document.body.dataset.state === 'editing'", timeout=60_000)
        workflow_id = page.evaluate("location.hash.slice(1)")
        workflow = api(pilot_up, "GET", f"/api/workflows/{workflow_id}").json()
        handles = {c["source_handle"] for c in workflow["connections"] if c["source_handle"]}
        labels = page.eval_on_selector_all("text.edge-label", "ts => ts.map(t => t.textContent)")
        assert set(labels) == handles
        loops = [n for n in workflow["nodes"] if n["type"] == "loop"]
        assert page.locator("g.loop-group").count() == len(loops)
        shot(page, "08-branches-and-loop-zh")
    finally:
        context.close()


# --- stats and suggestions (#9) ---------------------------------------------------------


def insight_workflow() -> dict[str, Any]:
    """An LLM answer, an api node the SSRF guard always blocks (continued past, so the run
    goes on) and a condition whose "true" branch is never taken by the inputs below."""
    workflow: dict[str, Any] = {
        "name": "Insights demo",
        "nodes": [
            {
                "id": "input_1",
                "type": "input",
                "config": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "user_message": {"type": "string"},
                            "n": {"type": "integer"},
                        },
                        "required": ["user_message", "n"],
                    }
                },
            },
            {
                "id": "llm_1",
                "type": "llm",
                "config": {"prompt": "Answer: {{ input.user_message }}"},
            },
            {
                "id": "api_1",
                "type": "api",
                "config": {"method": "GET", "url": "http://127.0.0.1:9/blocked"},
                "on_error": {"strategy": "continue", "default_output": {}},
            },
            {"id": "cond_1", "type": "condition", "config": {"expression": "input.n > 100"}},
            {"id": "out_big", "type": "output", "config": {"value": "big"}},
            {"id": "out_small", "type": "output", "config": {"value": "{{ nodes.llm_1.output }}"}},
        ],
        "connections": [
            {"id": "c1", "source": "input_1", "target": "llm_1"},
            {"id": "c2", "source": "llm_1", "target": "api_1"},
            {"id": "c3", "source": "api_1", "target": "cond_1"},
            {"id": "c4", "source": "cond_1", "target": "out_big", "source_handle": "true"},
            {"id": "c5", "source": "cond_1", "target": "out_small", "source_handle": "false"},
        ],
    }
    # laid out left to right, the branches one above the other
    places = {"input_1": (0, 80), "llm_1": (240, 80), "api_1": (480, 80), "cond_1": (720, 80)}
    places |= {"out_big": (960, 0), "out_small": (960, 160)}
    for node in workflow["nodes"]:
        x, y = places[node["id"]]
        node["position"] = {"x": x, "y": y}
    return workflow


def run_and_wait(up: PilotUp, workflow_id: str, data: dict[str, Any]) -> None:
    r = api(up, "POST", f"/api/workflows/{workflow_id}/execute", json={"input_data": data})
    assert r.status_code == 202, r.text
    execution_id = r.json()["execution_id"]
    deadline = time.monotonic() + 60
    while api(up, "GET", f"/api/executions/{execution_id}").json()["status"] in (
        "pending",
        "running",
    ):
        assert time.monotonic() < deadline, f"execution {execution_id} did not finish"
        time.sleep(0.1)


def shown_ms(value: float | None) -> str:
    """As the panel shows a duration (JavaScript's Math.round)."""
    return "–" if value is None else f"{math.floor(value + 0.5)} ms"


def shown_rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def test_stats_and_suggestions_of_a_workflow_that_ran(pilot_up: PilotUp, browser: Any) -> None:
    created = api(pilot_up, "POST", "/api/workflows", json=insight_workflow())
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    for n in (1, 2, 3):
        run_and_wait(pilot_up, workflow_id, {"user_message": f"question {n}", "n": n})
    stats = api(pilot_up, "GET", f"/api/workflows/{workflow_id}/stats").json()
    advice = api(pilot_up, "GET", f"/api/workflows/{workflow_id}/suggestions").json()
    assert stats["runs"] == 3 and stats["by_status"] == {"completed": 3}

    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(pilot_up.base_url + "/")
        page.fill("#api-key", pilot_up.admin_key)
        page.click("#save-key")
        page.goto(f"{pilot_up.base_url}/#{workflow_id}")
        page.reload()
        page.wait_for_selector("#stats-nodes tbody tr")
        page.wait_for_selector("#suggestions-body li")

        def figure(key: str) -> str:
            return str(page.inner_text(f'#stats-summary dd[data-key="{key}"]'))

        assert figure("runs") == "3"
        assert figure("success_rate") == shown_rate(stats["success_rate"]) == "100.0%"
        assert figure("p50") == shown_ms(stats["duration"]["p50_ms"])
        assert figure("p95") == shown_ms(stats["duration"]["p95_ms"])
        assert figure("cost_total") == f"${stats['cost']['total_usd']:.6f}"
        assert "3 executions" in page.inner_text("#stats-window")
        rows = page.eval_on_selector_all(
            "#stats-nodes tbody tr",
            "trs => trs.map(tr => Object.fromEntries("
            "[...tr.children].map(td => [td.dataset.col, td.textContent])))",
        )
        assert [r["node"] for r in rows] == [n["node_id"] for n in stats["nodes"]]
        for row, node in zip(rows, stats["nodes"], strict=True):
            assert row["runs"] == str(node["runs"])
            assert row["retries"] == str(node["retries"])
            assert row["success"] == shown_rate(node["success_rate"])
            assert row["p95"] == shown_ms(node["p95_ms"])
        (api_row,) = [r for r in rows if r["node"] == "api_1"]
        assert api_row["success"] == "0.0%"  # every call blocked, continued past

        shown = page.eval_on_selector_all(
            "#suggestions-body li", "lis => lis.map(li => [li.dataset.kind, li.dataset.nodeId])"
        )
        assert shown == [[s["kind"], s["node_id"]] for s in advice["suggestions"]]
        kinds = {(s["kind"], s["node_id"]) for s in advice["suggestions"]}
        assert ("flaky_node", "api_1") in kinds and ("branch_never_taken", "cond_1") in kinds
        (flaky,) = [s for s in advice["suggestions"] if s["kind"] == "flaky_node"]
        # a URL the SSRF guard refuses fails the same way every time: retrying is no fix
        assert flaky["evidence"]["retryable_failures"] == 0
        assert "not retryable" in flaky["detail"] and "add a retry" not in flaky["detail"]
        assert flaky["detail"] in page.inner_text("#suggestions-body")
        page.locator("#stats").scroll_into_view_if_needed()
        shot(page, "09-stats-and-suggestions")

        page.select_option("#lang", "zh")
        assert page.inner_text("#stats h3 span") == "统计"
        assert page.inner_text("#stats-summary dt") == "执行次数"
        assert "最近 3 次执行" in page.inner_text("#stats-window")
        text = page.inner_text("#suggestions-body")
        assert "从未被选择" in text and "api_1 有 100% 的尝试失败" in text and "不可重试" in text
        assert figure("p95") == shown_ms(stats["duration"]["p95_ms"])
        shot(page, "10-stats-and-suggestions-zh")
        assert not errors, errors
    finally:
        context.close()
