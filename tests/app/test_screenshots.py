"""The README's pictures come from a script; prove the script runs and draws the demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_script_draws_the_demo(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "screenshots/generate.py", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    main = (tmp_path / "main.svg").read_text()
    assert "tuned" in main and "accuracy" in main and "v1.0" in main
    assert "train.lr" in (tmp_path / "details-80x24.svg").read_text()


def test_committed_screenshots_exist_and_are_referenced_by_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for svg in sorted((ROOT / "screenshots").glob("*.svg")):
        assert f"screenshots/{svg.name}" in readme
    assert (ROOT / "screenshots" / "main.svg").is_file()
