"""The workflow panel at `/` in a real headless Chromium (Debian's), driven by Playwright.

Generate from a prompt, see the nodes drawn, edit a node (and meet a conflict), run it, see
every node reach completed and the output appear; a screenshot of each panel state is saved
under `UI_SCREENSHOTS_DIR` (`make test-ui` names it; default test-artifacts/screenshots).
"""

from __future__ import annotations

import json
import os
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
