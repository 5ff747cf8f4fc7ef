// The workflow panel: hidden → generating → editing → executing.
import { api, ApiError, executeStream, getKey, setKey } from "./api.js";
import { drawGraph, resetStatuses, setNodeStatus } from "./graph.js";
import { openLive } from "./live.js";
import { applyStatic, getLang, setLang, t } from "./i18n.js";
import { buildRunForm, loadExecutions, loadInsights, readRunForm, renderInsights } from "./panels.js";

const $ = (id) => document.getElementById(id);
const svg = $("graph");
let workflow = null;
let editing = null; // the node whose config is in the editor
let running = false;
let saving = false;
let liveFor = null; // the workflow whose socket is open

function setState(state) {
  document.body.dataset.state = state;
  $("state-badge").dataset.i18n = `state_${state}`;
  $("state-badge").textContent = t(`state_${state}`);
}

function message(el, text, kind = "") {
  el.textContent = text;
  el.className = `message ${kind}`;
}

function renderMeta() {
  if (!workflow) return;
  $("wf-meta").textContent =
    `${workflow.id} · ${t("version")} ${workflow.version}` +
    (workflow.estimated_cost != null ? ` · ~$${workflow.estimated_cost}` : "") +
    (workflow.execution_time ? ` · ${workflow.execution_time}` : "");
}

function renderRunStatus(status) {
  const el = $("run-status");
  if (status !== undefined) el.dataset.status = status;
  if (el.dataset.status) el.textContent = `${t("status")}: ${t(`run_${el.dataset.status}`)}`;
}

function showWorkflow(next) {
  workflow = next;
  $("wf-name").textContent = workflow.name || workflow.id;
  renderMeta();
  drawGraph(svg, workflow, openEditor);
  buildRunForm($("run-form"), workflow);
  loadExecutions(workflow.id);
  loadInsights(workflow.id);
  if (liveFor !== workflow.id) {
    liveFor = workflow.id;
    openLive(workflow.id, onLive);
  }
}

async function generate() {
  if (!getKey()) return message($("message"), t("needKey"), "error");
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  const integrations = $("integrations").value.split(",").map((s) => s.trim()).filter(Boolean);
  setState("generating");
  message($("message"), "");
  $("generate").disabled = true;
  try {
    const result = await api("POST", "/api/workflows/generate", {
      prompt,
      user_preferences: { complexity: $("complexity").value, integrations },
    });
    closeEditor();
    showWorkflow(result.workflow);
    history.replaceState(null, "", `#${result.workflow_id}`);
    setState("editing");
  } catch (err) {
    setState(workflow ? "editing" : "hidden");
    message($("message"), `${t("error")}: ${err.message}`, "error");
  } finally {
    $("generate").disabled = false;
  }
}

function openEditor(node) {
  if (!running) setState("editing");
  editing = node;
  for (const g of svg.querySelectorAll("g.node")) {
    g.classList.toggle("selected", g.dataset.nodeId === node.id);
  }
  $("editor").hidden = false;
  $("editor-node").textContent = `${node.id} (${node.type})`;
  $("editor-config").value = JSON.stringify(node.config, null, 2);
  $("editor-reload").hidden = true;
  message($("editor-message"), "");
}

function closeEditor() {
  editing = null;
  $("editor").hidden = true;
  for (const g of svg.querySelectorAll("g.node.selected")) g.classList.remove("selected");
}

async function saveNode() {
  if (!editing) return;
  let config;
  try {
    config = JSON.parse($("editor-config").value);
  } catch (err) {
    return message($("editor-message"), t("invalidJson", { e: err.message }), "error");
  }
  const based = workflow.version;
  saving = true;
  try {
    const next = await api(
      "PATCH",
      `/api/workflows/${encodeURIComponent(workflow.id)}/nodes/${encodeURIComponent(editing.id)}`,
      { config },
      { "If-Match": `"${based}"` },
    );
    const nodeId = editing.id;
    showWorkflow(next);
    openEditor(next.nodes.find((n) => n.id === nodeId));
    message($("editor-message"), t("saved", { v: next.version }), "ok");
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      message($("editor-message"), t("conflict", { v: based }), "error");
      $("editor-reload").hidden = false;
    } else {
      message($("editor-message"), `${t("error")}: ${err.message}`, "error");
    }
  } finally {
    saving = false;
  }
}

async function reloadWorkflow() {
  const nodeId = editing?.id;
  const next = await api("GET", `/api/workflows/${encodeURIComponent(workflow.id)}`);
  showWorkflow(next);
  message($("message"), "");
  const node = next.nodes.find((n) => n.id === nodeId);
  if (node) openEditor(node);
}

function formatMetrics(data) {
  const parts = [];
  if (data.duration_ms != null) parts.push(`${Math.round(data.duration_ms)} ms`);
  const cost = data.usage?.cost_usd;
  if (cost) parts.push(`$${cost.toFixed(6)}`);
  return parts.join(" · ");
}

