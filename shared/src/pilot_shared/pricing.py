"""Model prices (USD per 1M tokens) for cost estimates and usage accounting.

Defaults here; issue #5 moves them to a shipped YAML file that deployments override.
A model missing from the table is priced as `DEFAULT_MODEL`, and marked so by callers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input_per_m: float
    output_per_m: float


DEFAULT_MODEL = "gpt-4o-mini"
PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4": Price(30.00, 60.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-haiku": Price(0.25, 1.25),
    "deepseek-chat": Price(0.27, 1.10),
    "qwen-plus": Price(0.40, 1.20),
    "qwen-turbo": Price(0.05, 0.20),
    "offline": Price(0.0, 0.0),
}


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
