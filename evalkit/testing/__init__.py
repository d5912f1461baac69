"""Test doubles that ship with evalkit: a fake OpenAI-compatible provider and simulated models.

:class:`FakeProvider` is a real HTTP server on loopback, reached through litellm like any
provider (``openai/<name>`` with ``api_base=fake.base_url``), with scripted latency and faults.
Its simulated writers and judges (:mod:`evalkit.testing._sim`) have known, injected biases, so
tests can check that the audit finds exactly what was put in.
"""

from evalkit.testing._faults import Fault, FaultKind, ModelBehaviour
from evalkit.testing._server import FakeProvider, ReceivedRequest, refused_base_url
from evalkit.testing._sim import (
    Decision,
    JudgeParams,
    Label,
    Marker,
    WriterParams,
    decide,
    judge_reply,
    p_first,
    parse_markers,
    write_answer,
)

__all__ = [
    "Decision",
    "FakeProvider",
    "Fault",
    "FaultKind",
    "JudgeParams",
    "Label",
    "Marker",
    "ModelBehaviour",
    "ReceivedRequest",
    "WriterParams",
    "decide",
    "judge_reply",
    "p_first",
    "parse_markers",
    "refused_base_url",
    "write_answer",
]
