"""The CLI's verbs: ``list REMOTE``, ``push``, ``pull``, ``remove``, ``rename``,
``apply``, ``branch``.

Each one is a ``plan_*`` call into :mod:`core.porcelain`, then ``--dry-run`` renders the
plan (text from :mod:`tui.render`, or ``--json``) or :func:`core.porcelain.run` runs it.
The exit code says whether everything asked for happened (0), some diverged refs were
skipped (3), or something failed (1). This module never imports Textual.
"""

from __future__ import annotations

import argparse
import getpass
import json
import operator
import shutil
import sys
import threading
from typing import Any

from core import porcelain
from core.errors import ExptuiError, UnknownExperimentError
from core.git.exchange import RefResult, Selection, Status
from core.git.refs import ExpRef, describe_skipped
from core.git.select import BaselineSelection, resolve_experiment, select_baselines
from core.git.sync import RemoteListing, compare, refresh
from core.git.transport import Connection, Credentials, resolve_remote
from core.porcelain import (
    BranchPlan,
    BranchResult,
    NeedsPull,
    Plan,
    Session,
    ShareOptions,
    SharePlan,
    ShareResult,
    open_session,
)
from core.progress import ProgressBoard
from core.project.dvcfiles import ProjectState
from core.project.listing import experiment_record, group_local, iso_time
from core.project.repo import Experiment, Repository
from core.workspace.apply import ApplyResult
from core.workspace.apply import plan_apply as apply_plan
from tui.render import Report, apply_plan_report, plan_report, refs_report, share_report
from tui.tables import Table, diff_table, show_table, table_renderable


def _prompt(url: str) -> Credentials | None:
    """Ask on the terminal, as git does, but only when there is one."""
    if not sys.stdin.isatty():
        return None
    print(f"Credentials for {url}", file=sys.stderr)
    user = input("Username: ")
    return user, getpass.getpass("Password (or token): ")


def _emit(value: Any) -> None:
    """JSON as ``json.dump(indent=2)`` writes it, a list one item per write: json.dump
    writes each token apart, and each write goes through the escaping stream (100,000
    listed experiments took 100 s); one write of the whole took 1.3 GB."""
    if not isinstance(value, list) or not value:
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        return
    sys.stdout.write("[\n")
    for index, item in enumerate(value):
        text = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        sys.stdout.write(f"  {text}{',' if index < len(value) - 1 else ''}\n")
    sys.stdout.write("]\n")


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
        refs = _listed_order(
            repo, listing, select_baselines(repo, options.rev, options.num, options.all_commits)
        )
        if listing.skipped:
            where = f"on {options.git_remote}"
            print(f"exptui: {describe_skipped(listing.skipped, where)}", file=sys.stderr)
        if options.json:
            if not options.no_fetch:
                present = repo.present_commits(listing.refs[r] for r in refs)
                readable = [listing.refs[r] for r in refs if listing.refs[r] in present]
                fetch_listed_values(repo, readable)
            states = compare(repo, listing)  # only JSON shows them: 0.3 s at 100,000 refs
            _emit([_remote_record(repo, listing, ref, states[ref].value) for ref in refs])
            return 0
        by_label: dict[str, list[str]] = {}
        for ref in refs:
            shown = listing.refs[ref] if options.sha_only else ref.name
            by_label.setdefault(repo.baseline_label(ref.baseline), []).append(shown)
        lines: list[str] = []  # one write: each goes through the escaping stream
        for label, names in by_label.items():
            if not (options.name_only or options.sha_only):
                lines.append(f"{label}:")
                names = [f"\t{name}" for name in names]
            lines += names
        if lines:
            print("\n".join(lines))
    return 0


def _listed_order(
    repo: Repository, listing: RemoteListing, baselines: BaselineSelection
) -> list[ExpRef]:
    """The selected baselines' refs, HEAD's first, then by label, each by name. Grouped
    first and sorted per group: one key per ref over 100,000 refs cost 0.2 s."""
    by_baseline: dict[str, list[ExpRef]] = {}
    for ref in listing.refs:
        if baselines.includes(ref.baseline):
            by_baseline.setdefault(ref.baseline, []).append(ref)
    head = repo.head_sha()
    order = sorted(by_baseline, key=lambda b: (b != head, repo.baseline_label(b), b))
    return [ref for b in order for ref in sorted(by_baseline[b], key=_by_name)]


_by_name = operator.attrgetter("name")


def fetch_listed_values(repo: Repository, shas: list[str]) -> None:
    """Values DVC caches (``eval/metrics.json`` in ``outs: eval``) fetched from the DVC
    remote when the local cache lacks them, as ``dvc exp show`` does; what could not be
    fetched is one line on stderr (the values then stay absent, with their warning)."""
    from core.data.values import fetch_values

    fetched = fetch_values(repo, shas)
    if fetched.summary:
        print(f"exptui: {fetched.summary}", file=sys.stderr)


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


# -- show / diff ----------------------------------------------------------------------------


