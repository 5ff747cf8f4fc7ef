// Side panels: run inputs from the input node's schema, past executions, stats, suggestions.
import { api, ApiError } from "./api.js";
import { t } from "./i18n.js";

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
    a.textContent = `${(ex.created_at || ex.started_at || "").replace("T", " ").slice(0, 19)} · ${ex.status}`;
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

// Stats and suggestions: shown when the gateway has those endpoints, hidden otherwise.
export async function loadInsights(workflowId) {
  const id = encodeURIComponent(workflowId);
  const stats = document.getElementById("stats");
  try {
    const data = await api("GET", `/api/workflows/${id}/stats`);
    document.getElementById("stats-body").textContent = JSON.stringify(data, null, 2);
    stats.hidden = false;
  } catch {
    stats.hidden = true;
  }
  const box = document.getElementById("suggestions");
  try {
    const data = await api("GET", `/api/workflows/${id}/suggestions`);
    const items = Array.isArray(data) ? data : data.items || data.suggestions || [];
    const ul = document.getElementById("suggestions-body");
    ul.replaceChildren(
      ...items.map((s) => {
        const li = document.createElement("li");
        li.textContent = typeof s === "string" ? s : s.message || s.title || JSON.stringify(s);
        return li;
      }),
    );
    box.hidden = items.length === 0;
  } catch {
    box.hidden = true;
  }
}
