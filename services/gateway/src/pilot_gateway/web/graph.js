// The workflow drawn as SVG at the positions the generator computed.
const SVG = "http://www.w3.org/2000/svg";
export const NODE_W = 180;
export const NODE_H = 64;
const PAD = 40;

const ICONS = {
  input: "⇥",
  llm: "✦",
  condition: "◇",
  loop: "↻",
  api: "⇄",
  output: "⇤",
  knowledge: "▤",
  tool: "⚙",
};

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function bounds(nodes) {
  const xs = nodes.map((n) => n.position?.x ?? 0);
  const ys = nodes.map((n) => n.position?.y ?? 0);
  return {
    minX: Math.min(...xs),
    minY: Math.min(...ys),
    maxX: Math.max(...xs) + NODE_W,
    maxY: Math.max(...ys) + NODE_H,
  };
}

// Draws `workflow` into `svg`; onNodeClick(node) when a node box is clicked.
export function drawGraph(svg, workflow, onNodeClick) {
  svg.replaceChildren();
  const nodes = workflow.nodes || [];
  if (!nodes.length) return;
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
  const b = bounds(nodes);
  const x0 = b.minX - PAD;
  const y0 = b.minY - PAD - 20;
  const width = b.maxX - b.minX + 2 * PAD;
  const height = b.maxY - b.minY + 2 * PAD + 40;
  svg.setAttribute("viewBox", `${x0} ${y0} ${width} ${height}`);
  svg.style.minWidth = `${Math.min(width, 640)}px`;

  const defs = el("defs");
  const marker = el("marker", {
    id: "arrow",
    viewBox: "0 0 10 10",
    refX: 10,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
  defs.append(marker);
  svg.append(defs);

  // Loop bodies: a dashed box around the body nodes.
  for (const loop of nodes.filter((n) => n.type === "loop")) {
    const body = (loop.config?.body || []).map((id) => byId[id]).filter(Boolean);
    if (!body.length) continue;
    const lb = bounds(body);
    const g = el("g", { class: "loop-group", "data-loop": loop.id });
    g.append(
      el("rect", {
        x: lb.minX - 16,
        y: lb.minY - 28,
        width: lb.maxX - lb.minX + 32,
        height: lb.maxY - lb.minY + 44,
        rx: 10,
      }),
      el("text", { x: lb.minX - 8, y: lb.minY - 12 }, `↻ ${loop.name || loop.id}`),
    );
    svg.append(g);
  }

  for (const c of workflow.connections || []) {
    const s = byId[c.source];
    const d = byId[c.target];
    if (!s || !d) continue;
    const sx = s.position.x + NODE_W;
    const sy = s.position.y + NODE_H / 2;
    const tx = d.position.x;
    const ty = d.position.y + NODE_H / 2;
    const dx = Math.max(40, Math.abs(tx - sx) / 2);
    const g = el("g", { class: "edge", "data-edge": c.id });
    g.append(
      el("path", {
        d: `M ${sx} ${sy} C ${sx + dx} ${sy}, ${tx - dx} ${ty}, ${tx} ${ty}`,
        "marker-end": "url(#arrow)",
        class: c.source_handle === "error" ? "error-route" : "",
      }),
    );
    if (c.source_handle) {
      const mx = (sx + tx) / 2;
      const my = (sy + ty) / 2;
      const label = el("text", { x: mx, y: my - 6, class: "edge-label", "text-anchor": "middle" });
      label.textContent = c.source_handle;
      g.append(label);
    }
    svg.append(g);
  }

  for (const n of nodes) {
    const g = el("g", {
      class: `node type-${n.type}`,
      "data-node-id": n.id,
      "data-status": "idle",
      transform: `translate(${n.position.x} ${n.position.y})`,
      tabindex: 0,
      role: "button",
    });
    g.append(
      el("rect", { width: NODE_W, height: NODE_H, rx: 8, class: "box" }),
      el("rect", { width: 6, height: NODE_H, rx: 3, class: "stripe" }),
      el("text", { x: 16, y: 22, class: "type-label" }, `${ICONS[n.type] || "•"} ${n.type}`),
      el("text", { x: 16, y: 44, class: "name" }, truncate(n.name || n.id, 22)),
      el("text", { x: NODE_W - 10, y: 22, class: "status", "text-anchor": "end" }, ""),
      el("text", { x: 0, y: NODE_H + 16, class: "metrics" }, ""),
    );
    const title = el("title", {}, `${n.id} (${n.type})`);
    g.append(title);
    g.addEventListener("click", () => onNodeClick(n));
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") onNodeClick(n);
    });
    svg.append(g);
  }
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const STATUS_MARK = {
  running: "…",
  completed: "✓",
  failed: "✗",
  retrying: "↺",
  skipped: "–",
  idle: "",
};

export function setNodeStatus(svg, nodeId, status, metrics) {
  const g = svg.querySelector(`g.node[data-node-id="${CSS.escape(nodeId)}"]`);
  if (!g) return;
  g.dataset.status = status;
  g.querySelector("text.status").textContent = STATUS_MARK[status] ?? "";
  if (metrics !== undefined) g.querySelector("text.metrics").textContent = metrics;
}

export function resetStatuses(svg) {
  for (const g of svg.querySelectorAll("g.node")) {
    g.dataset.status = "idle";
    g.querySelector("text.status").textContent = "";
    g.querySelector("text.metrics").textContent = "";
  }
}
