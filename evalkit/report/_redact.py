"""Scrubbing credentials out of everything the report shows.

A report is shared (attached to a CI run, pasted into a review), and most of what it shows was
not written by evalkit: error messages from providers, model answers, config values. The model
layer and the session already redact what they record (see :mod:`evalkit.redaction`, where the
rule lives); the report applies the same rule again to every string it reads from the run
folder, since a run may have been recorded elsewhere or by an older version:

>>> redact("401: Authorization: Bearer sk-abcdefghijklmnopqrstu rejected")
'401: Authorization: [redacted] rejected'
"""

from __future__ import annotations

from evalkit.redaction import REDACTED, redact, redact_data, redact_texts, trigger_hits

__all__ = ["REDACTED", "redact", "redact_data", "redact_texts", "trigger_hits"]
