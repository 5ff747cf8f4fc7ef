"""Knowledge bases: ingestion (text, markdown, HTML, PDF), chunking with overlap, the store
layout, and BM25 retrieval (bm25s) with optional hybrid scoring over embeddings.

Shared by the gateway (create a base, add documents, query) and the knowledge runner.
Heavy libraries (pypdf, bm25s/numpy) are imported only when used.

Store layout (DESIGN.md §2: list items are their own documents):
- `kb`: {_id, name, description, owner_id, version, documents, chunks, created_at, updated_at}
- `kb_documents`: {_id, kb_id, title, source, kind, chars, chunks, created_at}
- `kb_chunks`: {_id, kb_id, doc_id, index, text, title, source}
`version` grows with every change, so a runner caches its index per (kb_id, version).
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal

from .contracts import new_id, utcnow
from .store import KB_CHUNKS, KB_DOCUMENTS, KNOWLEDGE_BASES

if TYPE_CHECKING:
    from pymongo.asynchronous.database import AsyncDatabase

DocumentKind = Literal["text", "markdown", "html", "pdf"]
Embedder = Callable[[list[str]], Awaitable[list[list[float]]]]

DEFAULT_CHUNK_CHARS = 800
DEFAULT_OVERLAP_CHARS = 120
MAX_DOCUMENT_CHARS = 5_000_000


class KnowledgeError(ValueError):
    """A bad document or request; the message is safe to show."""


# --- extraction -----------------------------------------------------------------------


_SKIP_TAGS = {"script", "style", "noscript", "template", "head"}
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "pre",
    "blockquote",
    "table",
    "ul",
    "ol",
    "title",
}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP_TAGS and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return _tidy("".join(parser.parts))


_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"```[^\n]*\n"), ""),  # code fences (the code stays)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*", re.M), ""),  # headings
    (re.compile(r"^[ \t]{0,3}>[ \t]?", re.M), ""),  # quotes
    (re.compile(r"^[ \t]*[-*+][ \t]+", re.M), ""),  # bullets
    (re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # emphasis, inline code
    (re.compile(r"^[ \t]*([-*_][ \t]*){3,}$", re.M), ""),  # rules
]


def markdown_to_text(md: str) -> str:
    for pattern, repl in _MD_RULES:
        md = pattern.sub(repl, md)
    return _tidy(md)


def pdf_to_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise KnowledgeError(f"cannot read the PDF: {exc}") from None
    return _tidy("\n\n".join(pages))


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\xa0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def guess_kind(filename: str | None, content_type: str | None = None) -> DocumentKind:
    name = (filename or "").lower()
    ctype = (content_type or "").lower()
    if name.endswith(".pdf") or "pdf" in ctype:
        return "pdf"
    if name.endswith((".html", ".htm")) or "html" in ctype:
        return "html"
    if name.endswith((".md", ".markdown")) or "markdown" in ctype:
        return "markdown"
    return "text"


def extract_text(content: str | bytes, kind: DocumentKind) -> str:
    if kind == "pdf":
        if isinstance(content, str):
            raise KnowledgeError("a PDF must be given as bytes (or base64 in the API)")
        return pdf_to_text(content)
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if kind == "html":
        return html_to_text(text)
    if kind == "markdown":
        return markdown_to_text(text)
    return _tidy(text)


# --- chunking -------------------------------------------------------------------------

_BREAKS = ("\n\n", "\n", "。", ". ", "！", "? ", "？", "; ", "；", "，", ", ", " ")


def chunk_text(
    text: str, *, size: int = DEFAULT_CHUNK_CHARS, overlap: int = DEFAULT_OVERLAP_CHARS
) -> list[str]:
    """Windows of about `size` characters, ending at the best natural break (paragraph,
    sentence, clause, word) in their second half; each starts `overlap` characters before
    the previous one ended, so a fact cut by a boundary is whole in one of the two."""
    if size <= 0 or overlap < 0 or overlap >= size:
        raise KnowledgeError("chunk size must be positive and larger than the overlap")
    text = text.strip()
    if not text:
        return []
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            window = text[start:end]
            for brk in _BREAKS:
                at = window.rfind(brk)
                if at >= size // 2:
                    end = start + at + len(brk)
                    break
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= len(text):
            break
        next_start = max(end - overlap, start + 1)
        # begin the overlap at a word boundary, not mid-word
        space = text.find(" ", next_start, end)
        start = space + 1 if 0 <= space < end - 1 else next_start
    return chunks


# --- tokenizing and BM25 ----------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "you",
        "your",
        "does",
        "do",
        "did",
        "can",
        "could",
        "should",
        "would",
        "may",
        "might",
        "our",
        "we",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
    }
)


def _stem(word: str) -> str:
    """A light suffix stripper, so 'refunds' matches 'refund' (English only)."""
    for suffix in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokenize(text: str) -> list[str]:
    """Lowercased words without stopwords (lightly stemmed); Chinese as single characters
    plus bigrams, which is how BM25 is usually applied to text without spaces."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if _CJK_RUN.fullmatch(tok):
            out.extend(tok)
            out.extend(tok[i : i + 2] for i in range(len(tok) - 1))
        elif tok not in STOPWORDS:
            out.append(_stem(tok.replace("’", "'").split("'")[0]))
    return out


