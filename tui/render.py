"""Plans and results in words: the one place both UIs take their text from.

The command line prints :class:`Report` lines; the app shows the same words in its
confirmation (:func:`share_summary`, rich text) and in its toasts (:func:`share_headline`).
Nothing here imports Textual, so the scripting CLI stays free of it. Names and paths come
from repositories and remotes: each UI escapes them at its output (``tui.format.shown``).
Wording follows DVC's where DVC has one, without its quirks: forced updates are reported
as such, and a ref that did not move says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from core.data.runcache import RunCacheResult
from core.data.transfer import ExpData, failure_summary, missing_summary
from core.git.exchange import Action, RefPlan, RefResult, Status
from core.operation import Operation
from core.porcelain import ApplyPlan, SharePlan, ShareResult
from tui.format import format_size, shown

MAX_ROWS = 12
WHY = {
    Status.DIVERGED: "diverged, needs force",
    Status.INCOMPLETE: "its data is incomplete",
    Status.REJECTED: "rejected",
}


@dataclass
class Report:
    """Lines for standard output and for standard error, in order."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def extend(self, other: Report) -> Report:
        self.out += other.out
        self.err += other.err
        return self


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _noun(names: Sequence[str]) -> str:
    return "experiment" if len(names) == 1 else "experiments"


# -- plans --------------------------------------------------------------------------------


def plan_report(plan: RefPlan | SharePlan) -> Report:
    """What ``--dry-run`` prints: each ref's action, then each experiment's data."""
    refs = plan.refs if isinstance(plan, SharePlan) else plan
    where = (
        f" Git remote '{refs.remote.display}' ({refs.remote.shown_url})"
        if refs.remote
        else " locally"
    )
    on = " on" if refs.operation is Operation.REMOVE and refs.remote else ""
    report = Report([f"Plan: {refs.operation}{on}{where}"])
    if not refs.updates:
        report.out.append("\tnothing selected")
    for update in refs.updates:
        note = " (needs --force)" if update.action is Action.DIVERGED else ""
        report.out.append(
            f"\t{update.action.value:<12} {update.ref.name} [{update.ref.baseline[:7]}]{note}"
        )
    data = plan.data if isinstance(plan, SharePlan) else None
    for item in data.items if data else ():
        missing = f", {len(item.missing)} missing" if item.missing else ""
        report.out.append(
            f"\tdata {item.ref.name}: {len(item.to_move)} of {len(item.objects)} objects "
            f"({_about(item.estimates)}{format_size(item.bytes_to_move)}) to move via "
            f"'{item.remote.name}'{missing}"
        )
    if data and len(data.items) > 1:
        report.out.append(
            f"\tin all: {data.objects_to_move} objects "
            f"({_about(data.estimates)}{format_size(data.bytes_to_move)})"
        )
    return report


def _about(estimated: bool) -> str:
    """'≈' before a size that counts a pull's directory entries at their mean size."""
    return "≈" if estimated else ""


def apply_plan_report(plan: ApplyPlan) -> Report:
    missing = f"; {len(plan.missing)} objects missing from the cache" if plan.missing else ""
    return Report(
        [
            f"Would apply {plan.ref.name}: {len(plan.writes)} files written, "
            f"{len(plan.deletes)} removed, {len(plan.outputs)} outputs checked out{missing}"
        ]
    )


def share_summary(plan: SharePlan) -> tuple[Text, Table]:
    """The confirmation's headline and one row per experiment, from the plan value."""
    refs, data = plan.refs, plan.data
    items = data.items if data else ()
    verb = plan.operation.value.capitalize()
    count = len(refs.updates)
    head = Text.assemble(
        (f"{verb} {count} experiment{'s' if count != 1 else ''} ", "bold"),
        f"{plan.operation.toward} Git remote ",
        (shown(refs.remote.display) if refs.remote else "?", "bold cyan"),
    )
    if data is None:
        head.append(" (refs only)")
    else:
        remotes = sorted({shown(i.remote.name) for i in items})
        where = ", ".join(remotes) or "no DVC remote needed"
        head.append(
            f" and DVC remote {where}: {data.objects_to_move} objects, "
            f"{_about(data.estimates)}{format_size(data.bytes_to_move)}"
        )
    table = Table.grid(padding=(0, 1))
    for column in ("action", "experiment", "data"):
        table.add_column(column, no_wrap=column != "experiment")
    for update in refs.updates[:MAX_ROWS]:
        mine = [i for i in items if i.ref == update.ref]
        style = "bold red" if update.action is Action.DIVERGED else ""
        table.add_row(
            Text(update.action.value, style=style), Text(shown(update.ref.name)), _row_data(mine)
        )
    if count > MAX_ROWS:
        table.add_row("", Text(f"and {count - MAX_ROWS} more", style="dim"), "")
    return head, table


def _row_data(items: list[ExpData]) -> str:
    moving = sum(len(i.to_move) for i in items)
    missing = sum(len(i.required_missing) for i in items)
    about = _about(any(i.estimates for i in items))
    note = f"{moving} obj, {about}{format_size(sum(i.bytes_to_move for i in items))}"
    return note + (f", {missing} missing: ref held" if missing else "")


