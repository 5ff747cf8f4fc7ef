"""Numbers said in words, written as digits before the prompt is read: "一千块以上",
"不到七天", "three stars or less", "above one hundred and sixty". Thresholds, bands and
counts are read from digits; a number in words would otherwise be no number at all.

Only words that are surely a quantity are rewritten: a compound ("一千", "二十", "one
hundred and sixty"), or a small number with a unit it counts ("七天", "three stars").
"每一个", "一下", "one of them" are left alone.
"""

from __future__ import annotations

import re

_ZH_DIGIT = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_RUN = re.compile(r"[零一二两三四五六七八九十百千万]+")
# idioms spelled with numerals: "千万别", "万一", "逐一一", "一一对应"
_ZH_IDIOM = frozenset({"千万", "万一", "一一", "万"})
# a single numeral is a quantity when a unit it counts follows and a comparison is near
_ZH_UNIT_AFTER = re.compile(
    r"(?:天|块|元|个|次|小时|分钟|分|星|颗星|周|个月|月|年|人|件|笔|单|页|条|岁|斤|公斤)"
)
_ZH_COMPARE_BEFORE = re.compile(
    r"(?:不到|超过|低于|高于|少于|多于|大于|小于|不足|满|达到|跌破|突破|过了?)$"
)
_ZH_COMPARE_AFTER = re.compile(r"^\S{0,3}?(?:以上|以下|以内|之内|内|及以上|及以下)")


def _zh_value(run: str) -> int | None:
    """ "一千" -> 1000, "一百六十" -> 160, "二十" -> 20, "十五" -> 15; None if not a number."""
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _ZH_DIGIT:
            if digit is not None:
                return None  # "七八" (seven or eight): no one number
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            section += (1 if digit is None else digit) * _ZH_UNIT[ch]
            digit = None
        else:  # 万
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
    return total + section + (digit or 0)


def _zh(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        run = m.group()
        if run in _ZH_IDIOM:
            return run
        before, after = text[: m.start()], text[m.end() :]
        compound = any(ch in _ZH_UNIT or ch == "万" for ch in run) and len(run) > 1
        single = (
            len(run) == 1
            and run in _ZH_DIGIT
            and _ZH_UNIT_AFTER.match(after)
            and (_ZH_COMPARE_BEFORE.search(before) or _ZH_COMPARE_AFTER.match(after))
        )
        if not (compound or single):
            return run
        value = _zh_value(run)
        return run if value is None else str(value)

    return _ZH_RUN.sub(sub, text)


_EN_SMALL = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_EN_WORD = "one|" + "|".join([*_EN_SMALL, *_EN_TENS])
# "one hundred and sixty", "a thousand", "twenty-five", "five thousand"
_EN_COMPOUND = re.compile(
    rf"(?i)(?<![\w-])(?:(?:a|{_EN_WORD})[\s-]+(?:hundred|thousand|million)"
    rf"(?:(?:\s+and)?[\s-]+(?:{_EN_WORD})(?:[\s-]+(?:{_EN_WORD}))?)?"
    rf"|(?:{'|'.join(_EN_TENS)})(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?)(?![\w-])"
)
_EN_COUNTED = re.compile(
    rf"(?i)(?<![\w-])(?:{'|'.join(_EN_SMALL)})(?=\s+(?:stars?|days?|hours?|minutes?|weeks?|"
    r"months?|years?|percent|dollars?|bucks|points?|times|items?|units?|nights?)(?![\w-]))"
)
_EN_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


def _en_value(words: str) -> int:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words.lower()):
        if word in ("and", ""):
            continue
        if word in _EN_SCALE:
            current = max(current, 1) * _EN_SCALE[word]
            if word != "hundred":
                total, current = total + current, 0
        elif word == "a":
            current = 1
        elif word == "one":
            current += 1
        else:
            current += _EN_SMALL.get(word, 0) + _EN_TENS.get(word, 0)
    return total + current


def _en(text: str) -> str:
    text = _EN_COMPOUND.sub(lambda m: str(_en_value(m.group())), text)
    return _EN_COUNTED.sub(lambda m: str(_en_value(m.group())), text)


def digits(text: str) -> str:
    """The prompt with quantities in words written as digits."""
    return _en(_zh(text))