@dataclass
class Chunk:
    id: str
    doc_id: str
    text: str
    title: str = ""
    source: str = ""
    index: int = 0


@dataclass
class Hit:
    text: str
    score: float
    source: str
    doc_id: str
    chunk_id: str
    title: str = ""
    bm25: float = 0.0
    semantic: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "text": self.text,
            "score": round(self.score, 6),
            "source": self.source,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "bm25": round(self.bm25, 6),
        }
        if self.semantic is not None:
            out["semantic"] = round(self.semantic, 6)
        return out


@dataclass
class KnowledgeIndex:
    """BM25 over the chunks of one knowledge-base version (plus their embeddings, once
    computed, for hybrid scoring)."""

    chunks: list[Chunk]
    version: int = 0
    _bm25: Any = None
    embeddings: list[list[float]] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, chunks: Sequence[Chunk], version: int = 0) -> KnowledgeIndex:
        import bm25s  # type: ignore[import-untyped]

        index = cls(list(chunks), version)
        if index.chunks:
            bm25 = bm25s.BM25()
            corpus = [tokenize(f"{c.title}\n{c.text}") or ["\u2205"] for c in index.chunks]
            bm25.index(corpus, show_progress=False)
            index._bm25 = bm25
        return index

    def bm25_scores(self, query: str) -> list[float]:
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return [0.0] * len(self.chunks)
        return [float(s) for s in self._bm25.get_scores(tokens)]

    async def search(
        self,
        query: str,
        top_k: int = 3,
        *,
        embedder: Embedder | None = None,
        alpha: float = 0.5,
        min_score: float = 0.0,
    ) -> list[Hit]:
        """The `top_k` best chunks. With an embedder: `alpha` × BM25 (scaled to 0..1 by
        the best score) + (1 − `alpha`) × cosine similarity of the embeddings."""
        if not self.chunks:
            return []
        bm25 = self.bm25_scores(query)
        best = max(bm25) if bm25 else 0.0
        semantic: list[float] | None = None
        if embedder is not None:
            if self.embeddings is None:
                self.embeddings = await embedder([f"{c.title}\n{c.text}" for c in self.chunks])
            (q,) = await embedder([query])
            semantic = [_cosine(q, e) for e in self.embeddings]
        scored: list[Hit] = []
        for i, chunk in enumerate(self.chunks):
            b = bm25[i]
            if semantic is not None:
                score = alpha * (b / best if best > 0 else 0.0) + (1 - alpha) * semantic[i]
            else:
                score = b
            if score <= min_score:
                continue
            scored.append(
                Hit(
                    text=chunk.text,
                    score=score,
                    source=chunk.source,
                    doc_id=chunk.doc_id,
                    chunk_id=chunk.id,
                    title=chunk.title,
                    bm25=b,
                    semantic=None if semantic is None else semantic[i],
                )
            )
        scored.sort(key=lambda h: (-h.score, h.chunk_id))
        return scored[:top_k]


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


# --- the store ------------------------------------------------------------------------


