"""Which model family a model belongs to, from its litellm model string.

Self-preference and cross-family panels are judged by family, so every model has one: the
first rule whose pattern matches the model name (provider prefix stripped) decides; a provider
prefix that implies a vendor decides next; otherwise the family is ``"unknown"``, said
explicitly rather than guessed. A judge spec can always override the result.
"""

from __future__ import annotations

import re
from typing import Final

UNKNOWN: Final = "unknown"

# Ordered: more specific names first. DeepSeek's distilled models ("deepseek-r1-distill-llama")
# are DeepSeek's work on another base, and name DeepSeek first, so deepseek precedes llama and
# qwen; "gpt-j"/"gpt-neo" are EleutherAI's, not OpenAI's, so they precede the GPT rule.
_NAME_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.IGNORECASE), family)
    for pattern, family in (
        (r"smollm", "huggingface"),
        (r"deepseek", "deepseek"),
        (r"gemma|gemini|palm|bison", "google"),
        (r"claude", "anthropic"),
        (r"(^|[/:_.-])gpt-?(j|neo)", "eleutherai"),
        (r"(^|[/:_.-])(gpt|chatgpt|o[1-9]|davinci|babbage|text-embedding)([-_.:]|$|\d)", "openai"),
        (r"llama|codellama", "meta"),
        (r"mistral|mixtral|codestral|ministral|magistral|pixtral|devstral", "mistral"),
        (r"qwen|qwq", "qwen"),
        (r"(^|[/:_.-])grok", "xai"),
        (r"cohere|(^|[/:_.-])(command|aya)([-_.:]|$)", "cohere"),
        (r"(^|[/:_.-])phi-?\d", "microsoft"),
        (r"(^|[/:_.-])(nova|titan)-", "amazon"),
    )
)

# evalkit.testing's simulated models carry their family in their name: sim-writer-<family>-q0.8.
_SIMULATED: Final = re.compile(r"sim-(?:writer|judge)-([a-z0-9_.]+?)(?:-|$)")

_PREFIX_RULES: Final[dict[str, str]] = {
    "openai": "openai",
    "azure": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "palm": "google",
    "codestral": "mistral",
    "text-completion-openai": "openai",
    "dashscope": "qwen",
}


def family_of(model: str) -> str:
    """Return the family of a litellm model string, or ``"unknown"``.

    >>> family_of("anthropic/claude-3-5-sonnet-20241022")
    'anthropic'
    >>> family_of("openai/gpt-4o-mini")
    'openai'
    >>> family_of("ollama/llama3.1:8b")
    'meta'
    >>> family_of("openai/smollm2-135m-instruct")
    'huggingface'
    >>> family_of("openai/sim-writer-meta-q0.40")
    'meta'
    >>> family_of("my-finetune")
    'unknown'
    """
    prefix, _, name = model.partition("/")
    if not name:
        prefix, name = "", model
    simulated = _SIMULATED.match(name)
    if simulated:
        return simulated.group(1)
    for pattern, family in _NAME_RULES:
        if pattern.search(name):
            return family
    return _PREFIX_RULES.get(prefix.lower(), UNKNOWN)
