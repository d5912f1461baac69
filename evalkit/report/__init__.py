"""The HTML report: a pure render of a run folder."""

from evalkit.report._load import RunData, load_run
from evalkit.report._render import render

__all__ = ["RunData", "load_run", "render"]