# -- results --------------------------------------------------------------------------------


def refs_report(result: RefResult) -> Report:
    """DVC's sentences for a push, pull or remove, and why each ref that did not move."""
    plan, report = result.plan, Report()
    where = f"Git remote '{plan.remote.display}'" if plan.remote else ""
    ok, same = result.names(Status.SUCCESS), result.names(Status.UP_TO_DATE)
    if plan.operation is Operation.REMOVE:
        report.out.append(
            f"Removed {_noun(ok)} {join_names(ok)}" + (f" from {where}." if where else ".")
            if ok
            else "No experiments to remove."
        )
    else:
        report.out += _share_sentences(result, where, ok, same)
    side = plan.operation.replaced_side
    for outcome in result.outcomes:
        name = outcome.update.ref.name
        if outcome.status is Status.DIVERGED:
            report.err.append(
                f"Local experiment {name} has diverged from remote experiment with the same "
                f"name. To override the {side} experiment re-run with '--force'."
            )
        elif outcome.status is Status.INCOMPLETE:
            report.err.append(f"exptui: {name}: {outcome.reason}")
        elif outcome.status is Status.REJECTED:
            report.err.append(
                f"exptui: {where or 'the repository'} rejected {name}: {outcome.reason}"
            )
    return report


def _share_sentences(result: RefResult, where: str, ok: list[str], same: list[str]) -> list[str]:
    operation = result.plan.operation
    lines = []
    if same:
        be = "is" if len(same) == 1 else "are"
        rel = "on" if operation.uploads else "with"
        lines.append(
            f"{_noun(same).capitalize()} {join_names(same)} {be} up to date {rel} {where}."
        )
    if ok:
        lines.append(f"{operation.past} {_noun(ok)} {join_names(ok)} {operation.toward} {where}.")
    if not ok and not same:
        lines.append(f"No experiments to {operation}.")
    forced = [o.update.ref.name for o in result.outcomes if o.forced]
    if forced:
        lines.append(
            f"Forced: replaced the diverged {operation.replaced_side} {_noun(forced)} "
            f"{join_names(forced)}."
        )
    return lines


def share_report(result: ShareResult) -> Report:
    """A push or pull: the Git phase, then the data phase per DVC remote, then the
    run-cache when asked for."""
    report = refs_report(result.refs).extend(data_report(result))
    if result.run_cache is not None:
        report.extend(run_cache_report(result.plan.operation, result.run_cache))
    return report


def data_report(result: ShareResult) -> Report:
    """The data phase, reported apart from the Git phase, per DVC remote."""
    if not result.with_data:
        return Report(["Refs only (--no-cache): cached outputs were not transferred."])
    operation, report = result.plan.operation, Report()
    per_remote: dict[str, list[int]] = {}
    for transfer in result.data:
        totals = per_remote.setdefault(transfer.item.remote.name, [0, 0])
        totals[0] += transfer.moved
        totals[1] += transfer.moved_bytes
    for remote, (files, size) in per_remote.items():
        noun = "file" if files == 1 else "files"
        report.out.append(
            f"{files} {noun} {operation.moved} ({format_size(size)}) {operation.toward} "
            f"DVC remote '{remote}'."
        )
    for transfer in result.data:
        item = transfer.item
        name, remote = item.ref.name, item.remote.name
        report.err += [f"exptui: {name}: {note}" for note in item.notes]
        if item.missing:
            where = "locally and on" if operation.uploads else "on"
            why = "" if item.required_missing else " (push: false outputs only)"
            report.err.append(
                f"exptui: {name}: {len(item.missing)} object(s) missing {where} '{remote}'"
                f"{why}: {missing_summary(item.missing)}"
            )
        report.err += [f"exptui: {name}: {line}" for line in failure_summary(transfer.failed)]
    return report


def run_cache_report(operation: Operation, runs: RunCacheResult) -> Report:
    report = Report(
        [
            f"{runs.moved} run-cache entries {operation.moved} {operation.toward} DVC remote "
            f"'{runs.remote}' ({runs.already} already there)."
        ]
    )
    report.err += [f"exptui: run-cache entry {path}: {why}" for path, why in runs.rejected.items()]
    return report


def share_headline(result: ShareResult) -> tuple[str, bool]:
    """The app's one-line toast for a push or pull, with the reason any ref did not move;
    True when something did not."""
    refs, operation = result.refs, result.plan.operation
    done = refs.names(Status.SUCCESS) + refs.names(Status.UP_TO_DATE)
    where = refs.plan.remote.display if refs.plan.remote else "?"
    text = (
        f"{operation.past} {len(done)}/{len(refs.outcomes)} experiments {operation.toward} "
        f"{where}: {result.moved_files} files ({format_size(result.moved_bytes)})"
    )
    problems = [f"{o.update.ref.name} ({WHY[o.status]})" for o in refs.outcomes if o.status in WHY]
    if problems:
        text += f"; not moved: {', '.join(problems)}"
    return text, bool(problems)
