"""The agreement coefficients reproduce published worked examples.

The data are typed in from the publications; the published coefficient is the check.
"""

import numpy as np
import pytest

from evalkit.audit._kappa import cohen_kappa, fleiss_kappa, krippendorff_alpha

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 5 categories, 14 raters each.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Fleiss (1971), psychiatric diagnoses of 30 patients by 6 raters (categories 1-5: depression,
# personality disorder, schizophrenia, neurosis, other), as in R's irr::diagnoses.
FLEISS_1971_DIAGNOSES = np.array(
    [
        [4, 4, 4, 4, 4, 4],
        [2, 2, 2, 5, 5, 5],
        [2, 3, 3, 3, 3, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3],
        [3, 3, 3, 3, 5, 5],
        [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4],
        [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4],
        [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3],
        [1, 4, 4, 4, 4, 4],
        [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5],
        [1, 1, 1, 1, 1, 2],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 4, 4, 4, 4, 4],
        [2, 2, 4, 5, 5, 5],
        [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4],
        [1, 1, 1, 1, 5, 5],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3],
        [5, 5, 5, 5, 5, 5],
    ]
)

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C:
# 4 observers x 12 units, values 1-5, missing values as NaN.
nan = np.nan
KRIPPENDORFF_2011_C = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)


def test_fleiss_kappa_on_the_wikipedia_example():
    assert (WIKIPEDIA_FLEISS.sum(axis=1) == 14).all()
    assert round(fleiss_kappa(WIKIPEDIA_FLEISS), 3) == 0.210


def test_fleiss_kappa_on_fleiss_1971_diagnoses():
    counts = np.stack([(c == FLEISS_1971_DIAGNOSES).sum(axis=1) for c in range(1, 6)], axis=1)
    assert counts.shape == (30, 5)
    assert round(fleiss_kappa(counts), 4) == 0.4302


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_alpha_on_example_c(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011_C, level), 3) == published


def test_cohen_kappa_and_its_asymptotic_standard_error():
    got = cohen_kappa([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(got.kappa, 4) == 0.4842
    assert round(got.ase, 4) == 0.1380
    assert got.n == 19
