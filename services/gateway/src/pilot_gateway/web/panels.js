// Side panels: run inputs from the input node's schema, past executions, stats, suggestions.
import { api, ApiError } from "./api.js";
import { getLang, t } from "./i18n.js";

// One field per property of the input node's `config.schema`.
export function buildRunForm(form, workflow) {
  form.replaceChildren();
  const input = (workflow.nodes || []).find((n) => n.type === "input");
  const schema = input?.config?.schema || {};
  const required = new Set(schema.required || []);
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    const label = document.createElement("label");
    const caption = document.createElement("span");
    caption.textContent = `${name}${required.has(name) ? " *" : ""} (${prop.type || "any"})`;
    const structured = prop.type === "array" || prop.type === "object";
    const field = document.createElement(structured ? "textarea" : "input");
    field.name = name;
    field.dataset.type = prop.type || "string";
    if (prop.type === "number" || prop.type === "integer") field.type = "number";
    if (prop.type === "boolean") field.type = "checkbox";
    if (structured) field.placeholder = prop.type === "array" ? '["…"]' : '{"…": "…"}';
    if (prop.description) field.title = prop.description;
    if (prop.default !== undefined) field.value = structured ? JSON.stringify(prop.default) : prop.default;
    label.append(caption, document.createElement("br"), field);
    if (prop.description) {
      const hint = document.createElement("small");
      hint.className = "muted";
      hint.textContent = ` ${prop.description}`;
      label.append(hint);
    }
    form.append(label);
  }
}

export function readRunForm(form) {
  const data = {};
  for (const field of form.querySelectorAll("input, textarea")) {
    const type = field.dataset.type;
    if (type === "boolean") data[field.name] = field.checked;
    else if (field.value === "") continue;
    else if (type === "number" || type === "integer") data[field.name] = Number(field.value);
    else if (type === "array" || type === "object") data[field.name] = JSON.parse(field.value);
    else data[field.name] = field.value;
  }
  return data;
}

export async function loadExecutions(workflowId) {
  const list = document.getElementById("execution-list");
  const log = document.getElementById("execution-log");
  let page;
  try {
    page = await api("GET", `/api/executions?workflow_id=${encodeURIComponent(workflowId)}&limit=20`);
  } catch (err) {
    document.getElementById("executions").hidden = err instanceof ApiError && err.status === 404;
    return;
  }
  list.replaceChildren();
  if (!page.items.length) {
    const li = document.createElement("li");
    li.textContent = t("noExecutions");
    list.append(li);
  }
  for (const ex of page.items) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.textContent = `${(ex.created_at || ex.started_at || "").replace("T", " ").slice(0, 19)} · ${t(`run_${ex.status}`)}`;
    a.dataset.executionId = ex.id;
    a.addEventListener("click", async () => {
      const detail = await api("GET", `/api/executions/${encodeURIComponent(ex.id)}`);
      const lines = (detail.node_runs || []).map(
        (r) =>
          `${r.node_id} #${r.attempt ?? 1} ${r.status ?? ""} ${r.duration_ms != null ? `${Math.round(r.duration_ms)}ms` : ""}` +
          (r.error ? ` ${t("error")}: ${JSON.stringify(r.error)}` : ""),
      );
      log.textContent = `${t("status")}: ${detail.status}\n${lines.join("\n")}\n\n${t("output")}: ${JSON.stringify(detail.output ?? detail.outputs ?? null, null, 2)}`;
    });
    li.append(a);
    list.append(li);
  }
}

// Stats and suggestions of the workflow, from GET …/stats and …/suggestions. The last
// answers are kept so a language switch re-renders them without asking again.
let insights = { stats: null, suggestions: null };

export const fmt = {
  ms: (v) => (v == null ? "–" : `${Math.round(v)} ms`),
  rate: (v) => (v == null ? "–" : `${(v * 100).toFixed(1)}%`),
  cost: (v) => (v == null ? "–" : `$${v.toFixed(6)}`),
  time: (v) => (v ? v.replace("T", " ").slice(0, 19) : "–"),
};

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.dataset[k] = v;
  return node;
}

