"""The data model shared by every part of evalkit: judgments, answers and the run folder."""

from evalkit.records._answers import Answer, Role
from evalkit.records._baselines import baseline_path, read_accepted, write_accepted
from evalkit.records._dataset import HUMAN_LABELS, MAX_FIELD_CHARS, Item, load_dataset
from evalkit.records._judgments import (
    JUDGMENT_COLUMNS,
    ORDERS,
    VERDICTS,
    Judgment,
    Mode,
    Order,
    Verdict,
    coerce_judgments,
    judgments_frame,
)
from evalkit.records._store import (
    ANSWERS_FILE,
    JUDGMENTS_FILE,
    REPORT_FILE,
    RUN_FILE,
    JsonlAppender,
    iter_jsonl,
    read_answers,
    read_judgments,
    read_run,
    read_table,
    write_json_atomic,
    write_text_atomic,
)

__all__ = [
    "ANSWERS_FILE",
    "HUMAN_LABELS",
    "JUDGMENTS_FILE",
    "JUDGMENT_COLUMNS",
    "MAX_FIELD_CHARS",
    "ORDERS",
    "REPORT_FILE",
    "RUN_FILE",
    "VERDICTS",
    "Answer",
    "Item",
    "JsonlAppender",
    "Judgment",
    "Mode",
    "Order",
    "Role",
    "Verdict",
    "baseline_path",
    "coerce_judgments",
    "iter_jsonl",
    "judgments_frame",
    "load_dataset",
    "read_accepted",
    "read_answers",
    "read_judgments",
    "read_run",
    "read_table",
    "write_accepted",
    "write_json_atomic",
    "write_text_atomic",
]
