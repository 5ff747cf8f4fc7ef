"""Outbound HTTP for workflow nodes, with an SSRF guard that is on by default.

A workflow author controls URLs, so every request is checked where it matters: the
address the name resolves to (not the spelling of the host), on every redirect hop. The
checked address is the one connected to (the URL is pinned to it, with the original name
kept for the Host header and TLS SNI), so a DNS answer that changes between check and
connect cannot slip through. Hosts in the allowlist (PILOT_HTTP_ALLOWLIST) skip the
address check: that is how a deployment opens its own internal services on purpose.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
from opentelemetry.trace import SpanKind

from pilot_shared import tracing

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_REDIRECTS = {301, 302, 303, 307, 308}


class BlockedRequestError(Exception):
    """The URL or an address it leads to is not allowed. Never retryable."""


class ResponseTooLargeError(Exception):
    pass


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why an address must not be reached, or None when it is a public unicast address.

    `is_global` already excludes loopback, private, link-local (169.254.0.0/16, the cloud
    metadata address), carrier-grade NAT, reserved, unspecified and documentation ranges;
    multicast counts as global, so it is checked apart; IPv6 forms that embed an IPv4
    address are judged by the address they embed."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            reason = blocked_reason(inner)
            return f"{reason} (embedded in {ip})" if reason else None
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if not ip.is_global:
        kind = (
            "loopback"
            if ip.is_loopback
            else "link-local"
            if ip.is_link_local
            else "unspecified"
            if ip.is_unspecified
            else "private or reserved"
        )
        return f"{ip} is a {kind} address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _parse(raw_url: str | httpx.URL) -> httpx.URL:
    try:
        return httpx.URL(raw_url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BlockedRequestError(f"invalid URL: {exc}") from None


@dataclass(frozen=True)
class Target:
    """A checked request target: connect to `url` (host pinned to `address`)."""

    url: httpx.URL
    host: str
    address: str | None  # None when the host is allowlisted: connect by name


class SsrfGuard:
    def __init__(self, allowlist: Iterable[str] = (), resolver: Resolver = system_resolver) -> None:
        self.allowlist = {h.strip().lower().rstrip(".") for h in allowlist if h.strip()}
        self.resolver = resolver

    async def check(self, raw_url: str | httpx.URL) -> Target:
        url = _parse(raw_url)
        if url.scheme not in ("http", "https"):
            raise BlockedRequestError(
                f"scheme {url.scheme or '(none)'!r} is not allowed; use http or https"
            )
        if url.userinfo:
            raise BlockedRequestError(
                "credentials in the URL are not allowed; use a header or a secret"
            )
        host = (url.host or "").lower().rstrip(".")
        if not host:
            raise BlockedRequestError("the URL has no host")
        if host in self.allowlist:
            return Target(url, host, None)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise BlockedRequestError(f"cannot resolve {host!r}: {exc}") from None
        if not addresses:
            raise BlockedRequestError(f"{host!r} resolves to no address")
        parsed: list[IPAddress] = []
        for a in addresses:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
            reason = blocked_reason(ip)
            if reason:
                # every answer must be safe: a name with one public and one private
                # address could be steered to the private one
                raise BlockedRequestError(f"{host!r} is blocked: {reason}")
            parsed.append(ip)
        return Target(url, host, str(parsed[0]))


@dataclass
class SafeResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str

    def json_or_text(self) -> Any:
        ctype = self.headers.get("content-type", "")
        text = self.content.decode(_charset(ctype), errors="replace")
        if "json" in ctype:
            import json

            try:
                return json.loads(text)
            except ValueError:
                return text
        return text


def _charset(content_type: str) -> str:
    for part in content_type.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


class SafeHttpClient:
    """httpx with the guard on every hop, a response size cap and bounded redirects."""

    def __init__(
        self,
        guard: SsrfGuard,
        *,
        max_response_bytes: int = 5 * 1024 * 1024,
        max_redirects: int = 5,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.guard = guard
        self.max_response_bytes = max_response_bytes
        self.max_redirects = max_redirects
        # One pooled client per process: connection reuse matters on hot paths.
        self.client = client or httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        content: bytes | None = None,
        timeout_s: float = 30,
        max_response_bytes: int | None = None,
    ) -> SafeResponse:
        parsed = _parse(url)
        with tracing.span(
            method.upper(),
            {
                "http.request.method": method.upper(),
                "server.address": parsed.host,
                "server.port": parsed.port,
                # no query, no credentials: either may carry a secret a template put there
                "url.full": str(parsed.copy_with(userinfo=b"", query=None, fragment=None)),
            },
            kind=SpanKind.CLIENT,
        ) as span:
            response = await self._request(
                method,
                url,
                headers=headers,
                params=params,
                json=json,
                data=data,
                content=content,
                timeout_s=timeout_s,
                max_response_bytes=max_response_bytes,
            )
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None,
        params: dict[str, str] | None,
        json: Any,
        data: dict[str, Any] | None,
        content: bytes | None,
        timeout_s: float,
        max_response_bytes: int | None,
    ) -> SafeResponse:
        cap = min(max_response_bytes or self.max_response_bytes, self.max_response_bytes)
        current = _parse(url)
        if params:
            current = current.copy_merge_params(params)
        for _hop in range(self.max_redirects + 1):
            target = await self.guard.check(current)
            send_headers = dict(headers or {})
            extensions: dict[str, Any] = {}
            request_url = target.url
            if target.address is not None:
                request_url = target.url.copy_with(host=target.address)
                send_headers["Host"] = target.url.netloc.decode("ascii").split("@")[-1]
                if target.url.scheme == "https":
                    extensions["sni_hostname"] = target.host
            request = self.client.build_request(
                method,
                request_url,
                headers=send_headers,
                json=json,
                data=data,
                content=content,
                timeout=timeout_s,
                extensions=extensions,
            )
            response = await self.client.send(request, stream=True)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    current = _parse(urljoin(str(target.url), response.headers["location"]))
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method.upper() == "POST"
                    ):
                        method, json, data, content = "GET", None, None, None
                    continue
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > cap:
                        raise ResponseTooLargeError(f"response is over the {cap}-byte cap")
                return SafeResponse(
                    response.status_code, response.headers, bytes(body), str(target.url)
                )
            finally:
                await response.aclose()
        raise BlockedRequestError(f"more than {self.max_redirects} redirects")
