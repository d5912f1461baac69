"""Test doubles that ship with evalkit: a fake OpenAI-compatible provider and simulated models.

:class:`FakeProvider` is a real HTTP server on loopback, reached through litellm like any
provider (``openai/<name>`` with ``api_base=fake.base_url``), with scripted latency and faults.
Its simulated writers and judges (:mod:`evalkit.testing._sim`) have known, injected biases, so
tests can check that the audit finds exactly what was put in. :func:`simulate_judgments` draws
a whole judgments table from judges of the same model (:mod:`evalkit.testing._bias`), without
any request, for the audit's statistics.
"""

from evalkit.testing._bias import JudgeParams, SimJudge
from evalkit.testing._faults import Fault, ModelBehaviour
from evalkit.testing._probes import simulate_probes
from evalkit.testing._server import FakeProvider, ReceivedRequest, refused_base_url
from evalkit.testing._sim import (
    Marker,
    WriterParams,
    decide,
    p_first,
    parse_markers,
    write_answer,
)
from evalkit.testing._tables import simulate_judgments, simulate_pointwise

__all__ = [
    "FakeProvider",
    "Fault",
    "JudgeParams",
    "Marker",
    "ModelBehaviour",
    "ReceivedRequest",
    "SimJudge",
    "WriterParams",
    "decide",
    "p_first",
    "parse_markers",
    "refused_base_url",
    "simulate_judgments",
    "simulate_pointwise",
    "simulate_probes",
    "write_answer",
]
