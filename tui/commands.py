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
import threading
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from core import ops
from core.gitsync import RemoteListing, compare, list_remote, refresh
from core.listing import experiment_record
from core.ops import Action, RefPlan, RefResult, Selection, Status
from core.refs import describe_skipped
from core.repo import Experiment, Repository
from core.runcache import RunCacheResult, share_run_cache
from core.select import select_baselines
from core.sharing import SharePlan, ShareResult, plan_share, run_share
from core.transfer import ExpTransfer, failure_summary, missing_summary
from core.transport import Connection, Credentials, resolve_remote
from tui.format import format_size


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
        if listing.skipped:
            where = f"on {options.git_remote}"
            print(f"exptui: {describe_skipped(listing.skipped, where)}", file=sys.stderr)
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
        record = {
            "name": ref.name,
            "baseline": ref.baseline,
            "baseline_label": label,
            "sha": sha,
            "ref": ref.ref,
        }
    record["state"] = state
    return record


# -- push / pull / remove -------------------------------------------------------------------


def ref_command(options: argparse.Namespace) -> int:
    with Repository.open(options.cwd) as repo:
        if options.command == "remove":
            return _remove(repo, options)
        conn = Connection(repo, resolve_remote(repo, options.git_remote), prompt=_prompt)
        plan = plan_share(
            repo,
            conn,
            options.command,
            selection=_selection(options),
            force=options.force,
            dvc_remote=options.remote,
            jobs=options.jobs,
            with_data=not options.no_cache,
            verify=getattr(options, "verify", False),
        )
        if options.dry_run:
            _emit(plan.to_json()) if options.json else _print_plan(
                plan.refs, plan.to_json()["data"]
            )
            return 0
        result = _run_with_progress(repo, conn, plan, options.allow_missing, quiet=options.json)
        runs = share_run_cache(repo, options.command, options.remote) if options.run_cache else None
        if options.json:
            payload = _result_json(result.refs, result.data, result.with_data)
            if runs is not None:
                payload["run_cache"] = asdict(runs)
            _emit(payload)
        else:
            _print_result(result.refs)
            _print_data(plan.refs.operation, result.data, result.with_data)
            if runs is not None:
                _print_run_cache(options.command, runs)
        return result.exit_code or (1 if runs is not None and runs.rejected else 0)


def _print_run_cache(operation: str, runs: RunCacheResult) -> None:
    verb, prep = ("uploaded", "to") if operation == "push" else ("downloaded", "from")
    print(
        f"{runs.moved} run-cache entries {verb} {prep} DVC remote '{runs.remote}' "
        f"({runs.already} already there)."
    )
    for path, why in runs.rejected.items():
        print(f"exptui: run-cache entry {path}: {why}", file=sys.stderr)


def _remove(repo: Repository, options: argparse.Namespace) -> int:
    selection = _selection(options)
    ops.require_remove_selection(selection)
    conn = None
    if options.git_remote:
        conn = Connection(repo, resolve_remote(repo, options.git_remote), prompt=_prompt)
        listing = list_remote(conn)
        plan = ops.plan_remove_remote(listing, ops.select_remote(repo, listing, selection))
    else:
        plan = ops.plan_remove_local(repo, ops.select_local(repo, selection))
    if options.dry_run:
        _emit(plan.to_json()) if options.json else _print_plan(plan)
        return 0
    if conn is not None:
        result = ops.run_remove_remote(repo, conn, plan)
    else:
        result = ops.run_remove_local(repo, plan)
    _emit(result.to_json()) if options.json else _print_result(result)
    return result.exit_code