def show_command(options: argparse.Namespace) -> int:
    """The experiments of the selected baselines, each baseline first, like dvc exp show."""
    with Repository.open(options.cwd) as repo:
        selection = select_baselines(repo, options.rev, options.num, options.all_commits)
        groups = group_local(repo, selection)
        if not options.no_fetch:
            fetch_listed_values(repo, [e.sha for g in groups for e in g.experiments])
        rows: list[tuple[str, str, str, ProjectState | None]] = []
        for group in groups:
            known = repo.has_commit(group.baseline)
            rows.append(
                (
                    group.label,
                    group.baseline[:7],
                    _created(repo, group.baseline) if known else "",
                    repo.project_state(group.baseline) if known else None,
                )
            )
            rows += [
                (e.name, e.sha[:7], _created(repo, e.sha), repo.project_state(e.sha))
                for e in group.experiments
            ]
    _print_table(show_table(rows), options)
    return 0


def diff_command(options: argparse.Namespace) -> int:
    """Metrics and params that differ between two commits (an experiment and, by default,
    its baseline), like dvc exp diff."""
    with Repository.open(options.cwd) as repo:
        old_sha, new_sha = _diff_commits(repo, options.a_rev, options.b_rev)
        table = diff_table(repo.project_state(old_sha), repo.project_state(new_sha), options.all)
    _print_table(table, options)
    return 0


def plots_command(options: argparse.Namespace) -> int:
    """The points of every plot of the named experiments or commits (default: HEAD's
    experiments and HEAD itself), as ``dvc plots show/diff`` resolves them."""
    from tui.plot_text import Revision, plots_charts, plots_csv, plots_json, plots_text

    with Repository.open(options.cwd) as repo:
        if options.revs:
            picked = [(arg, _any_commit(repo, arg)[1]) for arg in options.revs]
        else:
            groups = group_local(repo, select_baselines(repo))
            picked = [
                (name, sha)
                for group in groups
                for name, sha in [
                    (group.label, group.baseline),
                    *((e.name, e.sha) for e in group.experiments),
                ]
                if repo.has_commit(sha)
            ]
        if not options.no_fetch:
            _fetch_plot_data(repo, [sha for _, sha in picked])
        revisions = [Revision(name, sha, repo.plots(sha).plots) for name, sha in picked]
    if options.json:
        _emit(plots_json(revisions))
    elif options.csv:
        sys.stdout.write(plots_csv(revisions))
    else:
        out = getattr(sys.stdout, "unescaped", sys.stdout)  # plotext's colours pass
        if out.isatty():
            columns = shutil.get_terminal_size().columns
            lines = plots_charts(revisions, columns)
        else:
            lines = plots_text(revisions)
        out.write("\n".join(lines).rstrip() + "\n" if lines else "no plots\n")
    return 0


def _fetch_plot_data(repo: Repository, commits: list[str]) -> None:
    """Plot files the local cache lacks, from each experiment's DVC remote, as
    ``dvc plots`` fetches them; what could not be fetched is one line on stderr. With
    nothing missing it opens no store (its first round finds nothing to fetch)."""
    from core.data.values import fetch_plot_data

    summary = fetch_plot_data(repo, commits).summary
    if summary:
        print(f"exptui: {summary}", file=sys.stderr)


def _diff_commits(repo: Repository, a_rev: str, b_rev: str | None) -> tuple[str, str]:
    """(old, new): ``a`` then ``b``; with one argument, its baseline then ``a``."""
    a_ref, a_sha = _any_commit(repo, a_rev)
    if b_rev is not None:
        return a_sha, _any_commit(repo, b_rev)[1]
    if a_ref is None:
        raise UnknownExperimentError(
            f"'{a_rev}' is not an experiment, so it has no baseline to compare with.",
            "Name two commits: exptui diff A B.",
        )
    return a_ref.baseline, a_sha


def _any_commit(repo: Repository, arg: str) -> tuple[ExpRef | None, str]:
    """An experiment (by name, ref or SHA) or else any commit."""
    try:
        return resolve_experiment(repo, arg)
    except UnknownExperimentError:
        return None, repo.resolve_rev(arg)


def _created(repo: Repository, sha: str) -> str:
    info = repo.commit(sha)
    return iso_time(info.timestamp, info.tz_offset)[:16].replace("T", " ")


def _print_table(table: Table, options: argparse.Namespace) -> None:
    if options.json:
        _emit(table.records())
    elif options.csv:
        sys.stdout.write(table.to_csv())
    elif options.md:
        sys.stdout.write(table.to_markdown())
    else:
        from rich.console import Console

        # On a terminal the table fits its width; into a pipe or file nothing is cut.
        # Rich's own colour codes go past the escaping stream; the cells are escaped.
        out = getattr(sys.stdout, "unescaped", sys.stdout)
        console = Console(file=out, width=None if out.isatty() else 100_000)
        shown_table, left_out = table.fitted(console.width)
        console.print(table_renderable(shown_table), crop=False)
        if left_out:
            console.print(
                f"{left_out} more column{'s' if left_out != 1 else ''} do not fit: widen the "
                "terminal, or use --csv, --md or --json.",
                style="dim",
                markup=False,
            )


# -- push / pull / remove -------------------------------------------------------------------


def _report(report: Report) -> None:
    for line in report.out:
        print(line)
    for line in report.err:
        print(line, file=sys.stderr)