// A fresh view of one execution; returns the handler of its events (SSE or socket).
function executionView() {
  setState("executing");
  resetStatuses(svg);
  $("chunks").replaceChildren();
  $("final-output").textContent = "";
  delete $("final-output").dataset.status;
  $("totals").className = "muted";
  $("totals").textContent = "";
  let totalMs = 0;
  let totalCost = 0;
  const chunkBoxes = {};
  const showTotals = () => {
    $("totals").textContent = t("totals", { ms: Math.round(totalMs), cost: totalCost.toFixed(6) });
  };
  return (ev) => {
    const data = ev.data || {};
    if (ev.type.startsWith("execution.")) renderRunStatus(ev.type.split(".")[1]);
    switch (ev.type) {
      case "execution.started":
        $("totals").dataset.executionId = ev.execution_id;
        break;
      case "node.started":
        setNodeStatus(svg, ev.node_id, "running");
        break;
      case "node.retrying":
        setNodeStatus(svg, ev.node_id, "retrying", `retry ${data.attempt ?? ""} ${data.error ?? ""}`.trim());
        break;
      case "node.chunk": {
        let box = chunkBoxes[ev.node_id];
        if (!box) {
          box = document.createElement("div");
          box.className = "chunk";
          box.dataset.nodeId = ev.node_id;
          const title = document.createElement("b");
          title.textContent = ev.node_id;
          const text = document.createElement("span");
          box.append(title, text);
          $("chunks").append(box);
          chunkBoxes[ev.node_id] = box;
        }
        box.querySelector("span").textContent += data.text || "";
        break;
      }
      case "node.completed":
        totalMs += data.duration_ms || 0;
        totalCost += data.usage?.cost_usd || 0;
        setNodeStatus(svg, ev.node_id, "completed", formatMetrics(data));
        showTotals();
        break;
      case "node.failed":
        setNodeStatus(svg, ev.node_id, "failed", String(data.error?.message ?? data.error ?? "").slice(0, 40));
        break;
      case "node.skipped":
        setNodeStatus(svg, ev.node_id, "skipped");
        break;
      case "execution.completed": {
        const output = data.output ?? data.outputs ?? data;
        $("final-output").textContent =
          typeof output === "string" ? output : JSON.stringify(output, null, 2);
        $("final-output").dataset.status = "completed";
        if (data.duration_ms != null) totalMs = data.duration_ms;
        if (data.usage?.cost_usd != null) totalCost = data.usage.cost_usd;
        showTotals();
        break;
      }
      case "execution.failed":
      case "execution.cancelled":
        $("final-output").textContent = `${ev.type}: ${JSON.stringify(data.error ?? data, null, 2)}`;
        $("final-output").dataset.status = ev.type.split(".")[1];
        break;
    }
  };
}

const ownExecutions = new Set(); // runs of this page, followed over SSE, not the socket
const foreignViews = {}; // execution id -> handler, for runs started elsewhere

async function run() {
  if (!workflow) return;
  let inputData;
  try {
    inputData = readRunForm($("run-form"));
  } catch (err) {
    return message($("totals"), t("invalidJson", { e: err.message }), "error");
  }
  running = true;
  $("run-button").disabled = true;
  const view = executionView();
  renderRunStatus("running");
  try {
    await executeStream(workflow.id, inputData, (ev) => {
      ownExecutions.add(ev.execution_id);
      view(ev);
    });
  } catch (err) {
    message($("totals"), `${t("error")}: ${err.message}`, "error");
  } finally {
    running = false;
    $("run-button").disabled = false;
    loadExecutions(workflow.id);
    loadInsights(workflow.id);
  }
}

// Messages of the workflow's socket: others' edits and executions started elsewhere.
function onLive(msg) {
  if (!workflow || (msg.workflow_id && msg.workflow_id !== workflow.id)) return;
  if (msg.type === "workflow.updated") {
    // A save of this page is announced too: judge it once the save has answered.
    const judge = () => {
      if (saving) return setTimeout(judge, 200);
      if (msg.version > workflow.version) {
        message($("message"), t("changedElsewhere", { by: msg.by_username || "?", v: msg.version }), "notice");
      }
    };
    return judge();
  }
  if (!msg.execution_id || running || ownExecutions.has(msg.execution_id)) return;
  let view = foreignViews[msg.execution_id];
  if (!view) {
    if (msg.type !== "execution.started") return; // joined mid-run: wait for the next one
    view = foreignViews[msg.execution_id] = executionView();
  }
  view(msg);
  if (["execution.completed", "execution.failed", "execution.cancelled"].includes(msg.type)) {
    delete foreignViews[msg.execution_id];
    loadExecutions(workflow.id);
    loadInsights(workflow.id);
  }
}

async function openFromHash() {
  const id = location.hash.slice(1);
  if (!id || !getKey()) return;
  try {
    showWorkflow(await api("GET", `/api/workflows/${encodeURIComponent(id)}`));
    setState("editing");
  } catch (err) {
    message($("message"), `${t("error")}: ${err.message}`, "error");
  }
}

function init() {
  $("lang").value = getLang();
  applyStatic();
  setState("hidden");
  $("api-key").value = getKey();
  $("lang").addEventListener("change", (ev) => {
    setLang(ev.target.value);
    setState(document.body.dataset.state);
    renderMeta();
    renderRunStatus();
    renderInsights();
    if (workflow) loadExecutions(workflow.id);
  });
  $("stats-refresh").addEventListener("click", () => workflow && loadInsights(workflow.id));
  $("save-key").addEventListener("click", () => {
    setKey($("api-key").value);
    message($("message"), t("keySaved"), "ok");
  });
  $("generate").addEventListener("click", generate);
  $("editor-save").addEventListener("click", saveNode);
  $("editor-close").addEventListener("click", closeEditor);
  $("editor-reload").addEventListener("click", reloadWorkflow);
  $("run-button").addEventListener("click", run);
  $("run-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run();
  });
  openFromHash();
}

init();