class KnowledgeStore:
    """Knowledge bases in the document store (one document per base, document, chunk)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def create_kb(
        self,
        name: str,
        *,
        description: str = "",
        owner_id: str | None = None,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        overlap_chars: int = DEFAULT_OVERLAP_CHARS,
        kb_id: str | None = None,
    ) -> dict[str, Any]:
        if overlap_chars >= chunk_chars:
            raise KnowledgeError("overlap_chars must be smaller than chunk_chars")
        now = utcnow().isoformat()
        doc = {
            "_id": kb_id or f"kb_{new_id()[:16]}",
            "name": name,
            "description": description,
            "owner_id": owner_id,
            "chunk_chars": chunk_chars,
            "overlap_chars": overlap_chars,
            "version": 0,
            "documents": 0,
            "chunks": 0,
            "created_at": now,
            "updated_at": now,
        }
        await self.db[KNOWLEDGE_BASES].insert_one(doc)
        return doc

    async def get_kb(self, kb_id: str) -> dict[str, Any] | None:
        return await self.db[KNOWLEDGE_BASES].find_one({"_id": kb_id})

    async def list_kbs(self, owner_id: str | None = None) -> list[dict[str, Any]]:
        query = {} if owner_id is None else {"owner_id": owner_id}
        return [d async for d in self.db[KNOWLEDGE_BASES].find(query).sort("created_at", 1)]

    async def add_documents(
        self, kb_id: str, documents: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Add documents, each {content (str or bytes), kind?, title?, source?}: extracted,
        chunked, and written in batches; the base's version goes up once."""
        kb = await self.get_kb(kb_id)
        if kb is None:
            raise KnowledgeError(f"knowledge base {kb_id!r} not found")
        size, overlap = (
            int(kb.get("chunk_chars", DEFAULT_CHUNK_CHARS)),
            int(kb.get("overlap_chars", DEFAULT_OVERLAP_CHARS)),
        )
        doc_rows: list[dict[str, Any]] = []
        chunk_rows: list[dict[str, Any]] = []
        now = utcnow().isoformat()
        for item in documents:
            kind: DocumentKind = item.get("kind") or guess_kind(item.get("title"))
            text = extract_text(item["content"], kind)
            if len(text) > MAX_DOCUMENT_CHARS:
                raise KnowledgeError(f"a document is over {MAX_DOCUMENT_CHARS} characters")
            doc_id = item.get("id") or f"doc_{new_id()[:16]}"
            title = str(item.get("title") or "")
            source = str(item.get("source") or title or doc_id)
            pieces = chunk_text(text, size=size, overlap=overlap)
            doc_rows.append(
                {
                    "_id": doc_id,
                    "kb_id": kb_id,
                    "title": title,
                    "source": source,
                    "kind": kind,
                    "chars": len(text),
                    "chunks": len(pieces),
                    "created_at": now,
                }
            )
            chunk_rows.extend(
                {
                    "_id": f"{doc_id}:{i}",
                    "kb_id": kb_id,
                    "doc_id": doc_id,
                    "index": i,
                    "text": piece,
                    "title": title,
                    "source": source,
                }
                for i, piece in enumerate(pieces)
            )
        if doc_rows:
            await self.db[KB_DOCUMENTS].insert_many(doc_rows, ordered=True)
        for at in range(0, len(chunk_rows), 500):
            await self.db[KB_CHUNKS].insert_many(chunk_rows[at : at + 500], ordered=True)
        await self._bump(kb_id)
        return doc_rows

    async def list_documents(self, kb_id: str) -> list[dict[str, Any]]:
        return [d async for d in self.db[KB_DOCUMENTS].find({"kb_id": kb_id}).sort("created_at", 1)]

    async def delete_document(self, kb_id: str, doc_id: str) -> bool:
        deleted = await self.db[KB_DOCUMENTS].delete_one({"_id": doc_id, "kb_id": kb_id})
        if not deleted.deleted_count:
            return False
        await self.db[KB_CHUNKS].delete_many({"kb_id": kb_id, "doc_id": doc_id})
        await self._bump(kb_id)
        return True

    async def delete_kb(self, kb_id: str) -> bool:
        deleted = await self.db[KNOWLEDGE_BASES].delete_one({"_id": kb_id})
        await self.db[KB_DOCUMENTS].delete_many({"kb_id": kb_id})
        await self.db[KB_CHUNKS].delete_many({"kb_id": kb_id})
        return bool(deleted.deleted_count)

    async def _bump(self, kb_id: str) -> None:
        kb = await self.get_kb(kb_id) or {}
        documents = await self.db[KB_DOCUMENTS].count_documents({"kb_id": kb_id})
        chunks = await self.db[KB_CHUNKS].count_documents({"kb_id": kb_id})
        await self.db[KNOWLEDGE_BASES].update_one(
            {"_id": kb_id},
            {
                "$set": {
                    "version": int(kb.get("version", 0)) + 1,
                    "documents": documents,
                    "chunks": chunks,
                    "updated_at": utcnow().isoformat(),
                }
            },
        )

    async def load_chunks(self, kb_id: str) -> list[Chunk]:
        rows = self.db[KB_CHUNKS].find({"kb_id": kb_id}).sort([("doc_id", 1), ("index", 1)])
        return [
            Chunk(
                id=str(r["_id"]),
                doc_id=str(r["doc_id"]),
                text=str(r["text"]),
                title=str(r.get("title") or ""),
                source=str(r.get("source") or ""),
                index=int(r.get("index", 0)),
            )
            async for r in rows
        ]

    async def build_index(self, kb_id: str) -> KnowledgeIndex:
        kb = await self.get_kb(kb_id)
        if kb is None:
            raise KnowledgeError(f"knowledge base {kb_id!r} not found")
        return KnowledgeIndex.build(await self.load_chunks(kb_id), int(kb.get("version", 0)))
