"""Knowledge ingestion and retrieval on their own: extraction of text, markdown, HTML and
PDF, chunking with overlap, BM25 ranking, hybrid scoring with embeddings."""

from __future__ import annotations

import itertools

import pytest

from pilot_shared.knowledge import (
    Chunk,
    KnowledgeError,
    KnowledgeIndex,
    chunk_text,
    extract_text,
    guess_kind,
    tokenize,
)


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica, with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_extracts_each_kind() -> None:
    assert extract_text("  a\r\n\r\n\r\n\r\nb  ", "text") == "a\n\nb"
    md = "# Title\n\nSome **bold** and [a link](http://x) and `code`.\n\n- item one\n"
    assert extract_text(md, "markdown") == "Title\n\nSome bold and a link and code.\n\nitem one"
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body><h1>Refunds</h1>"
        "<p>Refunds take <b>5 days</b>.</p><script>evil()</script><p>Call&nbsp;us.</p>"
        "</body></html>"
    )
    assert extract_text(html, "html") == "Refunds\n\nRefunds take 5 days.\n\nCall us."
    assert "Invoices are due in 30 days" in extract_text(
        minimal_pdf("Invoices are due in 30 days"), "pdf"
    )
    with pytest.raises(KnowledgeError):
        extract_text(b"not a pdf", "pdf")


def test_guess_kind() -> None:
    assert guess_kind("a.PDF") == "pdf" and guess_kind("x.md") == "markdown"
    assert guess_kind("page.htm") == "html" and guess_kind(None, "text/html") == "html"
    assert guess_kind("notes.txt") == "text"


def test_chunks_overlap_and_end_at_natural_breaks() -> None:
    sentences = [f"Sentence number {i} says something about topic {i}." for i in range(60)]
    text = " ".join(sentences)
    chunks = chunk_text(text, size=300, overlap=60)
    assert len(chunks) > 5 and all(len(c) <= 300 for c in chunks)
    assert all(c.endswith(".") for c in chunks[:-1])  # cut after a sentence
    for a, b in itertools.pairwise(chunks):
        assert b[:20] in a  # the next chunk starts inside the previous one
    # nothing is lost: every sentence is whole in some chunk
    assert all(any(s in c for c in chunks) for s in sentences)
    assert chunk_text("short", size=300, overlap=60) == ["short"]
    assert chunk_text("   ") == []
    with pytest.raises(KnowledgeError):
        chunk_text("x", size=10, overlap=10)


def test_tokenize_latin_and_chinese() -> None:
    assert tokenize("What are the Refunds policies?") == ["refund", "policy"]
    assert tokenize("退款政策") == ["退", "款", "政", "策", "退款", "款政", "政策"]


def index_of(texts: list[str]) -> KnowledgeIndex:
    return KnowledgeIndex.build(
        [Chunk(id=f"c{i}", doc_id=f"d{i}", text=t, source=f"s{i}.md") for i, t in enumerate(texts)]
    )


async def test_bm25_ranks_the_matching_chunk_first_with_scores_and_sources() -> None:
    index = index_of(
        [
            "Refunds are paid back within 5 business days.",
            "Shipping to Europe takes 7 days.",
            "Our office is in Lyon.",
            "退款会在五个工作日内到账。",
        ]
    )
    hits = await index.search("how long do refunds take", top_k=2)
    assert hits[0].doc_id == "d0" and hits[0].source == "s0.md" and hits[0].score > 0
    assert all(h.score > 0 for h in hits)
    assert (await index.search("退款多久到账", top_k=1))[0].doc_id == "d3"
    assert await index.search("zebra", top_k=3) == []  # nothing matches: no hits
    assert (await index_of([]).search("x")) == []


async def test_hybrid_scoring_uses_embeddings() -> None:
    index = index_of(["apples and pears", "cars and trucks", "ships and boats"])
    vectors = {
        "apples and pears": [1.0, 0.0],
        "cars and trucks": [0.0, 1.0],
        "ships and boats": [0.6, 0.8],
    }
    calls: list[list[str]] = []

    async def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [vectors.get(t.strip(), [0.0, 1.0]) for t in texts]

    hits = await index.search("vehicles", top_k=3, embedder=embed)  # no BM25 match at all
    assert [h.doc_id for h in hits] == ["d1", "d2"]  # d0 is orthogonal: score 0, left out
    assert hits[0].semantic == pytest.approx(1.0) and hits[0].bm25 == 0
    await index.search("trucks", top_k=1, embedder=embed)
    assert len(calls) == 3  # chunks embedded once, then one call per query
