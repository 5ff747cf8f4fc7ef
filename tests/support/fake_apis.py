"""A local stand-in for the third-party APIs generated workflows call, each answering with
the shape the real one has, so that runs of generated workflows exercise what comes after
the call (conditions on a field, loops over a list) instead of a one-size-fits-all body.

Tests rewrite `https://<host>/<path>` to `<url>/<host>/<path>` (`local_url`), so the
server routes on the original host and path. APIs the planner only names by an input
(`{{ input.api_url }}`) or an item (`{{ item.url }}`) are reached at
`<url>/generic/list/…` or `<url>/generic/dict/…`, as the workflow expects a list (to loop
over) or a record.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from pilot.embedded import free_port

JSON = Any

_GITHUB_ISSUES: JSON = [
    {
        "number": 812,
        "title": "Build fails with Node 22",
        "state": "open",
        "user": {"login": "octocat"},
        "labels": [{"name": "bug"}],
        "comments": 4,
        "body": "Running `next build` on Node 22 exits with code 1.",
    },
    {
        "number": 809,
        "title": "文档：补充中间件示例",
        "state": "open",
        "user": {"login": "lin"},
        "labels": [{"name": "docs"}],
        "comments": 1,
        "body": "中间件章节缺少重定向示例。",
    },
]
_GITHUB_PULLS: JSON = [
    {"number": 815, "title": "Fix Node 22 build", "state": "open", "user": {"login": "octocat"}},
]
_GITHUB_REPO: JSON = {
    "full_name": "acme/widgets",
    "stargazers_count": 1520,
    "forks_count": 210,
    "open_issues_count": 37,
    "value": 1520,
}
_GITHUB_RELEASE: JSON = {"tag_name": "v2.5.0", "name": "v2.5.0", "body": "Faster compile."}
_WEATHER: JSON = {
    "current_condition": [
        {
            "temp_C": "31",
            "FeelsLikeC": "34",
            "humidity": "62",
            "weatherDesc": [{"value": "Sunny"}],
            "windspeedKmph": "11",
        }
    ],
    "nearest_area": [{"areaName": [{"value": "Shanghai"}]}],
}
_RATES: JSON = {"result": "success", "base_code": "USD", "rates": {"CNY": 7.21, "EUR": 0.92}}
_PRICES: JSON = {"bitcoin": {"usd": 43250.5}, "ethereum": {"usd": 2310.2}}
_TOP_STORIES: JSON = [39012345, 39012001, 39011876]
_NEWS: JSON = [
    {"title": "Chip exports rise", "link": "https://news.example.com/1", "summary": "Up 8%."},
    {
        "title": "新能源车销量创新高",
        "link": "https://news.example.com/2",
        "summary": "同比增长 30%。",
    },
]
_RECORDS: JSON = [
    {"id": "ord_1042", "customer": "Ana", "days": 5, "amount": 1200, "status": "open"},
    {"id": "ord_1043", "customer": "王芳", "days": 1, "amount": 80, "status": "open"},
]
# What an unnamed business API answers: the fields generated conditions read (stock,
# value, sales, days, error_rate) with values on both sides of the usual thresholds.
_RECORD: JSON = {
    "status": "ok",
    "id": "ord_1042",
    "value": 3,
    "stock": 80,
    "sales": 1500,
    "days": 4,
    "error_rate": 2.5,
    "price": 42,
    "text": "Order ord_1042 shipped on 2026-11-20.",
    # where list APIs put their rows
    "items": _RECORDS,
    "data": _RECORDS,
    "results": _RECORDS,
}


def _github(path: str) -> JSON:
    if path.endswith("/issues"):
        return _GITHUB_ISSUES
    if path.endswith("/pulls"):
        return _GITHUB_PULLS
    if "/releases" in path:
        return _GITHUB_RELEASE
    return _GITHUB_REPO


def _generic(path: str) -> JSON:
    return _RECORDS if path.startswith("list") else _RECORD


# (name, host pattern, answer for the path after the host); the first match wins.
ROUTES: tuple[tuple[str, str, Callable[[str], JSON]], ...] = (
    ("github", r"api\.github\.com", _github),
    ("weather", r"wttr\.in|openweathermap|weather", lambda _: _WEATHER),
    ("exchange_rate", r"er-api\.com|exchangerate|frankfurter", lambda _: _RATES),
    ("crypto_price", r"coingecko", lambda _: _PRICES),
    ("hacker_news", r"hacker-news", lambda _: _TOP_STORIES),
    ("news", r"news|rss|feed", lambda _: _NEWS),
    ("generic", r"^generic$", _generic),
)


def answer_for(host: str, path: str) -> tuple[str, JSON]:
    """(route name, body) for a request the test rewrote to `/<host>/<path>`."""
    for name, pattern, answer in ROUTES:
        if re.search(pattern, host):
            return name, answer(path)
    return "other", _RECORD


@dataclass
class FakeApis:
    host: str = "127.0.0.1"
    port: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def local_url(self, url: str) -> str:
        """`https://host/path?q` as this server's `/host/path?q`; a URL that is a template
        (its host only known at run time) is left as it is."""
        parts = urlsplit(url)
        if not parts.netloc or "{" in parts.netloc:
            return url
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.url}/{parts.netloc}{parts.path}{query}"

    def generic_url(self, shape: str, name: str = "record") -> str:
        return f"{self.url}/generic/{shape}/{name}"

    @contextmanager
    def serve(self) -> Iterator[FakeApis]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                host, _, rest = urlsplit(self.path).path.lstrip("/").partition("/")
                route, body = answer_for(host, rest)
                with outer._lock:
                    outer.hits[route] += 1
                    outer.paths.append(self.path)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = self.port or free_port()
        server = ThreadingHTTPServer((self.host, self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
