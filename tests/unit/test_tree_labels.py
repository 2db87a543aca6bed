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


def test_every_row_is_as_wide_as_the_width_the_tree_is_told() -> None:
    """The tree takes one width for all rows (measuring 10,000 labels per rebuild was half
    of a large first screen): it must be each label's real width, badges and columns on."""
    from rich.cells import cell_len

    from core.git.refs import ExpRef
    from core.project.dvcfiles import ProjectState
    from core.project.repo import CommitInfo, Experiment
    from tui.format import NumberColumn
    from tui.view import ExpRow
    from tui.widgets.exp_tree import UNMARKED, ExpTree

    sha = "dd00f3b" + "0" * 33
    rows = []
    for index, (name, loss) in enumerate((("a", 0.5), ("a-much-longer-name", 12.25))):
        exp = Experiment(ExpRef(sha, name), f"{index}" * 40)
        info = CommitInfo(exp.sha, (), 0, 0, "me", "msg")
        rows.append(ExpRow(exp, info, ProjectState(metrics={"m.json": {"loss": loss}})))
    tree = ExpTree(clock=lambda: 100.0)
    tree.set_reactive(ExpTree.wanted_columns, ["loss"])  # as show_groups sets them
    tree.name_width = len("a-much-longer-name")
    tree.formats = {"loss": NumberColumn.fit(row.metric("loss") for row in rows)}
    for show_sync in (False, True):
        tree.set_reactive(ExpTree.show_sync, show_sync)
        for row in rows:
            label_width = len(UNMARKED) + cell_len(str(tree.row_label(row)))
            assert tree.row_width() == label_width, (show_sync, row.exp.name)
