"""The ``exptui`` entry point: no subcommand opens the app; subcommands script ``core``.

Text output follows ``dvc exp`` where DVC has a wording, without its quirks; ``--json``
prints plain values for scripts. Errors are one line on stderr and a non-zero exit code,
never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from core.errors import ExptuiError, describe
from core.redact import redact
from tui.format import shown

EXIT_ERROR = 1
SUBCOMMANDS = (
    "list",
    "show",
    "diff",
    "plots",
    "push",
    "pull",
    "remove",
    "apply",
    "branch",
    "rename",
    "demo",
)


def tune_gc() -> None:
    """Collect young objects every 20,000 allocations instead of 700. Listing and laying
    out tens of thousands of refs allocates in bulk, nearly none of it cyclic garbage,
    and each collection walked what had been allocated (every 10th, older objects too):
    first screen at 10,000 experiments 0.99-1.13 s -> 0.86-0.93 s, list of 100,000 refs
    0.86-0.89 s -> 0.78-0.83 s, peak memory unchanged."""
    gc.set_threshold(20_000, 50, 100)


def main(argv: Sequence[str] | None = None) -> int:
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (argcomplete)
        _complete()
    tune_gc()
    args = list(sys.argv[1:] if argv is None else argv)
    scripted = bool(args) and args[0] in SUBCOMMANDS and args[0] != "demo"  # demo opens the app
    with _visible_output() if scripted else contextlib.nullcontext():
        return _main(args)


def _main(args: list[str]) -> int:
    try:
        if args and args[0] in SUBCOMMANDS:
            return _run_subcommand(args)
        return _run_app(args)
    except ExptuiError as exc:
        _error(exc)
        return exc.exit_code or EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (``exptui list | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a local disk or permission problem no layer expected
        _error(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("exptui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, or a library's error no layer names: still one line
        if os.environ.get("EXPTUI_DEBUG"):
            raise
        text = f"unexpected error: {describe(exc)} (EXPTUI_DEBUG=1 shows where; please report it)"
        print(f"exptui: {shown(redact(text))}", file=sys.stderr)
        return EXIT_ERROR


def _error(exc: BaseException) -> None:
    print(f"exptui: {shown(redact(describe(exc)))}", file=sys.stderr)


class _VisibleStream:
    """A text stream that shows control characters escaped (newlines and tabs kept).

    Every line a subcommand prints may hold names, values, paths or error texts from
    someone else's commit or remote; escaping at the stream, not at each ``print``, means
    no new line of output can forget it. JSON stays valid: ``\\u001b`` is its own escape.
    A progress bar that must draw writes to ``unescaped``."""

    def __init__(self, stream: TextIO) -> None:
        self.unescaped = stream

    def write(self, text: str) -> int:
        return self.unescaped.write(shown(redact(text), lines=True))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unescaped, name)


@contextlib.contextmanager
def _visible_output() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _VisibleStream(sys.stdout), _VisibleStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _complete() -> None:
    """Answer the shell's completion request and exit: verbs, options, and the names of
    local experiments and Git remotes (read from the refs only, so it stays instant).
    Set up with ``eval "$(register-python-argcomplete exptui)"``."""
    import argcomplete

    parser, verbs = _build_subcommand_parsers()
    for sub in verbs.values():
        for action in sub._actions:
            if action.dest in ("experiments", "experiment", "a_rev", "b_rev"):
                action.completer = _experiment_names  # type: ignore[attr-defined]
            elif action.dest == "git_remote":
                action.completer = _git_remote_names  # type: ignore[attr-defined]
    argcomplete.autocomplete(parser)
    sys.exit(0)  # not asked for completions after all: nothing else to do here


def _experiment_names(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    from core.project.repo import Repository

    try:
        with Repository.open(getattr(parsed_args, "cwd", None) or ".") as repo:
            return sorted({e.name for e in repo.experiments() if e.name.startswith(prefix)})
    except (ExptuiError, OSError):
        return []


def _git_remote_names(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    from core.project.repo import Repository

    try:
        with Repository.open(getattr(parsed_args, "cwd", None) or ".") as repo:
            return [r.name for r in repo.git_remotes() if r.name.startswith(prefix)]
    except (ExptuiError, OSError):
        return []


# -- the app ---------------------------------------------------------------------------


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exptui",
        description="Browse and share DVC experiments. Subcommands: "
        + ", ".join(SUBCOMMANDS)
        + " (exptui SUBCOMMAND --help).",
    )
    parser.add_argument("path", nargs="?", default=".", help="a directory inside a DVC project")
    parser.add_argument("--version", action="version", version=f"exptui {_version()}")
    _add_app_flags(parser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exptui")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _add_app_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-mouse", action="store_true", help="do not capture the mouse")
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="fewer redraws and no animations, for slow SSH links (implies --no-mouse)",
    )


def _run_app(args: list[str]) -> int:
    options = _app_parser().parse_args(args)
    return _open_app(Path(options.path), options)


def _open_app(path: Path, options: argparse.Namespace) -> int:
    from core.project.repo import Repository

    repo = Repository.open(path)  # fail before the screen switches, with a plain message
    repo.close()
    if options.low_bandwidth:
        os.environ.update(TEXTUAL_FPS="15", TEXTUAL_ANIMATIONS="none", TEXTUAL_SMOOTH_SCROLL="0")
    from tui.app import ExptuiApp

    app = ExptuiApp(path)
    app.run(mouse=not (options.no_mouse or options.low_bandwidth))
    return app.return_code or 0


# -- subcommands -----------------------------------------------------------------------


def _parse_subcommand(args: list[str]) -> argparse.Namespace:
    """Options anywhere, as ``dvc exp`` takes them (``exptui push origin -f exp``): the
    subcommand's own parser reads the rest intermixed, and an error prints its usage."""
    command, rest = args[0], args[1:]
    if (rest and rest[0] in ("-h", "--help")) or not rest:
        return _subcommand_parser().parse_args(args)  # help, or the usage of a bare verb
    sub = _subcommand_parsers()[command]
    options = sub.parse_intermixed_args(rest)
    options.command = command
    return options


