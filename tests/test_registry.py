"""One registry helper behind parsers, graders and panel aggregators, extensible by entry points.

The entry-point tests install a real (tiny) distribution: a ``*.dist-info`` folder with an
``entry_points.txt`` on ``sys.path`` of a fresh interpreter, exactly what ``pip install`` of a
plugin package leaves behind, so ``importlib.metadata`` finds it the ordinary way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evalkit._registry import Registry
from evalkit.errors import SpecError, UsageError
from evalkit.graders import GRADERS
from evalkit.judging import PARSERS
from evalkit.panel import AGGREGATORS

PLUGIN = '''
from evalkit.graders import Grade
from evalkit.judging import Parsed
from evalkit.panel import aggregator


def shout(raw):
    """A parser: the reply in capitals is the label."""
    return Parsed("A") if raw.isupper() else Parsed.fail("not shouted")


class WordCount:
    """A grader: at most ``limit`` words."""

    def __init__(self, limit=3, name="word_count"):
        self.limit, self.name = limit, name

    def fields(self):
        return ()

    def describe(self):
        return f"word_count(limit={self.limit})"

    def grade(self, answer, item):
        return Grade(len(answer.split()) <= self.limit, f"{len(answer.split())} words")


@aggregator("score")
def lowest(scores, weights):
    """The lowest judge's score."""
    return scores.groupby(["suite", "item_id", "candidate"], sort=True)["score"].min()
'''

ENTRY_POINTS = """
[evalkit.parsers]
shout = evalkit_plugin_demo:shout

[evalkit.graders]
word_count = evalkit_plugin_demo:WordCount

[evalkit.aggregators]
lowest = evalkit_plugin_demo:lowest
broken = evalkit_plugin_demo_missing:nothing
"""


def install_plugin(site: Path) -> None:
    """Lay out the plugin as an installed distribution in ``site``."""
    (site / "evalkit_plugin_demo.py").write_text(PLUGIN)
    info = site / "evalkit_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evalkit-plugin-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


def run_python(code: str, site: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_separate_package_adds_a_parser_a_grader_and_an_aggregator(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    code = """
        import sys
        from evalkit.graders import GRADERS
        from evalkit.graders._base import make_grader
        from evalkit.judging import PARSERS
        from evalkit.panel import AGGREGATORS
        # Listed before anything is loaded; the plugin module is imported on first lookup only.
        print("shout" in PARSERS.names(), "word_count" in GRADERS.names(),
              "lowest" in AGGREGATORS.names(), "evalkit_plugin_demo" in sys.modules)
        print(PARSERS.get("shout")("YES").label, PARSERS.get("shout")("no").reason)
        print(make_grader({"kind": "word_count", "limit": 2}).grade("one two three", {}))
        lowest = AGGREGATORS.get("lowest")
        print(lowest.kind, lowest.description)
    """
    assert run_python(code, tmp_path).splitlines() == [
        "True True True False",
        "A not shouted",
        "Grade(passed=False, detail='3 words')",
        "score The lowest judge's score.",
    ]


def test_a_judge_spec_can_name_a_plugin_parser(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    judges = tmp_path / "judges"
    judges.mkdir()
    (judges / "loud.yaml").write_text(
        "kind: judge\nextends: gpt-4o-mini\nparser: shout\n"
    )
    code = f"""
        from pathlib import Path
        from evalkit.judging import JudgeRegistry
        judge = JudgeRegistry(Path({str(judges)!r})).judge("loud")
        print(judge.read("YES").label)
    """
    assert run_python(code, tmp_path).strip() == "A"


def test_a_broken_plugin_is_named_and_breaks_no_other_name(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    code = """
        from evalkit.errors import UsageError
        from evalkit.panel import AGGREGATORS
        try:
            AGGREGATORS.get("broken")
        except UsageError as exc:
            print(exc)
        print(AGGREGATORS.get("lowest").kind)
    """
    broken, lowest = run_python(code, tmp_path).splitlines()
    assert broken.startswith(
        "panel method 'broken' comes from the entry point 'evalkit_plugin_demo_missing:nothing' "
        "(group 'evalkit.aggregators'), which failed to import: ModuleNotFoundError"
    )
    assert broken.endswith("fix or uninstall the package that declares it")
    assert lowest == "score"


def test_a_broken_aggregator_plugin_does_not_stop_a_panel_that_does_not_use_it(
    tmp_path: Path,
) -> None:
    install_plugin(tmp_path)
    code = """
        from evalkit.judging import JudgeRegistry
        from evalkit.session._engine import load_panel
        print(load_panel(JudgeRegistry(None), "local", "pairwise").spec.aggregation)
    """
    assert run_python(code, tmp_path).strip() == "majority"


def test_an_unknown_name_lists_the_known_ones_and_suggests_the_closest() -> None:
    with pytest.raises(SpecError) as parser:
        PARSERS.get("jsno")
    assert str(parser.value) == (
        f"unknown parser 'jsno'; known parsers: {', '.join(PARSERS.names())}; did you mean 'json'?"
    )
    with pytest.raises(SpecError, match=r"unknown grader kind 'exact'; known grader kinds: .*"
                       r"exact_match.*; did you mean 'exact_match'\?$"):  # fmt: skip
        GRADERS.get("exact")
    with pytest.raises(UsageError, match=r"known panel methods: .*majority, mean, median.*$"):
        AGGREGATORS.get("zzz")
    assert "did you mean" not in AGGREGATORS.unknown("zzz")


def test_the_same_verbs_everywhere() -> None:
    things: Registry[int] = Registry("thing", "evalkit.tests-nothing-installed")
    assert things.names() == []

    @things.register("one")
    def one() -> int:
        return 1

    assert things.get("one") is one
    assert things.names() == ["one"]
    things.register("one")(2)  # a later registration replaces the earlier
    assert things.get("one") == 2
    things.unregister("one")
    with pytest.raises(UsageError, match=r"^unknown thing 'one'; known things: $"):
        things.get("one")
    for registry in (PARSERS, GRADERS, AGGREGATORS):
        assert {"register", "get", "names", "unregister"} <= set(dir(registry))
