"""A retrieval-augmented app as the candidate, judged for faithfulness to what it retrieved.

The app is plain Python: a keyword retriever over the few text files in data/handbook/, then
the bundled chat model (SmolLM2-135M-Instruct) asked to answer from the retrieved passages.
It calls the model through ``models.complete``, so the call is cached, limited and counted like
the run's own. The app returns the passages with its answer (``evalkit.AppAnswer(context=...)``):
they land in the answers table and the report's drill-down, and the faithfulness judges of
judges/local-faithful.yaml see them as ``{{ context }}``. Answers are cached under the app's
version: change ``version`` when the app changes, and it is asked again.
"""

import re
from pathlib import Path

import evalkit

HANDBOOK = Path(__file__).parent / "data" / "handbook"
STOPWORDS = frozenset(
    {"a", "an", "and", "are", "at", "be", "by", "do", "does", "each", "for", "from", "how", "i",
     "in", "is", "it", "many", "much", "my", "of", "on", "or", "the", "to", "what", "when",
     "where", "which", "who", "with"}
)  # fmt: skip


def words(text: str) -> set[str]:
    """The lower-case content words of ``text``."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def retrieve(question: str, k: int = 1) -> list[str]:
    """The ``k`` handbook documents sharing the most words with the question."""
    docs = [p.read_text(encoding="utf-8").strip() for p in sorted(HANDBOOK.glob("*.txt"))]
    wanted = words(question)
    return sorted(docs, key=lambda doc: len(wanted & words(doc)), reverse=True)[:k]


def answer(row: dict, models) -> evalkit.AppAnswer:
    """Retrieve, then ask the bundled chat model to answer from the passages only."""
    passages = retrieve(row["question"])
    prompt = (
        "Answer the question in one short sentence, using only this text.\n\n"
        f"Text: {' '.join(passages)}\n\nQuestion: {row['question']}"
    )
    text = models.complete("local/smollm2-135m-instruct", prompt, max_tokens=48)
    return evalkit.AppAnswer(text, context=passages)


suite = evalkit.Suite(
    "handbook-rag",
    dataset="data/handbook_questions.jsonl",
    mode="pointwise",
    panel="local-faithful",
    # The app calls SmolLM2 (Hugging Face family): said so, the panel's family policy applies.
    # Two at a time, like the bundled server; time enough for that server to start.
    candidate=evalkit.app(
        answer, version="keyword-v1", family="huggingface", concurrency=2, timeout_s=180
    ),
    gates=[evalkit.gates.MeanScore(at_least=5.0, min_items=8)],
)

test_item, test_gate = suite.tests()