def _subcommand_parser() -> argparse.ArgumentParser:
    return _build_subcommand_parsers()[0]


def _subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    return _build_subcommand_parsers()[1]


def _build_subcommand_parsers() -> tuple[
    argparse.ArgumentParser, dict[str, argparse.ArgumentParser]
]:
    parser = argparse.ArgumentParser(prog="exptui")
    sub = parser.add_subparsers(dest="command", required=True)

    lister = sub.add_parser("list", help="list experiments, like 'dvc exp list'")
    lister.add_argument("git_remote", nargs="?", help="list this Git remote's experiments")
    lister.add_argument(
        "--peek", action="store_true", help="with a remote: fetch params/metrics of unpulled ones"
    )
    _add_selection(lister)
    names = lister.add_mutually_exclusive_group()
    names.add_argument("--name-only", "--names-only", action="store_true", help="names only")
    names.add_argument("--sha-only", "--shas-only", action="store_true", help="full SHAs only")
    lister.add_argument("--json", action="store_true", help="print a JSON list of experiments")
    lister.add_argument(
        "--no-fetch",
        action="store_true",
        help="with --json: never fetch cached metrics/params from the DVC remote",
    )
    lister.add_argument("-C", dest="cwd", default=".", help="run as if started in this directory")

    shower = sub.add_parser("show", help="the experiments table, like 'dvc exp show'")
    _add_selection(shower)
    _add_table_formats(shower)
    shower.add_argument(
        "--no-fetch", action="store_true", help="never fetch cached values from the DVC remote"
    )
    shower.add_argument("-C", dest="cwd", default=".", help="run as if started in this directory")

    differ = sub.add_parser("diff", help="what changed between two experiments or commits")
    differ.add_argument("a_rev", help="an experiment name or any commit (branch, tag, SHA)")
    differ.add_argument(
        "b_rev", nargs="?", help="the other one (default: the first one's baseline commit)"
    )
    differ.add_argument("--all", action="store_true", help="unchanged values too")
    _add_table_formats(differ)
    differ.add_argument("-C", dest="cwd", default=".", help="run as if started in this directory")

    plotter = sub.add_parser("plots", help="the points of DVC plots, like 'dvc plots show'")
    plotter.add_argument(
        "revs", nargs="*", help="experiments or commits (default: HEAD and its experiments)"
    )
    plot_formats = plotter.add_mutually_exclusive_group()
    plot_formats.add_argument("--json", action="store_true", help="print the points as JSON")
    plot_formats.add_argument("--csv", action="store_true", help="print one point per row")
    plotter.add_argument(
        "--no-fetch", action="store_true", help="never fetch plot files from the DVC remote"
    )
    plotter.add_argument("-C", dest="cwd", default=".", help="run as if started in this directory")

    for verb, text in (
        ("push", "push experiments to a Git remote"),
        ("pull", "pull experiments from a Git remote"),
    ):
        parser_ = sub.add_parser(verb, help=text)
        parser_.add_argument("git_remote", help="a Git remote name, URL or path")
        parser_.add_argument("experiments", nargs="*", help="names or full refs")
        _add_selection(parser_)
        parser_.add_argument("-f", "--force", action="store_true", help="replace diverged refs")
        parser_.add_argument(
            "-r",
            "--remote",
            help="DVC remote for the data (default: the experiment commit's default remote)",
        )
        parser_.add_argument(
            "-j",
            "--jobs",
            type=int,
            help="parallel transfers (default: per "
            "remote; small files between local disks go one batch at a "
            "time unless this is set)",
        )
        parser_.add_argument("--no-cache", action="store_true", help="move Git refs only")
        parser_.add_argument(
            "--allow-missing",
            action="store_true",
            help="move refs even when some of their data is missing",
        )
        parser_.add_argument(
            "--run-cache",
            action="store_true",
            help="also share the run-cache (entries the other side lacks), "
            "with the workspace's DVC remote or -r",
        )
        if verb == "push":
            parser_.add_argument(
                "--verify",
                action="store_true",
                help="re-read each uploaded object (md5 on local remotes, size on object stores)",
            )
        _add_output_flags(parser_)

    remover = sub.add_parser("remove", help="remove experiments locally or on a Git remote")
    remover.add_argument("experiments", nargs="*", help="names or full refs")
    remover.add_argument("-g", "--git-remote", help="remove on this Git remote instead")
    remover.add_argument("-A", "--all-commits", action="store_true", help="of every baseline")
    remover.add_argument(
        "--rev",
        action="append",
        default=[],
        metavar="REV",
        help="experiments of this baseline (repeatable)",
    )
    remover.add_argument(
        "-n",
        "--num",
        type=int,
        default=1,
        metavar="N",
        help="also the N-1 first-parent ancestors of each --rev",
    )
    _add_output_flags(remover)

    applier = sub.add_parser("apply", help="put an experiment into the workspace")
    applier.add_argument("experiment", help="name, full ref or SHA of the experiment")
    _add_output_flags(applier)

    brancher = sub.add_parser("branch", help="create a Git branch at an experiment")
    brancher.add_argument("experiment", help="name, full ref or SHA of the experiment")
    brancher.add_argument("branch", nargs="?", help="branch name (default: <name>-branch)")
    _add_output_flags(brancher)

    renamer = sub.add_parser("rename", help="rename an experiment, locally or on a Git remote")
    renamer.add_argument("experiment", help="name or full ref")
    renamer.add_argument("new_name", help="the new name")
    renamer.add_argument("-g", "--git-remote", help="rename on this Git remote instead")
    renamer.add_argument("-f", "--force", action="store_true", help="replace an existing name")
    _add_output_flags(renamer)

    demo = sub.add_parser("demo", help="build a demo workspace and open the app on it")
    demo.add_argument("dir", nargs="?", help="where to build it (default: a per-user data dir)")
    demo.add_argument("--no-tui", action="store_true", help="build and print the path only")
    _add_app_flags(demo)
    for name, choice in sub.choices.items():
        if name != "demo":
            loudness = choice.add_mutually_exclusive_group()
            loudness.add_argument(
                "-q", "--quiet", action="store_true", help="print nothing but errors"
            )
            loudness.add_argument(
                "-v",
                "--verbose",
                action="store_true",
                help="say more: the plan before it runs, and where an unexpected error came from",
            )
    return parser, dict(sub.choices)


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-A", "--all-commits", action="store_true", help="experiments of every baseline"
    )
    parser.add_argument(
        "--rev",
        action="append",
        default=[],
        metavar="REV",
        help="experiments of this baseline commit (repeatable; default HEAD)",
    )
    parser.add_argument(
        "-n",
        "--num",
        type=int,
        default=1,
        metavar="N",
        help="also the N-1 first-parent ancestors of each --rev (negative: all)",
    )


