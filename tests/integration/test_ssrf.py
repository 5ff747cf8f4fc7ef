"""The SSRF guard against a corpus of tricks, with real servers counting what reaches them:
nothing may reach a blocked address, and the same requests do arrive once allowlisted
(proof that the counting works)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pilot_runners.safe_http import BlockedRequestError, SafeHttpClient, SsrfGuard, system_resolver
from tests.support.http_servers import CountingServer

FAKE_DNS = {
    "evil.example": ["127.0.0.1"],
    "metadata.google.internal": ["169.254.169.254"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "private.example": ["10.1.2.3"],
    "v6local.example": ["::1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "public.example": ["93.184.216.34"],
}


async def fake_resolver(host: str, port: int) -> list[str]:
    if host in FAKE_DNS:
        return FAKE_DNS[host]
    return await system_resolver(host, port)


@pytest.fixture
def target() -> Iterator[CountingServer]:
    with CountingServer("127.0.0.1").serve() as server:
        yield server


def corpus(port: int) -> list[str]:
    p = port
    return [
        f"http://127.0.0.1:{p}/",
        f"http://localhost:{p}/",
        f"http://2130706433:{p}/",
        f"http://0x7f000001:{p}/",
        f"http://0177.0.0.1:{p}/",
        f"http://0x7f.0.0.1:{p}/",
        f"http://127.1:{p}/",
        f"http://127.0.1:{p}/",
        f"http://017700000001:{p}/",
        f"http://[::1]:{p}/",
        f"http://[::ffff:127.0.0.1]:{p}/",
        f"http://[::ffff:7f00:1]:{p}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/",
        f"http://0.0.0.0:{p}/",
        f"http://0:{p}/",
        f"http://[::]:{p}/",
        f"http://[2002:7f00:1::]:{p}/",
        f"http://[64:ff9b::7f00:1]:{p}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://198.18.0.1/",
        "http://240.0.0.1/",
        f"http://evil.example:{p}/",
        f"http://rebind.example:{p}/",
        f"http://127.0.0.1.nip.io:{p}/",
        "http://private.example/",
        f"http://v6local.example:{p}/",
        f"http://mapped.example:{p}/",
        f"http://user:pass@127.0.0.1:{p}/",
        f"http://public.example@127.0.0.1:{p}/",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{p}/_x",
        f"ftp://127.0.0.1:{p}/",
        "dict://127.0.0.1:11211/",
        "http:///nohost",
        "not a url",
    ]


async def test_corpus_reaches_nothing(target: CountingServer) -> None:
    client = SafeHttpClient(SsrfGuard(resolver=fake_resolver))
    urls = corpus(target.port)
    assert len(urls) >= 30
    try:
        for url in urls:
            with pytest.raises(BlockedRequestError):
                await client.request("GET", url, timeout_s=2)
    finally:
        await client.aclose()
    assert target.requests == []


async def test_redirect_hops_are_checked(target: CountingServer) -> None:
    # the redirector sits on an allowlisted loopback name; what it points at is not
    hops = [
        f"http://127.0.0.1:{target.port}/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://evil.example:{target.port}/",
        f"http://[::1]:{target.port}/",
    ]
    for hop in hops:
        with CountingServer("127.0.0.2", redirect_to=hop).serve() as redirector:
            client = SafeHttpClient(SsrfGuard(["127.0.0.2"], resolver=fake_resolver))
            try:
                with pytest.raises(BlockedRequestError):
                    await client.request("GET", f"{redirector.url}/start", timeout_s=2)
            finally:
                await client.aclose()
            assert len(redirector.requests) == 1
    assert target.requests == []


async def test_allowlisted_host_is_reached_and_redirects_followed(target: CountingServer) -> None:
    client = SafeHttpClient(SsrfGuard(["127.0.0.1", "127.0.0.2"]))
    try:
        r = await client.request("GET", f"{target.url}/x", params={"q": "1"})
        assert r.status_code == 200 and r.json_or_text() == {"ok": True}
        with CountingServer("127.0.0.2", redirect_to=f"{target.url}/after").serve() as redirector:
            r = await client.request("POST", f"{redirector.url}/go", json={"a": 1})
        assert r.status_code == 200
    finally:
        await client.aclose()
    assert [(q.method, q.path) for q in target.requests] == [("GET", "/x?q=1"), ("GET", "/after")]


async def test_public_address_passes_the_check() -> None:
    guard = SsrfGuard(resolver=fake_resolver)
    checked = await guard.check("https://public.example/api")
    assert checked.address == "93.184.216.34" and checked.host == "public.example"


async def test_response_size_cap(target: CountingServer) -> None:
    from pilot_runners.safe_http import ResponseTooLargeError

    target.body = b"x" * 10_000
    client = SafeHttpClient(SsrfGuard(["127.0.0.1"]), max_response_bytes=1000)
    try:
        with pytest.raises(ResponseTooLargeError):
            await client.request("GET", target.url)
    finally:
        await client.aclose()


def test_loopback_alias_is_available() -> None:
    """127.0.0.2 is used above as a second loopback host; Linux answers on all of 127/8."""
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
