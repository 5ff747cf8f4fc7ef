"""Which language a prompt is written in: en, zh or mixed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal, TypeAlias

Language: TypeAlias = Literal["en", "zh", "mixed"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# One English word carries about as much meaning as 1.5 Chinese characters.
_WORD_WEIGHT = 1.5


def detect_language(text: str, ignore: Iterable[str] = ()) -> Language:
    """`ignore`: spans that say nothing about the writer's language (model and product
    names, URLs), so that "用 gpt-4o 发到 Slack" still counts as Chinese."""
    for span in ignore:
        if span:
            text = text.replace(span, " ")
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if cjk == 0:
        return "en"
    if words == 0:
        return "zh"
    share = cjk / (cjk + _WORD_WEIGHT * words)
    if share >= 0.8:
        return "zh"
    if share <= 0.2:
        return "en"
    return "mixed"


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None
