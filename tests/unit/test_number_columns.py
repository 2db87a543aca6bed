"""Numbers in columns: one precision per column, aligned on the decimal point, and the
details' tables kept next to their names however wide the terminal."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from tui.format import MAX_DECIMALS, NumberColumn, _decimals
from tui.widgets.detail import compare_values


def point_from_right(cell: str) -> int:
    """How far from a right-justified cell's end its decimal point (or its place) is."""
    return len(cell) - (cell.index(".") if "." in cell else len(cell.rstrip()))


def test_a_column_shows_every_float_with_the_same_decimals() -> None:
    """0.167 beside 0.1856 read as two magnitudes; the column now says 0.1670."""
    column = NumberColumn.fit([0.167, 0.1856, 0.4832])
    assert [column(v) for v in (0.167, 0.1856)] == ["0.1670", "0.1856"]
    assert column.width == 6


def test_integers_and_floats_line_up_on_the_point() -> None:
    values = [42, 0.01, 0.005, 20, 0.25, 128]
    column = NumberColumn.fit(values)
    cells = [column(v) for v in values]
    assert cells[2] == "0.005" and cells[1] == "0.010"
    assert len({point_from_right(cell) for cell in cells}) == 1, cells


def test_precision_stays_readable_at_the_extremes() -> None:
    column = NumberColumn.fit([1e-9, 0.5, float("nan"), True, "adam", None])
    assert column(1e-9) == "1e-09"  # exponent form, not 0.000000
    assert column(0.5) == "0.5"
    assert column(True) == "true" and column("adam") == "adam" and column(None) == "-"
    assert NumberColumn.fit([0.123456789]).decimals == 4  # four significant digits at most


def test_a_change_is_signed_in_the_columns_precision() -> None:
    column = NumberColumn.fit([0.7187, 0.8027])
    assert column.change(0.8027, 0.7187) == "-0.0840"
    assert column.change(32, 128) == "+96     "  # padded where the point would be
    assert column.change(1, 1) == "" and column.change("a", 1) == ""


def render(renderable: object, width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(renderable)
    return out.getvalue().splitlines()


def test_details_values_sit_next_to_their_names_on_a_wide_terminal() -> None:
    """At 120+ columns the value was 60-120 columns from its name."""
    table = compare_values(
        "metrics", {"accuracy": 0.7187, "loss": 0.4832}, {"accuracy": 0.8027, "loss": 0.3454}
    )
    lines = render(table, 200)
    header = next(line for line in lines if "baseline" in line)
    assert "change" in header
    accuracy = next(line for line in lines if line.lstrip().startswith("accuracy"))
    assert accuracy.split() == ["accuracy", "0.7187", "0.8027", "-0.0840"]
    assert len(accuracy.rstrip()) < 45, accuracy


def test_the_details_say_the_data_total_leaves_out_the_manifests() -> None:
    """'shared data 17.5 KiB' beside a pull plan of 17.7: the plan also moves each
    directory's manifest, and the details now say so."""
    from core.git.refs import ExpRef
    from core.project.dvcfiles import Output, ProjectState
    from core.project.repo import CommitInfo, Experiment
    from tui.view import ExpRow
    from tui.widgets.detail import describe

    outputs = [
        Output("model.pkl", "a" * 32, 16384, None, False, "dvc.lock"),
        Output("eval", "b" * 32 + ".dir", 1536, 2, False, "dvc.lock"),
    ]
    row = ExpRow(
        Experiment(ExpRef("c" * 40, "run"), "d" * 40),
        CommitInfo("d" * 40, (), 0, 0, "me", "msg"),
        ProjectState(outputs=outputs),
    )
    text = "\n".join(render(describe(row, None, 0.0), 100))
    line = next(line for line in text.splitlines() if "shared data" in line)
    assert line.split()[2:] == ["17.5", "KiB", "+", "1", "manifest"], line


_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e5, max_value=1e5).map(lambda v: round(v, 3)),
    st.sampled_from([0.0, -0.0, 9.99, 9.9999, -99.995, 1.5e-7, 1e5]),
    st.integers(min_value=-(10**7), max_value=10**7),
    st.sampled_from([True, False, None, "abc", "a longer cell", [1, 2]]),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_CELLS, max_size=12))
def test_a_column_fits_exactly_as_measuring_every_cell_would(values: list[object]) -> None:
    """Property: fitting looks at each distinct value once and measures numbers at
    their extremes; the result must be that of the definition, every cell measured
    (negative zero, rounding up a digit, exponent form and text included)."""
    floats = [v for v in values if isinstance(v, float)]
    needs = [n for n in map(_decimals, floats) if n is not None]
    decimals = min(MAX_DECIMALS, max(needs, default=0))
    cells = [NumberColumn(decimals)(v) for v in values if v is not None]
    expected = NumberColumn(decimals, max(map(len, cells), default=1))
    assert NumberColumn.fit(values) == expected
