"""What a suite can evaluate besides a model string: apps, HTTP services, recorded answers.

``evalkit.app(fn, version=...)`` declares a Python function as the candidate;
``evalkit.recorded(...)`` judges answers that already exist. Their answers are asked through
the model client (:mod:`evalkit.candidates._transport`), so an app is limited, timed, cached
and recorded as a model is. The public names are re-exported by :mod:`evalkit`.
"""

__all__: list[str] = []
