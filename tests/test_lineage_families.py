"""Model families from litellm model strings: the table lineage checks rely on."""

from __future__ import annotations

import pytest

from evalkit.models import family_of
from evalkit.models._families import UNKNOWN

FAMILIES = [
    # OpenAI: GPT and the o-series, with or without a provider prefix
    ("openai/gpt-4o-mini", "openai"),
    ("gpt-4o", "openai"),
    ("openai/o3-mini", "openai"),
    ("o1", "openai"),
    ("azure/my-gpt4-deployment", "openai"),
    ("openrouter/openai/gpt-4.1", "openai"),
    ("text-embedding-3-small", "openai"),
    ("ollama/gpt-oss:20b", "openai"),
    # Anthropic
    ("anthropic/claude-3-5-haiku-20241022", "anthropic"),
    ("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic"),
    ("vertex_ai/claude-3-opus@20240229", "anthropic"),
    ("claude-sonnet-4-5", "anthropic"),
    # Google: Gemini and Gemma
    ("gemini/gemini-2.0-flash", "google"),
    ("vertex_ai/gemini-1.5-pro", "google"),
    ("ollama/gemma3:4b", "google"),
    ("local/gemma-3-270m", "google"),
    ("gemini/some-future-model", "google"),
    # Meta Llama, wherever it is hosted
    ("ollama/llama3.1:8b", "meta"),
    ("groq/llama-3.1-70b-versatile", "meta"),
    ("together_ai/meta-llama/Llama-3-70b-chat-hf", "meta"),
    ("bedrock/meta.llama3-70b-instruct-v1:0", "meta"),
    # Mistral
    ("mistral/mistral-large-latest", "mistral"),
    ("mistral/open-mixtral-8x7b", "mistral"),
    ("codestral/codestral-latest", "mistral"),
    ("ollama/mistral", "mistral"),
    # Qwen
    ("ollama/qwen2.5:7b", "qwen"),
    ("openrouter/qwen/qwq-32b", "qwen"),
    ("dashscope/some-model", "qwen"),
    # DeepSeek, including its distillations onto other bases
    ("deepseek/deepseek-chat", "deepseek"),
    ("ollama/deepseek-r1:8b", "deepseek"),
    ("groq/deepseek-r1-distill-llama-70b", "deepseek"),
    # Hugging Face SmolLM
    ("local/smollm2-135m-instruct", "huggingface"),
    ("huggingface/HuggingFaceTB/SmolLM2-1.7B-Instruct", "huggingface"),
    # xAI Grok (groq is a host, not a family)
    ("xai/grok-2", "xai"),
    ("openrouter/x-ai/grok-3-mini", "xai"),
    # Cohere
    ("cohere/command-r-plus", "cohere"),
    ("cohere_chat/command-r", "cohere"),
    ("command-a-03-2025", "cohere"),
    # other families evalkit knows
    ("ollama/phi3:mini", "microsoft"),
    ("bedrock/amazon.nova-pro-v1:0", "amazon"),
    ("huggingface/EleutherAI/gpt-j-6b", "eleutherai"),
    # evalkit's simulated models carry their family in their name
    ("openai/sim-writer-meta-q0.40", "meta"),
    # unknown is said, never guessed
    ("my-finetune", UNKNOWN),
    ("huggingface/bigscience/bloom", UNKNOWN),
    ("ollama/dolphin-mistral-free", "mistral"),
    ("ollama/orca-mini", UNKNOWN),
    ("perplexity/sonar", UNKNOWN),
    ("ollama/solar-pro", UNKNOWN),
]


@pytest.mark.parametrize(("model", "family"), FAMILIES, ids=[m for m, _ in FAMILIES])
def test_family_of(model: str, family: str) -> None:
    assert family_of(model) == family


def test_the_table_covers_the_common_families() -> None:
    assert len(FAMILIES) >= 30
    families = {f for _, f in FAMILIES}
    assert {"openai", "anthropic", "google", "meta", "mistral", "qwen", "deepseek"} <= families
    assert {"huggingface", "xai", "cohere", UNKNOWN} <= families