def _show_plan(options: argparse.Namespace, plan: Plan, report: Report) -> int:
    """``--dry-run``: the plan value, as JSON or as text; nothing runs."""
    _emit(plan.to_json()) if options.json else _report(report)
    return 0


def ref_command(options: argparse.Namespace) -> int:
    with open_session(options.cwd, prompt=_prompt) as session:
        if options.command == "remove":
            return _remove(session, options)
        planner = porcelain.plan_push if options.command == "push" else porcelain.plan_pull
        flags = ShareOptions(
            force=options.force,
            dvc_remote=options.remote,
            with_data=not options.no_cache,
            run_cache=options.run_cache,
            allow_missing=options.allow_missing,
        )
        plan = planner(session, options.git_remote, _selection(options), options=flags)
        if options.dry_run:
            return _show_plan(options, plan, plan_report(plan))
        if options.verbose and not options.json:
            _report(plan_report(plan))
        verify = getattr(options, "verify", False)
        quiet = options.json or options.quiet
        result = _run_with_progress(session, plan, options.jobs, verify, quiet=quiet)
        _emit(result.to_json()) if options.json else _report(share_report(result))
        return result.exit_code


def _remove(session: Session, options: argparse.Namespace) -> int:
    plan = porcelain.plan_remove(session, _selection(options), remote=options.git_remote)
    if options.dry_run:
        return _show_plan(options, plan, plan_report(plan))
    result = porcelain.run(session, plan)
    assert isinstance(result, RefResult)
    _emit(result.to_json()) if options.json else _report(refs_report(result))
    return result.exit_code


def _run_with_progress(
    session: Session, plan: SharePlan, jobs: int | None, verify: bool, quiet: bool
) -> ShareResult:
    """Run the share; on a terminal, draw one bar from the board a few times a second."""
    board = ProgressBoard()

    def share() -> ShareResult:
        result = porcelain.run(session, plan, progress=board, jobs=jobs, verify=verify)
        assert isinstance(result, ShareResult)
        return result

    if quiet or plan.data is None or not sys.stderr.isatty():
        return share()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    outcome: list[ShareResult] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(share())
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
        task = bar.add_task(plan.operation.value, total=None)
        thread.start()
        while thread.is_alive():
            snap = board.snapshot()
            label = f"{snap.files_done}/{snap.files_total} files"
            bar.update(
                task, completed=snap.bytes_done, total=snap.bytes_total or None, description=label
            )
            thread.join(0.25)
    if failure:
        raise failure[0]
    return outcome[0]


# -- branch / rename / apply --------------------------------------------------------------------


def _local_only(plan: object, verb: str) -> None:
    """The CLI never pulls behind the user's back: a verb that needs one says so."""
    if isinstance(plan, NeedsPull):
        raise ExptuiError(
            f"Cannot {verb} '{plan.ref.name}': {plan.why}.",
            f"Pull it first: exptui pull <git remote> {plan.ref.name}",
        )


def branch_command(options: argparse.Namespace) -> int:
    with open_session(options.cwd) as session:
        plan = porcelain.plan_branch(session, options.experiment, options.branch)
        _local_only(plan, "branch")
        assert isinstance(plan, BranchPlan)
        if options.dry_run:
            return _show_plan(
                options, plan, Report([f"Would create Git branch '{plan.branch}' at {plan.sha}"])
            )
        result = porcelain.run(session, plan)
        assert isinstance(result, BranchResult)
    if options.json:
        _emit({**plan.to_json(), "created": True})
        return 0
    print(f"Git branch '{result.branch}' has been created from experiment '{plan.ref.name}'.")
    print(f"To switch to the new branch run:\n\n\tgit checkout {result.branch}")
    return 0


def rename_command(options: argparse.Namespace) -> int:
    with open_session(options.cwd, prompt=_prompt) as session:
        plan = porcelain.plan_rename(
            session, options.experiment, options.new_name, options.git_remote, options.force
        )
        if options.dry_run:
            return _show_plan(options, plan, plan_report(plan))
        result = porcelain.run(session, plan)
        assert isinstance(result, RefResult)
    if options.json:
        _emit(result.to_json())
    elif result.exit_code == 0:
        old = plan.updates[1].ref.name
        place = f" on Git remote '{plan.remote.display}'" if plan.remote else ""
        print(f"Renamed experiment {old} to {options.new_name}{place}.")
    else:
        for outcome in result.outcomes:
            if outcome.status is Status.REJECTED:
                print(
                    f"exptui: {outcome.update.ref.name}: {outcome.reason or 'rejected'}",
                    file=sys.stderr,
                )
    return result.exit_code


def apply_command(options: argparse.Namespace) -> int:
    with open_session(options.cwd) as session:
        plan = porcelain.plan_apply(session, options.experiment)
        if isinstance(plan, NeedsPull):  # missing data: say what, and how to get it
            plan = apply_plan(session.repo, options.experiment)
        if options.dry_run:
            return _show_plan(options, plan, apply_plan_report(plan))
        result = porcelain.run(session, plan)
        assert isinstance(result, ApplyResult)
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