function renderStats(data) {
  const box = document.getElementById("stats");
  if (!data) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const w = data.window;
  document.getElementById("stats-window").textContent = w.count
    ? t(w.truncated ? "windowTruncated" : "window", { n: w.count, from: fmt.time(w.from), to: fmt.time(w.to) })
    : t("noExecutions");
  const figures = [
    ["runs", String(data.runs)],
    ["success_rate", fmt.rate(data.success_rate)],
    ["p50", fmt.ms(data.duration.p50_ms)],
    ["p95", fmt.ms(data.duration.p95_ms)],
    ["cost_total", fmt.cost(data.cost.total_usd)],
    ["cost_per_run", fmt.cost(data.cost.per_run_usd)],
    ["tokens", `${data.tokens.prompt} / ${data.tokens.completion}`],
    [
      "by_status",
      Object.entries(data.by_status)
        .map(([status, n]) => `${t(`run_${status}`)} ${n}`)
        .join(" · ") || "–",
    ],
  ];
  document.getElementById("stats-summary").replaceChildren(
    ...figures.flatMap(([key, value]) => [el("dt", t(`fig_${key}`)), el("dd", value, { key })]),
  );
  const tbody = document.querySelector("#stats-nodes tbody");
  tbody.replaceChildren(
    ...data.nodes.map((n) => {
      const tr = el("tr", undefined, { nodeId: n.node_id });
      const cells = [
        ["node", n.node_id],
        ["type", n.node_type],
        ["runs", String(n.runs)],
        ["success", fmt.rate(n.success_rate)],
        ["retries", String(n.retries)],
        ["mean", fmt.ms(n.mean_ms)],
        ["p95", fmt.ms(n.p95_ms)],
        ["cost", fmt.cost(n.cost_usd)],
      ];
      tr.append(...cells.map(([col, value]) => el("td", value, { col })));
      return tr;
    }),
  );
  document.getElementById("stats-nodes").hidden = data.nodes.length === 0;
}

const pct = (v) => `${Math.round((v || 0) * 100)}%`;

// Chinese text is built from the suggestion's kind and evidence; English is the server's.
function suggestionText(s) {
  const e = s.evidence || {};
  if (getLang() === "en") return [s.title, s.detail];
  const node = s.node_id;
  switch (s.kind) {
    case "bottleneck":
      return [
        t("sg_bottleneck", { node, share: pct(e.share_of_execution_time) }),
        t("sg_bottleneck_detail", {
          node,
          total: Math.round(e.node_total_ms || 0),
          n: e.attempts,
          mean: Math.round(e.mean_ms || 0),
          p95: Math.round(e.p95_ms || 0),
        }),
      ];
    case "cost_hotspot":
      return [
        t(e.suggested_model ? "sg_cost_try" : "sg_cost", {
          node,
          share: pct(e.share_of_cost),
          model: e.suggested_model,
        }),
        e.suggested_model
          ? t("sg_cost_detail", {
              node,
              model: e.model,
              cost: fmt.cost(e.cost_usd),
              suggested: e.suggested_model,
              would: fmt.cost(e.cost_with_suggested_usd),
            })
          : t("sg_cost_cheapest", { node, model: e.model, cost: fmt.cost(e.cost_usd) }),
      ];
    case "flaky_node":
      return [
        t("sg_flaky", { node, rate: pct(e.failure_rate) }),
        t("sg_flaky_detail", { node, n: e.attempts, failed: e.failed_attempts, retries: e.retries }) +
          (e.max_attempts <= 1
            ? e.retryable_failures
              ? t("sg_add_retry")
              : t("sg_not_retryable", { kinds: Object.keys(e.error_kinds || {}).join("、") })
            : "") +
          (e.on_error === "fail" ? t("sg_on_error") : ""),
      ];
    case "branch_never_taken":
      return e.handle
        ? [
            t("sg_branch", { node, handle: e.handle }),
            t("sg_branch_detail", { node, handle: e.handle, n: e.decisions, targets: (e.targets || []).join("、") }),
          ]
        : [t("sg_skipped", { node }), t("sg_skipped_detail", { n: e.skipped })];
    default:
      return [s.title, s.detail];
  }
}

function renderSuggestions(data) {
  const box = document.getElementById("suggestions");
  if (!data) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const items = data.suggestions || [];
  document.getElementById("suggestions-note").textContent = items.length
    ? ""
    : t(data.window.count ? "nothingToImprove" : "noHistory");
  document.getElementById("suggestions-body").replaceChildren(
    ...items.map((s) => {
      const li = el("li", undefined, { kind: s.kind, nodeId: s.node_id, severity: s.severity });
      const [title, detail] = suggestionText(s);
      li.append(
        el("span", t(`sev_${s.severity}`), { role: "severity" }),
        el("b", ` ${title}`),
        el("p", detail),
      );
      li.querySelector("span").className = `sev sev-${s.severity}`;
      return li;
    }),
  );
}

export function renderInsights() {
  renderStats(insights.stats);
  renderSuggestions(insights.suggestions);
}

export async function loadInsights(workflowId) {
  const id = encodeURIComponent(workflowId);
  const [stats, suggestions] = await Promise.all(
    ["stats", "suggestions"].map((what) =>
      api("GET", `/api/workflows/${id}/${what}`).catch(() => null),
    ),
  );
  insights = { stats, suggestions };
  renderInsights();
}
