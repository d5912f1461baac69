"""Simulated customer-support messages: clean synthetic ones, and the same made production-like.

Seeded and reproducible. ``noisy`` injects what people do and generators don't: typos, lower
case, no final punctuation, chat words, and two requests merged into one message.
"""

from __future__ import annotations

import numpy as np

INTENTS = (
    "Where is my refund for order {n}?",
    "How do I change the shipping address on my order?",
    "Can I return {item} that I bought last week?",
    "Do you ship to {country}?",
    "My {item} arrived damaged. What should I do?",
    "How long does delivery to {country} take?",
    "Why was I charged twice for order {n}?",
    "Can you please cancel my subscription?",
    "Is {item} still available in blue?",
    "I would like to update the email address on my account.",
)
ITEMS = ("the headphones", "the jacket", "the blender", "the shoes", "the phone case", "the lamp")
COUNTRIES = ("Canada", "Mexico", "Germany", "Japan", "Brazil", "Spain")
CHAT = {"you": "u", "please": "pls", "your": "ur", "thanks": "thx"}


def clean(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` well-formed one-request messages."""
    out = []
    for _ in range(n):
        template = INTENTS[rng.integers(len(INTENTS))]
        out.append(
            template.format(
                n=int(rng.integers(10_000, 99_999)),
                item=ITEMS[rng.integers(len(ITEMS))],
                country=COUNTRIES[rng.integers(len(COUNTRIES))],
            )
        )
    return out


def _typo(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, len(word) - 1))
    return (
        word[:i] + word[i + 1 :]
        if rng.random() < 0.5
        else word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    )


def noisy(rng: np.random.Generator, texts: list[str], *, typo_rate: float = 0.25) -> list[str]:
    """The same messages as a stressed person types them."""
    out = []
    for text in texts:
        if rng.random() < 0.4:  # a second request packed into the message
            text = text.rstrip("?.") + " also " + clean(rng, 1)[0]
        words = [CHAT.get(w.lower(), w) for w in text.lower().split()]
        words = [
            _typo(w, rng) if len(w) > 3 and w.isalpha() and rng.random() < typo_rate else w
            for w in words
        ]
        text = " ".join(words)
        out.append(text.rstrip("?.!") if rng.random() < 0.7 else text)
    return out


def mixed(rng: np.random.Generator, n: int) -> list[str]:
    """One population with both styles, as a real production log has."""
    texts = clean(rng, n)
    mask = rng.random(n) < 0.5
    rough = noisy(rng, [t for t, m in zip(texts, mask, strict=True) if m])
    it = iter(rough)
    return [next(it) if m else t for t, m in zip(texts, mask, strict=True)]
