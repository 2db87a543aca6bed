"""What the trees' rows and group lines say, measured without running the app."""

from __future__ import annotations


def test_a_baseline_without_a_name_is_not_labelled_twice() -> None:
    """A detached baseline's label is its short SHA: 'dd00f3b dd00f3b' said it twice."""
    from core.git.refs import ExpRef
    from core.project.listing import BaselineGroup
    from core.project.repo import Experiment
    from tui.view import ExpRow, GroupView
    from tui.widgets.exp_tree import ExpTree

    sha = "dd00f3b" + "0" * 33
    exp = Experiment(ExpRef(sha, "run"), "a" * 40)
    for label, expected in ((sha[:7], "dd00f3b · 1 experiment"), ("main", "main dd00f3b ·")):
        group = GroupView(BaselineGroup(sha, label, False, [exp]), None, [ExpRow(exp, None)])
        assert str(ExpTree().group_label(group)).startswith(expected)
