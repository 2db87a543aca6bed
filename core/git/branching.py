"""``exptui branch``: a Git branch at an experiment commit, as ``dvc exp branch`` makes it
(DVC_FORMAT §7.7): ``refs/heads/<name>-branch`` by default, DVC's reflog message, nothing
checked out, and an existing branch refused."""

from __future__ import annotations

import time

from dulwich.repo import get_user_identity

from core.errors import BranchExistsError
from core.git.ids import oid, refname
from core.git.refs import ExpRef, validate_branch_name
from core.project.repo import Repository


def create_branch(repo: Repository, ref: ExpRef, sha: str, branch: str | None = None) -> str:
    """Create the branch (compare-and-swap: it must not exist) and return its name."""
    name = branch or f"{ref.name}-branch"
    validate_branch_name(name)
    identity = get_user_identity(repo.git.get_config_stack())
    created = repo.git.refs.add_if_new(
        refname(f"refs/heads/{name}"),
        oid(sha),
        committer=identity,
        timestamp=int(time.time()),
        timezone=-time.timezone if not time.daylight else -time.altzone,
        message=f"dvc: Created from experiment '{ref.name}'".encode(),
    )
    if not created:
        raise BranchExistsError(
            f"Git branch '{name}' already exists.",
            "Give another name: exptui branch EXP NEW_BRANCH.",
        )
    return name
