"""Polite wrappers dropped before the prompt is read: "I'd love it if …", "…, if you could",
"if possible", "麻烦…一下". Their "if" asks nicely; it tests nothing."""

from __future__ import annotations

import re

_COURTESY = re.compile(
    r"(?i)(?:(?<![\w-])(?:i'?d|i\s+would|we'?d|we\s+would)\s+(?:love|like|appreciate)\s+it\s+if"
    r"|(?:it\s+)?would\s+be\s+(?:great|nice|awesome|lovely|helpful)\s+if)(?![\w-])\s*,?"
    # said last, they ask nicely; "if you can find it, email me" still tests
    r"|,?\s*(?<![\w-])if\s+(?:you\s+(?:could|can|would|don'?t\s+mind|please)|possible|"
    r"that'?s\s+(?:ok|okay|possible|alright))(?![\w-])(?=\s*(?:[.!?;]|$))"
    r"|(?<![\w-])if\s+possible\s*,?"
)


def drop_courtesy(text: str) -> str:
    """The prompt without its polite "if"s (a real test keeps its words)."""
    return _COURTESY.sub("", text)
