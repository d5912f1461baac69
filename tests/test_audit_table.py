import pandas as pd
import pytest

from evalkit.audit._table import rename_columns, validate_judgments
from evalkit.errors import UsageError
from evalkit.records._judgments import JUDGMENT_COLUMNS, coerce_judgments


def pairwise_rows(n_items=2):
    rows = []
    for i in range(n_items):
        for order in ("AB", "BA"):
            rows.append(
                {
                    "run_id": "r1",
                    "suite": "s",
                    "item_id": f"q{i}",
                    "mode": "pairwise",
                    "judge": "j1",
                    "judge_family": "alpha",
                    "order": order,
                    "sample": 0,
                    "verdict": "candidate",
                    "parse_ok": True,
                    "error": None,
                    "candidate_family": "alpha",
                    "baseline_family": "beta",
                }
            )
    return pd.DataFrame(rows)


def recorded(table):
    """What evalkit.records.read_judgments makes of a file: every column added, typed."""
    # coerce_judgments cannot fill absent float columns itself (reported to the lead).
    return coerce_judgments(table.assign(score=None, latency_s=0.0, cost_usd=0.0))


def test_a_good_table_comes_back_typed_with_every_column():
    got = validate_judgments(pairwise_rows())
    assert list(got.columns[: len(JUDGMENT_COLUMNS)]) == list(JUDGMENT_COLUMNS)
    assert got["sample"].dtype == "int64"
    assert got["parse_ok"].dtype == bool
    assert list(got.index) == [0, 1, 2, 3]


def test_a_missing_required_column_is_named_with_the_mapping_to_pass():
    with pytest.raises(UsageError) as info:
        validate_judgments(pairwise_rows().drop(columns=["item_id"]))
    message = str(info.value)
    assert "'item_id'" in message
    assert "rename_columns(table, {'<your column>': 'item_id'})" in message


def test_a_pointwise_table_needs_scores():
    table = pd.DataFrame({"suite": "s", "item_id": ["a"], "mode": "pointwise", "judge": "j"})
    with pytest.raises(UsageError, match="no column 'score' \\(the pointwise score\\)"):
        validate_judgments(table)


def test_an_empty_key_column_is_named_with_its_rows():
    table = pairwise_rows()
    table.loc[2, "judge"] = None
    with pytest.raises(UsageError, match=r"'judge'.*row 2\b"):
        validate_judgments(table)


def test_a_coerced_table_without_orders_is_refused():
    # coerce_judgments adds absent columns as all-missing; the audit must not accept that.
    table = recorded(pairwise_rows().drop(columns=["order"]))
    with pytest.raises(UsageError, match=r"column 'order' must be one of AB\|BA; rows 0, 1, 2, 3"):
        validate_judgments(table)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("sample", "first", r"'sample' must hold whole numbers; row 1 holds 'first'"),
        ("sample", 1.5, r"'sample' must hold whole numbers; row 1"),
        ("score", "high", r"'score' must hold numbers; row 1 holds 'high'"),
        ("len_candidate", -3, r"'len_candidate' must hold non-negative whole numbers; row 1"),
        ("parse_ok", "maybe", r"'parse_ok' must be true/false; row 1 holds 'maybe'"),
    ],
)
def test_wrong_types_are_named_with_row_and_value(column, value, expected):
    table = pairwise_rows()
    table[column] = table.get(column, pd.Series([None] * len(table))).astype(object)
    table.loc[1, column] = value
    with pytest.raises(UsageError, match=expected):
        validate_judgments(table)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("verdict", "A", r"'verdict' must be one of candidate\|baseline\|tie; row 3 holds 'A'"),
        ("order", "CA", r"'order' must be one of AB\|BA; row 3 holds 'CA'"),
        ("mode", "ranking", r"'mode' must be one of pairwise\|pointwise\|reference; row 3"),
        ("human_label", "good", r"'human_label' must be one of candidate\|baseline\|tie; row 3"),
    ],
)
def test_values_outside_the_vocabulary_are_named(column, value, expected):
    table = pairwise_rows()
    table[column] = table.get(column, pd.Series([None] * len(table))).astype(object)
    table.loc[3, column] = value
    with pytest.raises(UsageError, match=expected):
        validate_judgments(table)


