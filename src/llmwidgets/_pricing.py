"""Model prices, so the counter can show what an answer cost.

USD per million tokens (input, output), matched by the longest model-name prefix. Prices change:
extend or correct them with `set_price()` (or a PR). Local models cost nothing; unknown ones
show no cost rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmwidgets._chunks import Usage


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input_per_million
            + usage.output_tokens * self.output_per_million
        ) / 1_000_000


FREE = Price(0.0, 0.0)

# provider -> model prefix -> price. Checked 2025; see each provider's pricing page.
PRICES: dict[str, dict[str, Price]] = {
    "openai": {
        "gpt-4o-mini": Price(0.15, 0.60),
        "gpt-4o": Price(2.50, 10.00),
        "gpt-4.1-nano": Price(0.10, 0.40),
        "gpt-4.1-mini": Price(0.40, 1.60),
        "gpt-4.1": Price(2.00, 8.00),
        "gpt-5-nano": Price(0.05, 0.40),
        "gpt-5-mini": Price(0.25, 2.00),
        "gpt-5": Price(1.25, 10.00),
        "o4-mini": Price(1.10, 4.40),
        "o3": Price(2.00, 8.00),
    },
    "anthropic": {
        "claude-haiku-4-5": Price(1.00, 5.00),
        "claude-3-5-haiku": Price(0.80, 4.00),
        "claude-3-haiku": Price(0.25, 1.25),
        "claude-sonnet-4": Price(3.00, 15.00),
        "claude-3-7-sonnet": Price(3.00, 15.00),
        "claude-3-5-sonnet": Price(3.00, 15.00),
        "claude-opus-4-5": Price(5.00, 25.00),
        "claude-opus-4": Price(15.00, 75.00),
    },
    # Text prices; the Pro models' apply to prompts up to 200k tokens (longer ones cost more).
    "google": {
        "gemini-2.5-flash": Price(0.30, 2.50),
        "gemini-2.5-flash-lite": Price(0.10, 0.40),
        "gemini-2.5-pro": Price(1.25, 10.00),
        "gemini-2.0-flash": Price(0.10, 0.40),
        "gemini-2.0-flash-lite": Price(0.075, 0.30),
        "gemini-3-pro": Price(2.00, 12.00),
    },
}
#: Providers that run on your own machine.
FREE_PROVIDERS = frozenset({"local", "ollama", "replay"})
#: Providers billed at another one's prices (the same models through another API).
SAME_PRICES = {"openai-responses": "openai"}


def set_price(
    provider: str, model_prefix: str, input_per_million: float, output_per_million: float
) -> None:
    """Add or correct a price (USD per million tokens)."""
    PRICES.setdefault(provider, {})[model_prefix] = Price(input_per_million, output_per_million)


def price_for(provider: str, model: str) -> Price | None:
    if provider in FREE_PROVIDERS:
        return FREE
    table = PRICES.get(provider) or PRICES.get(SAME_PRICES.get(provider, ""), {})
    best = max((p for p in table if model.startswith(p)), key=len, default=None)
    return table[best] if best is not None else None


def cost(provider: str, model: str, usage: Usage | None) -> float | None:
    """The answer's cost in USD, or None when the price or the usage is unknown. A free model
    costs nothing whatever its usage, also when a stopped answer never reported any."""
    price = price_for(provider, model)
    if price == FREE:
        return 0.0
    if price is None or usage is None:
        return None
    return price.cost(usage)
