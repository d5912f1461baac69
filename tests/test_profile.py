"""--evalkit-profile: each phase's wall time and share of the run, with an injected clock."""

from __future__ import annotations

import pytest

from evalkit._profile import PHASES, Profile, process_age_s


class _Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_phases_add_up_and_the_rest_is_other() -> None:
    clock = _Clock()
    profile = Profile(clock, started=clock() - 2.0)  # the process began 2 s before
    profile.add("imports", profile.now() - profile.started)
    with profile.phase("answers"):
        clock.t += 3.0
    clock.t += 1.5  # pytest's own work: no phase
    for _ in range(2):  # two suites: a phase accumulates
        with profile.phase("judge calls"):
            clock.t += 1.5

    def failing_report() -> None:
        with profile.phase("report"):
            clock.t += 0.5
            raise RuntimeError("the span still counts")

    with pytest.raises(RuntimeError):
        failing_report()
    assert profile.seconds["imports"] == 2.0
    assert profile.seconds["answers"] == 3.0
    assert profile.seconds["judge calls"] == 3.0
    assert profile.seconds["report"] == 0.5
    lines = profile.lines()
    assert lines[0] == "evalkit profile: wall time per phase"
    assert [line.split()[0] for line in lines[1:]] == [
        *(p.split()[0] for p in PHASES),
        "other",
        "total",
    ]
    by_name = {line[2:14].strip(): line[14:] for line in lines[1:]}
    assert by_name["imports"].split() == ["2.00", "s", "20.0%"]
    assert by_name["answers"].split() == ["3.00", "s", "30.0%"]
    assert by_name["judge calls"].split() == ["3.00", "s", "30.0%"]
    assert by_name["report"].split() == ["0.50", "s", "5.0%"]
    assert by_name["preflight"].split() == ["0.00", "s", "0.0%"]
    assert by_name["other"].split() == ["1.50", "s", "15.0%"]
    assert by_name["total"].split() == ["10.00", "s", "100.0%"]


def test_a_span_around_other_phases_counts_only_the_time_they_did_not_take() -> None:
    clock = _Clock()
    profile = Profile(clock)
    with profile.outside_phases("tests"):  # the first item test runs the whole suite
        clock.t += 0.25
        with profile.phase("judge calls"):
            clock.t += 2.0
        with profile.phase("audit"):
            clock.t += 0.5
        clock.t += 0.25
    with profile.outside_phases("tests"):  # the next one reads the result
        clock.t += 0.125
    assert profile.seconds["tests"] == 0.625
    assert profile.seconds["judge calls"] == 2.0
    assert profile.seconds["audit"] == 0.5
    by_name = {line[2:14].strip(): line[14:].split()[0] for line in profile.lines()[1:]}
    assert by_name["other"] == "0.00"


def test_an_unknown_phase_fails_before_its_block_runs() -> None:
    profile = Profile(_Clock())
    ran = []

    def unknown() -> None:
        with profile.phase("judging"):
            ran.append(1)

    with pytest.raises(KeyError):
        unknown()
    assert ran == []


def test_the_process_age_is_read_from_proc() -> None:
    # This test process has been running for a while (imports, collection), and not for days.
    assert 0.0 < process_age_s() < 86_400.0
