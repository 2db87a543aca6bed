"""The CLI's Git-remote verbs: ``list REMOTE``, ``push``, ``pull``, ``remove``.

Each one is select, plan, run over :mod:`core.ops`; ``--dry-run`` prints the plan,
``--json`` prints the plan or the result as data. Text uses DVC's wording where DVC has
one, without its quirks: no reprs, forced updates are reported as such, and the exit code
says whether everything asked for happened (0), some diverged refs were skipped (3), or
something failed (1).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from typing import Any

from core import ops
from core.gitsync import RemoteListing, compare, list_remote, refresh
from core.listing import experiment_record
from core.ops import Action, RefPlan, RefResult, Selection, Status
from core.repo import Experiment, Repository
from core.select import select_baselines
from core.transport import Connection, Credentials, resolve_remote


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _prompt(url: str) -> Credentials | None:
    """Ask on the terminal, as git does, but only when there is one."""
    if not sys.stdin.isatty():
        return None
    print(f"Credentials for {url}", file=sys.stderr)
    user = input("Username: ")
    return user, getpass.getpass("Password (or token): ")


def _emit(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _selection(options: argparse.Namespace) -> Selection:
    return Selection(
        names=tuple(getattr(options, "experiments", ()) or ()),
        all_commits=options.all_commits,
        revs=tuple(options.rev),
        num=options.num,
    )


# -- list REMOTE ----------------------------------------------------------------------------


def list_remote_command(options: argparse.Namespace) -> int:
    with Repository.open(options.cwd) as repo:
        spec = resolve_remote(repo, options.git_remote)
        listing, peek_error = refresh(repo, Connection(repo, spec, prompt=_prompt), options.peek)
        if peek_error:
            print(f"exptui: {peek_error}", file=sys.stderr)
        baselines = select_baselines(repo, options.rev, options.num, options.all_commits)
        states = compare(repo, listing)
        head = repo.head_sha()
        refs = sorted(
            (r for r in listing.refs if baselines.includes(r.baseline)),
            key=lambda r: (r.baseline != head, repo.baseline_label(r.baseline), r.name),
        )
        for name in listing.skipped:
            print(f"exptui: skipped malformed experiment ref '{name}'", file=sys.stderr)
        if options.json:
            _emit([_remote_record(repo, listing, ref, states[ref].state.value) for ref in refs])
            return 0
        by_label: dict[str, list[str]] = {}
        for ref in refs:
            shown = listing.refs[ref] if options.sha_only else ref.name
            by_label.setdefault(repo.baseline_label(ref.baseline), []).append(shown)
        for label, names in by_label.items():
            if options.name_only or options.sha_only:
                print(*names, sep="\n")
                continue
            print(f"{label}:")
            for name in names:
                print(f"\t{name}")
    return 0


def _remote_record(
    repo: Repository, listing: RemoteListing, ref: Any, state: str
) -> dict[str, Any]:
    sha = listing.refs[ref]
    label = repo.baseline_label(ref.baseline)
    if repo.has_commit(sha):  # in sync, pulled before, or peeked: details are readable
        record = experiment_record(repo, Experiment(ref, sha), label)
    else:
        record = {"name": ref.name, "baseline": ref.baseline, "baseline_label": label,
                  "sha": sha, "ref": ref.ref}  # fmt: skip
    record["state"] = state
    return record


# -- push / pull / remove -------------------------------------------------------------------


def ref_command(options: argparse.Namespace) -> int:
    with Repository.open(options.cwd) as repo:
        plan, conn = _plan(repo, options)
        if options.dry_run:
            _emit(plan.to_json()) if options.json else _print_plan(plan)
            return 0
        result = _run(repo, conn, plan)
        if options.json:
            payload = result.to_json()
            payload["data"] = {"transferred": False, "reason": "exptui moves Git refs only so far"}
            _emit(payload)
        else:
            _print_result(result)
        return result.exit_code


def _plan(repo: Repository, options: argparse.Namespace) -> tuple[RefPlan, Connection | None]:
    selection = _selection(options)
    if options.command == "remove":
        ops.require_remove_selection(selection)
        if not options.git_remote:
            return ops.plan_remove_local(repo, ops.select_local(repo, selection)), None
        conn = Connection(repo, resolve_remote(repo, options.git_remote), prompt=_prompt)
        listing = list_remote(conn)
        return ops.plan_remove_remote(listing, ops.select_remote(repo, listing, selection)), conn
    conn = Connection(repo, resolve_remote(repo, options.git_remote), prompt=_prompt)
    if options.command == "push":
        refs = ops.select_local(repo, selection)  # unknown names fail before any traffic
        listing = list_remote(conn)
        return ops.plan_push(repo, listing, refs, options.force), conn
    listing = list_remote(conn)
    refs = ops.select_remote(repo, listing, selection)
    return ops.plan_pull(repo, conn, listing, refs, options.force), conn


def _run(repo: Repository, conn: Connection | None, plan: RefPlan) -> RefResult:
    if plan.operation == "push":
        assert conn is not None
        return ops.run_push(repo, conn, plan)
    if plan.operation == "pull":
        return ops.run_pull(repo, plan)
    if conn is not None:
        return ops.run_remove_remote(repo, conn, plan)
    return ops.run_remove_local(repo, plan)


def _print_plan(plan: RefPlan) -> None:
    where = (
        f" Git remote '{plan.remote.display}' ({plan.remote.url})" if plan.remote else " locally"
    )
    print(f"Plan: {plan.operation}{' on' if plan.operation == 'remove' else ''}{where}")
    if not plan.updates:
        print("\tnothing selected")
    for update in plan.updates:
        note = " (needs --force)" if update.action is Action.DIVERGED else ""
        print(f"\t{update.action.value:<12} {update.ref.name} [{update.ref.baseline[:7]}]{note}")


def _print_result(result: RefResult) -> None:
    plan = result.plan
    where = f"Git remote '{plan.remote.display}'" if plan.remote else ""
    ok = result.names(Status.SUCCESS)
    same = result.names(Status.UP_TO_DATE)
    noun = lambda names: "experiment" if len(names) == 1 else "experiments"  # noqa: E731
    if plan.operation == "remove":
        print(f"Removed {noun(ok)} {join_names(ok)}" + (f" from {where}." if where else ".")
              if ok else "No experiments to remove.")  # fmt: skip
    else:
        verb, prep = ("Pushed", "to") if plan.operation == "push" else ("Pulled", "from")
        if same:
            be = "is" if len(same) == 1 else "are"
            rel = "on" if plan.operation == "push" else "with"
            print(f"{noun(same).capitalize()} {join_names(same)} {be} up to date {rel} {where}.")
        if ok:
            print(f"{verb} {noun(ok)} {join_names(ok)} {prep} {where}.")
        if not ok and not same:
            print(f"No experiments to {plan.operation}.")
        forced = [o.update.ref.name for o in result.outcomes if o.forced]
        if forced:
            side = "remote" if plan.operation == "push" else "local"
            print(f"Forced: replaced the diverged {side} {noun(forced)} {join_names(forced)}.")
        moved = "uploaded" if verb == "Pushed" else "downloaded"
        print(f"Refs only: cached outputs were not {moved} "
              "(exptui does not move DVC data yet; use 'dvc push'/'dvc pull').")  # fmt: skip
    for outcome in result.outcomes:
        name = outcome.update.ref.name
        if outcome.status is Status.DIVERGED:
            side = "remote" if plan.operation == "push" else "local"
            print(f"Local experiment {name} has diverged from remote experiment with the same "
                  f"name. To override the {side} experiment re-run with '--force'.",
                  file=sys.stderr)  # fmt: skip
        elif outcome.status is Status.REJECTED:
            print(f"exptui: {where or 'the repository'} rejected {name}: {outcome.reason}",
                  file=sys.stderr)  # fmt: skip
