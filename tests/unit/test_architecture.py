"""Boundaries the design relies on: core is UI-free, startup stays light, code stays clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def assert_not_loaded(imports: str, forbidden: tuple[str, ...]) -> None:
    """In a fresh interpreter (nothing pre-imported), run ``imports`` and check that no
    module of the ``forbidden`` top-level packages got loaded on the way."""
    code = (
        f"import sys\n{imports}\n"
        f"bad = sorted({{m for m in sys.modules if m.split('.')[0] in {forbidden!r}}})\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_core_never_loads_textual_or_tui() -> None:
    every_core_module = (
        "import importlib, pkgutil, core\n"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(core.__path__, 'core.')]"
    )
    assert_not_loaded(every_core_module, ("textual", "tui", "rich"))


def test_the_app_starts_without_cloud_backends() -> None:
    """s3fs, gcsfs and friends cost seconds over SSH; the first screen must not pay them."""
    assert_not_loaded(
        "import tui.cli, tui.app, core.project.repo, core.project.listing, core.demo",
        ("s3fs", "gcsfs", "aiobotocore", "botocore", "sshfs", "asyncssh"),
    )


def test_the_scripting_cli_never_loads_textual() -> None:
    """``exptui push ...`` in a script or over a slow link pays for no UI toolkit."""
    assert_not_loaded("import tui.cli, tui.commands, tui.render, core.porcelain", ("textual",))


@pytest.mark.slow
def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is part of the test extra"
    done = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_ruff_is_clean() -> None:
    exe = shutil.which("ruff")
    assert exe, "ruff is part of the test extra"
    done = subprocess.run(
        [exe, "check", "core", "tui", "tests", "screenshots"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.slow
def test_ruff_format_is_clean() -> None:
    exe = shutil.which("ruff")
    assert exe, "ruff is part of the test extra"
    paths = ["core", "tui", "tests", "screenshots"]
    done = subprocess.run(
        [exe, "format", "--check", *paths], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    """The mode is in pyproject.toml ([tool.mypy]): default plus untyped definitions."""
    done = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
