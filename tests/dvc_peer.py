"""Real DVC as a test peer, in its own virtual environment (never a runtime dependency).

The venv is created once under a cache directory and reused by later runs; a file lock
keeps two test processes from building it at the same time. exptui's own pins never bend
to DVC's because the two never share an environment.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

DVC_VERSION = "3.67.1"
# Who commits in tests and benchmarks (dvc exp run commits too).
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}
CACHE_ROOT = Path(os.environ.get("EXPTUI_TEST_CACHE", Path.home() / ".cache" / "exptui-tests"))


def dvc_executable(extra: str = "") -> Path:
    """Path to a ``dvc`` of the pinned version, installing it on first use; ``extra``
    (``"s3"``) adds that remote plugin, in a venv of its own."""
    venv = CACHE_ROOT / (f"dvc-{DVC_VERSION}" + (f"-{extra}" if extra else ""))
    exe = venv / "bin" / "dvc"
    ready = venv / ".ready"
    if ready.is_file():
        return exe
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / "dvc.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.is_file():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            pip = [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check"]
            spec = f"dvc[{extra}]=={DVC_VERSION}" if extra else f"dvc=={DVC_VERSION}"
            done = subprocess.run([*pip, spec], capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"installing {spec} failed:\n{done.stderr[-3000:]}")
            ready.write_text(DVC_VERSION + "\n")
    return exe
