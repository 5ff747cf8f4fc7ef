"""Model prices (USD per 1M tokens) for cost estimates and usage accounting.

The table ships as `pricing.yaml` beside this module; a deployment overrides or extends it
with `PILOT_PRICING_FILE` (same shape). A model missing from the table is priced as
`DEFAULT_MODEL`, and marked so by callers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PRICING_FILE = Path(__file__).with_name("pricing.yaml")
PRICING_FILE_ENV = "PILOT_PRICING_FILE"


@dataclass(frozen=True)
class Price:
    input_per_m: float
    output_per_m: float


def load_prices(path: str | Path) -> tuple[str | None, dict[str, Price]]:
    """The default model and prices of one pricing YAML file."""
    raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict) or not isinstance(raw.get("models", {}), dict):
        raise ValueError(f"{path}: expected a mapping with a 'models' mapping")
    prices = {
        str(name): Price(float(p.get("input_per_m", 0)), float(p.get("output_per_m", 0)))
        for name, p in (raw.get("models") or {}).items()
    }
    default = raw.get("default_model")
    return (str(default) if default else None), prices


def load_table(override: str | Path | None = None) -> tuple[str, dict[str, Price]]:
    """The shipped table, with the override file (argument, else PILOT_PRICING_FILE) on top."""
    default, prices = load_prices(DEFAULT_PRICING_FILE)
    override = override or os.environ.get(PRICING_FILE_ENV) or None
    if override:
        extra_default, extra = load_prices(override)
        prices.update(extra)
        default = extra_default or default
    return default or "gpt-4o-mini", prices


DEFAULT_MODEL, PRICES = load_table()


def reload_prices(override: str | Path | None = None) -> None:
    """Re-read the table (e.g. after PILOT_PRICING_FILE changed); updates PRICES in place."""
    global DEFAULT_MODEL
    DEFAULT_MODEL, table = load_table(override)
    PRICES.clear()
    PRICES.update(table)


def price_of(model: str) -> Price:
    if model in PRICES:
        return PRICES[model]
    # "openai/gpt-4o-mini" (OpenRouter) or a dated name "gpt-4o-2024-08-06"
    base = model.rsplit("/", 1)[-1]
    for name in sorted(PRICES, key=len, reverse=True):
        if base == name or base.startswith(name + "-"):
            return PRICES[name]
    return PRICES[DEFAULT_MODEL]


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    p = price_of(model)
    return round((prompt_tokens * p.input_per_m + completion_tokens * p.output_per_m) / 1e6, 10)


def estimate_tokens(text: str) -> int:
    """A coarse count for when a provider reports none: ~4 chars per token for Latin
    script, ~1 token per CJK character."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return max(1, cjk + (len(text) - cjk + 3) // 4) if text else 0
