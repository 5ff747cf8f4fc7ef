"""A prompt cut into clauses: sentences, then the pieces between commas and sequence
markers ("then", "finally", "然后", "最后" …), each remembering what opened it.

URLs, addresses and channel names are blanked first (same length, so positions still
match the prompt) so that the dots and colons inside them cut nothing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from .lexicon import CLAUSE_SEP, FINALLY, IF, OTHERWISE, SENTENCE_END, THEN, UNLESS

_OPAQUE = re.compile(
    r"https?://[^\s<>\"'，。；、）)\]]+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|#[A-Za-z0-9][A-Za-z0-9_\-]*"
    r"|[a-z]+-[0-9][a-z0-9.\-]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Clause:
    text: str  # the clause as written (markers removed from its start)
    start: int  # offset in the prompt
    sentence: int  # index of its sentence
    first_in_sentence: bool
    then: bool = False  # opened by "then" / "然后" / "再" … (not "and then": a continuation)
    final: bool = False  # opened by "finally" / "最后"


def blank_opaque(prompt: str) -> str:
    """`prompt` with URLs, addresses, channels, decimals and model names blanked out."""
    # a channel keeps its "#": "ping #ops" still says where the message goes
    return _OPAQUE.sub(
        lambda m: ("#" if m.group().startswith("#") else "x") + "x" * (len(m.group()) - 1), prompt
    )


def _pieces(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of one sentence: cut at separators, and before
    sequence, condition and otherwise markers that sit mid-clause."""
    cuts = {0, len(sentence)}
    for m in CLAUSE_SEP.finditer(sentence):
        cuts.add(m.start())
        cuts.add(m.end())
    for pattern in (THEN, FINALLY, OTHERWISE, UNLESS):
        for m in pattern.finditer(sentence):
            cuts.add(m.start())
    # A Chinese condition word mid-clause ("金额如果超过…") starts a clause of its own; an
    # English one does too unless it only says when ("when done").
    for m in IF.finditer(sentence):
        if m.start() > 0 and not _inside_word_pair(sentence, m.start()):
            cuts.add(m.start())
    # "如果出现胸痛、呼吸困难就…": a list inside a condition, up to its consequence, is
    # part of that condition
    for m in IF.finditer(sentence):
        then = re.compile(r"[，,。；;]|就|则|直接|立即|马上|时").search(sentence, m.end())
        if then is not None and then.group() not in "，,。；;":
            cuts -= {
                c for c in cuts if m.end() < c < then.start() and "、" in sentence[c - 1 : c + 1]
            }
    # "classify as emergency (leak, no heat), routine or cosmetic": an aside in brackets
    # is part of the clause around it
    for m in re.finditer(r"[(（][^()（）]{0,80}[)）]", sentence):
        cuts -= {c for c in cuts if m.start() < c < m.end()}
    ordered = sorted(cuts)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b > a]


def _inside_word_pair(sentence: str, at: int) -> bool:
    # "only if", "if not", "or else": the marker is part of a longer one starting earlier.
    before = sentence[max(0, at - 5) : at].lower()
    return before.endswith(("only ", "or ", "even "))


def split_clauses(prompt: str) -> list[Clause]:
    masked = blank_opaque(prompt)
    clauses: list[Clause] = []
    sentence_start = 0
    bounds = [m.end() for m in SENTENCE_END.finditer(masked)] + [len(masked)]
    for index, end in enumerate(bounds):
        sentence = masked[sentence_start:end]
        first = True
        for a, b in _pieces(sentence):
            raw = sentence[a:b]
            stripped = raw.strip(" \t\r\n,;:，；：、.。!！?？")
            if not stripped or CLAUSE_SEP.fullmatch(stripped):
                continue  # an arrow alone ("a -> b") only separates
            offset = sentence_start + a + raw.index(stripped[0])
            text = prompt[offset : offset + len(stripped)]
            then = final = False
            for pattern, kind in ((FINALLY, "final"), (THEN, "then")):
                m = pattern.match(stripped)
                if m:
                    if kind == "final":
                        final = True
                    else:
                        then = not m.group().lower().startswith("and")
                    cut = m.end()
                    rest = stripped[cut:].lstrip(" ,，")
                    offset += len(stripped) - len(rest)
                    text = prompt[offset : offset + len(rest)]
                    stripped = rest
                    break
            if not stripped:
                continue
            clauses.append(Clause(text, offset, index, first, then, final))
            first = False
        sentence_start = end
    return clauses
