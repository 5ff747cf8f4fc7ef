// WS /ws/workflow/{id}: edits saved by others and executions started elsewhere, live.
// Browsers cannot set headers on a WebSocket, so it takes a short-lived token
// (POST /api/auth/token) in ?access_token=, never the API key itself.
import { api } from "./api.js";

let socket = null;
let retry = null;

export function closeLive() {
  clearTimeout(retry);
  retry = null;
  if (socket) {
    socket.onclose = null;
    socket.close();
    socket = null;
  }
}

// onMessage(message) for every message of the workflow's socket; reconnects after a drop.
export async function openLive(workflowId, onMessage) {
  closeLive();
  let token;
  try {
    token = (await api("POST", "/api/auth/token")).access_token;
  } catch {
    return; // no live updates; the panel works without them
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/ws/workflow/${encodeURIComponent(workflowId)}?access_token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.onmessage = (ev) => {
    try {
      onMessage(JSON.parse(ev.data));
    } catch {
      /* not JSON: ignore */
    }
  };
  ws.onclose = (ev) => {
    if (socket !== ws) return;
    socket = null;
    // 4401/4403/4404/4410: no point retrying; otherwise reconnect in a moment.
    if (ev.code >= 4400 && ev.code < 4500 && ev.code !== 4429) return;
    retry = setTimeout(() => openLive(workflowId, onMessage), 3000);
  };
}
