"""πlot gateway: the HTTP, SSE and WebSocket front door of πlot."""
