import evalkit.audit

PUBLIC = {
    "AuditReport",
    "CohenKappa",
    "Interval",
    "ReliabilityThresholds",
    "WinRate",
    "cohen_kappa",
    "corrected_pass_rate",
    "fleiss_kappa",
    "human_agreement",
    "judge_agreement",
    "judge_reliability",
    "kappa_with_others",
    "krippendorff_alpha",
    "length_slope",
    "option_order_bias",
    "panel_agreement",
    "position_bias",
    "rename_columns",
    "run_audit",
    "self_preference",
    "validate_judgments",
    "verbosity_bias",
    "wilson_interval",
    "win_rate",
}


def test_the_public_names_are_pinned():
    assert set(evalkit.audit.__all__) == PUBLIC
    assert sorted(evalkit.audit.__all__) == evalkit.audit.__all__


def test_every_public_name_exists_and_nothing_else_leaks():
    # The thresholds are a setting ([tool.evalkit.reliability]), defined with the config.
    defined_elsewhere = {"ReliabilityThresholds": "evalkit.config"}
    for name in PUBLIC:
        module = getattr(evalkit.audit, name).__module__
        assert module == defined_elsewhere.get(name) or module.startswith("evalkit.audit._"), name
    # Private submodules start with "_"; pytest's assertion rewriting adds "@" names.
    leaked = {n for n in vars(evalkit.audit) if not n.startswith(("_", "@")) and n not in PUBLIC}
    assert leaked == set()
