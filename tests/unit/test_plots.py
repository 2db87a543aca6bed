"""Plot definitions and points from untrusted files: DVC's rules, within bounds."""

from __future__ import annotations

import pytest

from core.errors import ExptuiError
from core.project.plots import (
    MAX_DATA_BYTES,
    datapoints,
    parse_data,
    pipeline_plots,
    resolve,
)


def test_definitions_follow_dvc_and_stay_inside_the_repository() -> None:
    plots = [
        "loss.tsv",
        {"../../etc/passwd": None},
        {"roc": {"x": "fpr", "y": {"eval/roc.json": "tpr", "../../x.json": "y"}}},
    ]
    stages = {"train": {"wdir": "src", "plots": [{"p.csv": {"x": "e", "cache": False}}]}}
    found = {p.id: p for p in pipeline_plots(plots, stages, "sub", "sub/dvc.yaml")}
    assert set(found) == {"sub/loss.tsv", "roc", "sub/src/p.csv"}
    assert found["roc"].sources == ("sub/eval/roc.json",)  # the climbing one is dropped
    assert found["sub/src/p.csv"].props == {"x": "e"}  # output flags are not plot props


def test_points_as_dvcs_converter_makes_them() -> None:
    (definition,) = pipeline_plots([{"m": {"x": "step"}}], {}, "", "dvc.yaml")
    documents = {
        "m/a.tsv": parse_data("m/a.tsv", b"step\tloss\n0\t1.0\n1\t0.5\n"),
        "m/b.json": parse_data("m/b.json", b'{"acc": [{"step": 0, "acc": 0.1}]}'),
        "m/c.png": b"not decoded",
        "other.tsv": parse_data("other.tsv", b"step\tx\n0\t1\n"),
    }
    plots = {p.id: p for p in resolve(definition, documents)}
    assert set(plots) == {"m/a.tsv", "m/b.json", "m/c.png"}  # one plot per file inside
    assert plots["m/a.tsv"].series[0].points == (("0", "1.0"), ("1", "0.5"))  # text, as DVC
    assert plots["m/b.json"].series[0].y == "acc" and plots["m/b.json"].series[0].x == "step"
    assert plots["m/c.png"].images == {"m/c.png": len(b"not decoded")}


def test_a_missing_field_or_uneven_join_is_a_problem_not_a_crash() -> None:
    (plot,) = pipeline_plots([{"p": {"x": "t", "y": {"a.csv": "nope"}}}], {}, "", "d")
    (result,) = resolve(plot, {"a.csv": parse_data("a.csv", b"t,v\n1,2\n")})
    assert result.series == [] and "no field 'nope'" in result.problems[0]
    (plot,) = pipeline_plots([{"p": {"x": {"a.csv": "t"}, "y": {"b.csv": "v"}}}], {}, "", "d")
    documents = {
        "a.csv": parse_data("a.csv", b"t\n1\n2\n"),
        "b.csv": parse_data("b.csv", b"v\n1\n"),
    }
    (result,) = resolve(plot, documents)
    assert "different lengths" in result.problems[0]


@pytest.mark.parametrize(
    ("path", "data", "why"),
    [
        ("a.json", b"{", "Expecting"),
        ("a.yaml", b"a: [", "expected"),
        ("a.tsv", b"\xff\xfe", "UTF-8"),
        ("a.bin", b"1", "not a plot data file"),
        ("a.csv", b"x" * (MAX_DATA_BYTES + 1), "too large"),
        ("a.json", b"[" * 5000 + b"]" * 5000, "nested too deeply"),
    ],
)
def test_hostile_data_files_are_refused_with_a_reason(path: str, data: bytes, why: str) -> None:
    with pytest.raises(ExptuiError) as caught:
        parse_data(path, data)
    assert why.lower() in caught.value.message.lower()


def test_records_with_different_keys_are_left_out_as_dvc_leaves_them() -> None:
    assert datapoints({"a": [{"x": 1}, {"y": 2}], "b": [{"z": 1}]}) == [{"z": 1}]


def test_the_terminal_and_csv_views_of_plots() -> None:
    from core.project.plots import PlotData, Series
    from tui.plot_text import Revision, plots_csv, plots_text, sparkline

    assert sparkline([1.0, 2.0, 3.0]) == "▁▅█" and sparkline([2.0, 2.0]) == "▅▅"
    assert len(sparkline([float(i) for i in range(1000)])) == 40
    series = Series("loss.tsv", "step", "loss", (("0", "1.0"), ("1", "0.5"), ("2", "x")))
    plot = PlotData("loss.tsv", {}, [series], problems=["a.tsv: \x1b[2J bad"])
    lines = plots_text([Revision("run\x1b", "a" * 40, [plot])])
    assert lines[0] == "loss.tsv"
    assert "loss:" in lines[1] and "0.5" in lines[1] and "3 points" in lines[1]
    assert "\x1b" not in "\n".join(lines)  # names and problems come from someone's files
    rows = plots_csv([Revision("run", "a" * 40, [plot])]).splitlines()
    assert rows[0] == "name,rev,plot,file,x_field,y_field,x,y" and len(rows) == 4


def test_a_confusion_plot_is_a_matrix_of_counts_per_experiment() -> None:
    import io

    from rich.console import Console

    from core.project.plots import PlotData, Series
    from tui.plot_draw import Curve, confusion, is_confusion

    points = (("0", "0"), ("0", "1"), ("1", "1"), ("1", "1"), ("0", "0"), ("0", "0"))
    plot = PlotData("p.csv", {"template": "confusion"}, [Series("p.csv", "label", "pred", points)])
    curves = [Curve("run", plot)]
    assert is_confusion(curves)
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(confusion(curves))
    rows = [line.split() for line in out.getvalue().splitlines()]
    assert rows[0] == ["run"] and ["0", "3", "1"] in rows and ["1", "0", "2"] in rows
    normalized = PlotData("p.csv", {"template": "confusion_normalized"}, plot.series)
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(confusion([Curve("run", normalized)]))
    assert ["0", "0.75", "0.25"] in [line.split() for line in out.getvalue().splitlines()]


def test_a_terminal_gets_the_apps_charts_as_text() -> None:
    from core.project.plots import PlotData, Series
    from tui.plot_text import Revision, plots_charts

    loss = Series("h.tsv", "step", "loss", tuple((str(i), str(1 / (i + 1))) for i in range(50)))
    history = PlotData("h.tsv", {}, [loss])
    pairs = (("0", "0"), ("1", "1"), ("1", "0"))
    matrix = PlotData("p.csv", {"template": "confusion"}, [Series("p.csv", "l", "p", pairs)])
    missing = PlotData("gone.tsv", {}, problems=["gone.tsv: not in Git and not in the cache"])
    text = "\n".join(plots_charts([Revision("run", "a" * 40, [history, matrix, missing])], 70))
    assert "run" in text and "loss" in text and any("\u2800" <= c <= "\u28ff" for c in text)
    assert "p.csv" in text and "l ↓  p →" in text  # the confusion matrix, titled
    assert "run: gone.tsv: not in Git" in text