def test_option_order_vocabulary():
    table = pd.DataFrame(
        {
            "suite": "s",
            "item_id": ["a", "a"],
            "mode": "pointwise",
            "judge": "j",
            "score": [3, 4],
            "option_order": ["ascending", "upwards"],
        }
    )
    with pytest.raises(UsageError, match=r"'option_order' must be one of ascending\|descending"):
        validate_judgments(table)


def test_duplicated_judge_calls_are_named_with_their_key():
    table = pd.concat([pairwise_rows(), pairwise_rows().iloc[[1]]], ignore_index=True)
    with pytest.raises(UsageError) as info:
        validate_judgments(table)
    message = str(info.value)
    assert "rows 1, 4 record the same judge call" in message
    assert "item_id='q0'" in message
    assert "order='BA'" in message
    assert "sample" in message


def test_duplicates_across_runs_say_to_audit_one_run():
    other = pairwise_rows().assign(run_id="r2")
    with pytest.raises(UsageError, match="runs r1, r2: audit one run at a time"):
        validate_judgments(pd.concat([pairwise_rows(), other], ignore_index=True))


def test_repeated_samples_are_not_duplicates():
    table = pd.concat([pairwise_rows(), pairwise_rows().assign(sample=1)], ignore_index=True)
    assert len(validate_judgments(table)) == 8


def test_absent_parse_ok_and_mode_are_derived_from_the_verdicts():
    table = pairwise_rows().drop(columns=["parse_ok", "mode", "sample"])
    table.loc[0, "verdict"] = None
    got = validate_judgments(table)
    assert got["parse_ok"].tolist() == [False, True, True, True]
    assert (got["mode"] == "pairwise").all()
    assert (got["sample"] == 0).all()


def test_a_table_read_without_parse_ok_or_mode_keeps_its_verdicts():
    # coerce_judgments fills an absent parse_ok with false and an absent mode with nothing.
    table = pairwise_rows().drop(columns=["parse_ok", "mode"])
    table.loc[1, "verdict"] = None
    got = validate_judgments(recorded(table))
    assert got["parse_ok"].tolist() == [True, False, True, True]
    assert (got["mode"] == "pairwise").all()


def test_a_real_parse_failure_is_not_turned_into_a_verdict():
    table = pairwise_rows()
    table.loc[1, ["parse_ok", "verdict"]] = [False, None]
    assert validate_judgments(table)["parse_ok"].tolist() == [True, False, True, True]


def test_not_a_dataframe():
    with pytest.raises(UsageError, match="DataFrame"):
        validate_judgments([{"a": 1}])  # type: ignore[arg-type]


def test_rename_columns_maps_a_foreign_table():
    foreign = pairwise_rows().rename(
        columns={"item_id": "question", "judge": "annotator", "verdict": "preference"}
    )
    got = rename_columns(
        foreign, {"question": "item_id", "annotator": "judge", "preference": "verdict"}
    )
    assert got["item_id"].tolist() == ["q0", "q0", "q1", "q1"]
    assert "question" not in got.columns


def test_rename_columns_replaces_the_empty_columns_coercion_added():
    foreign = pairwise_rows().rename(columns={"item_id": "question"})
    got = rename_columns(recorded(foreign), {"question": "item_id"})
    assert got["item_id"].tolist() == ["q0", "q0", "q1", "q1"]


def test_rename_columns_names_what_is_still_missing():
    foreign = pairwise_rows().rename(columns={"item_id": "question", "judge": "annotator"})
    with pytest.raises(UsageError) as info:
        rename_columns(foreign, {"question": "item_id"})
    assert "'judge'" in str(info.value)
    assert "{'<your column>': 'judge'}" in str(info.value)
    assert "annotator" in str(info.value)  # the table's columns are listed


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"nope": "item_id"}, "names 'nope', which the table does not have"),
        ({"judge": "grader"}, "targets 'grader', which evalkit does not know"),
        ({"judge_family": "judge"}, "several columns would be called 'judge'"),
    ],
)
def test_rename_columns_refuses_bad_mappings(mapping, expected):
    with pytest.raises(UsageError, match=expected):
        rename_columns(pairwise_rows(), mapping)
