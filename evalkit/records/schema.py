"""Print the JSON schema of run.json, as published in ``docs/run-record.schema.json``.

Regenerate the published copy with
``python -m evalkit.records.schema > docs/run-record.schema.json``.

The committed copy in ``docs/`` is checked against the models by the tests, so that it is
regenerated whenever the record changes.
"""

from __future__ import annotations

import json

from evalkit.records._run import run_record_schema


def schema_text() -> str:
    """The schema as the committed file holds it: indented JSON, keys sorted, newline-ended."""
    return json.dumps(run_record_schema(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write the schema to standard output."""
    print(schema_text(), end="")


if __name__ == "__main__":
    main()