def _add_table_formats(parser: argparse.ArgumentParser) -> None:
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print the rows as JSON")
    formats.add_argument("--csv", action="store_true", help="print CSV")
    formats.add_argument("--md", action="store_true", help="print a Markdown table")


def _add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    parser.add_argument("--json", action="store_true", help="print the plan or result as JSON")
    parser.add_argument("-C", dest="cwd", default=".", help="run as if started in this directory")


def _run_subcommand(args: list[str]) -> int:
    options = _parse_subcommand(args)
    if getattr(options, "quiet", False):
        with contextlib.redirect_stdout(io.StringIO()):  # errors still reach stderr
            return _dispatch(options)
    if getattr(options, "verbose", False):
        try:
            with _core_log_to_stderr():
                return _dispatch(options)
        except ExptuiError:
            raise
        except Exception:  # -v: where a bug came from, as dvc -v shows it
            traceback.print_exc()
            return EXIT_ERROR
    return _dispatch(options)


@contextlib.contextmanager
def _core_log_to_stderr() -> Iterator[None]:
    """-v: what core notes along the way (which client serves a remote) goes to stderr,
    one plain line each."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("exptui")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _dispatch(options: argparse.Namespace) -> int:
    if options.command == "list":
        if options.git_remote:
            from tui.commands import list_remote_command

            return list_remote_command(options)
        return _cmd_list(options)
    if options.command in ("show", "diff"):
        from tui.commands import diff_command, show_command

        return (show_command if options.command == "show" else diff_command)(options)
    if options.command == "plots":
        from tui.commands import plots_command

        return plots_command(options)
    if options.command in ("push", "pull", "remove"):
        from tui.commands import ref_command

        return ref_command(options)
    if options.command == "apply":
        from tui.commands import apply_command

        return apply_command(options)
    if options.command in ("branch", "rename"):
        from tui.commands import branch_command, rename_command

        return (branch_command if options.command == "branch" else rename_command)(options)
    return _cmd_demo(options)


def _cmd_list(options: argparse.Namespace) -> int:
    from core.git.refs import describe_skipped
    from core.git.select import select_baselines
    from core.project.listing import experiment_record, group_local
    from core.project.repo import Repository

    with Repository.open(options.cwd) as repo:
        selection = select_baselines(repo, options.rev, options.num, options.all_commits)
        groups = group_local(repo, selection)
        if repo.skipped_refs:
            print(f"exptui: {describe_skipped(repo.skipped_refs, 'here')}", file=sys.stderr)
        if options.json:
            shas = [exp.sha for group in groups for exp in group.experiments]
            if not options.no_fetch:
                from tui.commands import fetch_listed_values

                fetch_listed_values(repo, shas)
            records = [
                experiment_record(repo, exp, group.label)
                for group in groups
                for exp in group.experiments
            ]
            _print_json(records)
            return 0
        for group in groups:
            if options.name_only or options.sha_only:
                for exp in group.experiments:
                    print(exp.sha if options.sha_only else exp.name)
                continue
            print(f"{group.label}:")
            for exp in group.experiments:
                print(f"\t{exp.sha[:7]} [{exp.name}]")
    return 0


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _cmd_demo(options: argparse.Namespace) -> int:
    from core.demo import build_demo, default_demo_dir

    target = Path(options.dir) if options.dir else default_demo_dir()
    workspace = build_demo(target)
    if options.no_tui:
        print(workspace)
        return 0
    return _open_app(workspace, options)