def _run_with_progress(
    repo: Repository, conn: Connection, plan: SharePlan, allow_missing: bool, quiet: bool
) -> ShareResult:
    """Run the share; on a terminal, draw one bar from the board a few times a second."""
    if quiet or plan.transfer is None or not sys.stderr.isatty():
        return run_share(repo, conn, plan, allow_missing)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    transfer = plan.transfer
    outcome: list[ShareResult] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(run_share(repo, conn, plan, allow_missing))
        except BaseException as exc:  # handed to the main thread below
            failure.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    columns = (
        "{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    terminal = getattr(sys.stderr, "unescaped", sys.stderr)  # the bar's own escapes must pass
    with Progress(*columns, console=Console(file=terminal), transient=True) as bar:
        task = bar.add_task(transfer.plan.operation, total=None)
        thread.start()
        while thread.is_alive():
            snap = transfer.board.snapshot()
            label = f"{snap.files_done}/{snap.files_total} files"
            bar.update(
                task, completed=snap.bytes_done, total=snap.bytes_total or None, description=label
            )
            thread.join(0.25)
    if failure:
        raise failure[0]
    return outcome[0]


def _result_json(result: RefResult, moved: list[ExpTransfer], with_data: bool) -> dict[str, Any]:
    payload = result.to_json()
    key = "uploaded" if result.plan.operation == "push" else "downloaded"
    by_ref: dict[str, list[ExpTransfer]] = {}
    for transfer in moved:
        by_ref.setdefault(transfer.item.ref.ref, []).append(transfer)
    for row in payload["experiments"]:
        parts = by_ref.get(row["ref"], [])
        row[key] = {
            "files": sum(p.moved for p in parts),
            "bytes": sum(p.moved_bytes for p in parts),
        }
        row["missing"] = sorted(k.oid for p in parts for k in p.item.missing)
        row["failed"] = {oid: why for p in parts for oid, why in p.failed.items()}
        row["dvc_remotes"] = sorted({p.item.remote.name for p in parts})
    payload[key] = {
        "files": sum(m.moved for m in moved),
        "bytes": sum(m.moved_bytes for m in moved),
    }
    payload["data"] = {"transferred": with_data}
    return payload


def _print_data(operation: str, moved: list[ExpTransfer], with_data: bool) -> None:
    """The data phase, reported apart from the Git phase, per DVC remote."""
    if not with_data:
        print("Refs only (--no-cache): cached outputs were not transferred.")
        return
    verb, prep = ("uploaded", "to") if operation == "push" else ("downloaded", "from")
    per_remote: dict[str, list[int]] = {}
    for transfer in moved:
        totals = per_remote.setdefault(transfer.item.remote.name, [0, 0])
        totals[0] += transfer.moved
        totals[1] += transfer.moved_bytes
    for remote, (files, size) in per_remote.items():
        noun = "file" if files == 1 else "files"
        print(f"{files} {noun} {verb} ({format_size(size)}) {prep} DVC remote '{remote}'.")
    for transfer in moved:
        name, remote = transfer.item.ref.name, transfer.item.remote.name
        for note in transfer.item.notes:
            print(f"exptui: {name}: {note}", file=sys.stderr)
        if transfer.item.missing:
            where = "locally and on" if operation == "push" else "on"
            why = "" if transfer.item.required_missing else " (push: false outputs only)"
            missing = missing_summary(transfer.item.missing)
            count = len(transfer.item.missing)
            print(
                f"exptui: {name}: {count} object(s) missing {where} '{remote}'{why}: {missing}",
                file=sys.stderr,
            )
        for line in failure_summary(transfer.failed):
            print(f"exptui: {name}: {line}", file=sys.stderr)


def _print_plan(plan: RefPlan, data: list[dict[str, Any]] | None = None) -> None:
    where = (
        f" Git remote '{plan.remote.display}' ({plan.remote.shown_url})"
        if plan.remote
        else " locally"
    )
    print(f"Plan: {plan.operation}{' on' if plan.operation == 'remove' else ''}{where}")
    if not plan.updates:
        print("\tnothing selected")
    for update in plan.updates:
        note = " (needs --force)" if update.action is Action.DIVERGED else ""
        print(f"\t{update.action.value:<12} {update.ref.name} [{update.ref.baseline[:7]}]{note}")
    for row in data or []:
        missing = f", {len(row['missing'])} missing" if row["missing"] else ""
        print(
            f"\tdata {row['name']}: {row['to_move']} of {row['objects']} objects "
            f"({format_size(int(row['bytes_to_move']))}) to move via '{row['dvc_remote']}'"
            f"{missing}"
        )


def _print_result(result: RefResult) -> None:
    plan = result.plan
    where = f"Git remote '{plan.remote.display}'" if plan.remote else ""
    ok = result.names(Status.SUCCESS)
    same = result.names(Status.UP_TO_DATE)
    noun = lambda names: "experiment" if len(names) == 1 else "experiments"  # noqa: E731
    if plan.operation == "remove":
        print(
            f"Removed {noun(ok)} {join_names(ok)}" + (f" from {where}." if where else ".")
            if ok
            else "No experiments to remove."
        )
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
    for outcome in result.outcomes:
        name = outcome.update.ref.name
        if outcome.status is Status.DIVERGED:
            side = "remote" if plan.operation == "push" else "local"
            print(
                f"Local experiment {name} has diverged from remote experiment with the same "
                f"name. To override the {side} experiment re-run with '--force'.",
                file=sys.stderr,
            )
        elif outcome.status is Status.INCOMPLETE:
            print(f"exptui: {name}: {outcome.reason}", file=sys.stderr)
        elif outcome.status is Status.REJECTED:
            print(
                f"exptui: {where or 'the repository'} rejected {name}: {outcome.reason}",
                file=sys.stderr,
            )


# -- branch / rename --------------------------------------------------------------------------


def branch_command(options: argparse.Namespace) -> int:
    from core.branching import create_branch
    from core.select import resolve_experiment

    with Repository.open(options.cwd) as repo:
        ref, sha = resolve_experiment(repo, options.experiment)
        name = create_branch(repo, ref, sha, options.branch)
    print(f"Git branch '{name}' has been created from experiment '{ref.name}'.")
    print(f"To switch to the new branch run:\n\n\tgit checkout {name}")
    return 0


def rename_command(options: argparse.Namespace) -> int:
    with Repository.open(options.cwd) as repo:
        conn = None
        if options.git_remote:
            conn = Connection(repo, resolve_remote(repo, options.git_remote), prompt=_prompt)
            listing = list_remote(conn)
            existing, where = dict(listing.refs), listing.remote
            (ref,) = ops.select_remote(repo, listing, Selection((options.experiment,)))
        else:
            existing = {e.ref: e.sha for e in repo.experiments()}
            where = None
            (ref,) = ops.select_local(repo, Selection((options.experiment,)))
        plan = ops.plan_rename(ref, existing[ref], options.new_name, existing, options.force, where)
        if options.dry_run:
            _emit(plan.to_json()) if options.json else _print_plan(plan)
            return 0
        result = (
            ops.run_rename_remote(repo, conn, plan)
            if conn is not None
            else ops.run_rename_local(repo, plan)
        )
    if options.json:
        _emit(result.to_json())
    elif result.exit_code == 0:
        place = f" on Git remote '{where.display}'" if where else ""
        print(f"Renamed experiment {ref.name} to {options.new_name}{place}.")
    else:
        for outcome in result.outcomes:
            if outcome.status is Status.REJECTED:
                print(
                    f"exptui: {outcome.update.ref.name}: {outcome.reason or 'rejected'}",
                    file=sys.stderr,
                )
    return result.exit_code


def apply_command(options: argparse.Namespace) -> int:
    from core.apply import plan_apply, run_apply
    from tui.view import default_remote

    with Repository.open(options.cwd) as repo:
        plan = plan_apply(repo, options.experiment)
        if options.dry_run:
            _emit(plan.to_json()) if options.json else print(
                f"Would apply {plan.ref.name}: {len(plan.writes)} files written, "
                f"{len(plan.deletes)} removed, {len(plan.outputs)} outputs checked out"
                + (f"; {len(plan.missing)} objects missing from the cache" if plan.missing else "")
            )
            return 0
        result = run_apply(repo, plan, default_remote(repo.root) or "<git remote>")
    if options.json:
        _emit({**plan.to_json(), "stashed": result.stashed, "kept_in_stash": result.kept_in_stash})
        return 0
    print(
        f"Changes for experiment '{options.experiment}' have been applied to your current "
        "workspace."
    )
    if result.stashed:
        print(
            "Your local changes were stashed; to get them back run:\n\n"
            "\tgit stash apply refs/exps/apply/stash"
        )
    for path in result.kept_in_stash:
        print(
            f"exptui: {path}: the experiment has a file or link in its way; it stays in the stash",
            file=sys.stderr,
        )
    return 0
