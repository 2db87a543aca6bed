"""Which experiments a command means (DVC_FORMAT §7.1, §2.5).

``--rev R`` (repeatable, default HEAD) and ``-n N`` choose baselines along first parents;
``-A`` takes every baseline. Names and full refs pick single experiments, resolved by DVC's
rule: a full ref is taken as is; a bare name must match once, or under HEAD's baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.errors import AmbiguousExperimentError, ExptuiError, UnknownExperimentError
from core.git.refs import ExpRef
from core.project.repo import Repository


@dataclass(frozen=True)
class BaselineSelection:
    """Baselines chosen by ``-A`` / ``--rev`` / ``-n``; ``None`` means all of them."""

    baselines: frozenset[str] | None

    def includes(self, baseline: str) -> bool:
        return self.baselines is None or baseline in self.baselines


def select_baselines(
    repo: Repository, revs: Sequence[str] = (), num: int = 1, all_commits: bool = False
) -> BaselineSelection:
    """Resolve the selector flags locally, as DVC does, even for remote listings."""
    if all_commits:
        return BaselineSelection(None)
    wanted = list(revs) or ["HEAD"]
    if wanted == ["HEAD"] and repo.head_sha() is None:
        return BaselineSelection(frozenset())
    chosen: set[str] = set()
    for rev in wanted:
        chosen.update(repo.first_parents(repo.resolve_rev(rev), num))
    return BaselineSelection(frozenset(chosen))


def resolve_names(
    names: Iterable[str], candidates: Iterable[ExpRef], head: str | None, where: str = ""
) -> list[ExpRef]:
    """Map typed names (bare or ``refs/exps/...``) onto ``candidates`` by DVC's rule.

    Unknown names are reported together; an ambiguous name lists the full refs to use.
    """
    by_name: dict[str, list[ExpRef]] = {}
    for ref in candidates:
        by_name.setdefault(ref.name, []).append(ref)
    known = {ref.ref for refs in by_name.values() for ref in refs}
    resolved: list[ExpRef] = []
    unknown: list[str] = []
    for name in names:
        if name.startswith("refs/"):
            if name in known:
                resolved.append(ExpRef.parse(name))
            else:
                unknown.append(name)
            continue
        matches = by_name.get(name, [])
        if len(matches) == 1:
            resolved.append(matches[0])
        elif not matches:
            unknown.append(name)
        else:
            at_head = [m for m in matches if m.baseline == head]
            if len(at_head) != 1:
                refs = "\n\t".join(sorted(m.ref for m in matches))
                raise AmbiguousExperimentError(
                    f"Ambiguous name '{name}' refers to multiple experiments.",
                    f"Use one of the following full refnames instead:\n\t{refs}",
                )
            resolved.append(at_head[0])
    if unknown:
        quoted = ", ".join(f"'{n}'" for n in unknown)
        place = f" in {where}" if where else ""
        plural = "is not an experiment" if len(unknown) == 1 else "are not experiments"
        raise UnknownExperimentError(
            f"{quoted} {plural}{place}.",
            "List them with 'exptui list -A'"
            + (f" or 'exptui list {where} -A'." if where else "."),
        )
    return list(dict.fromkeys(resolved))


def resolve_experiment(repo: Repository, arg: str) -> tuple[ExpRef, str]:
    """What ``apply``/``branch`` mean by ``arg`` (DVC_FORMAT §2.5, §7.6, §7.7): first a Git
    revision (SHA, branch, tag) whose commit an experiment ref points at, then a name or
    full ref. Several refs at one commit: HEAD's baseline wins, else the user must pick."""
    local = repo.experiments()
    try:
        sha = repo.resolve_rev(arg) if not arg.startswith("refs/exps/") else None
    except ExptuiError:
        sha = None
    if sha is not None:
        holders = [e for e in local if e.sha == sha]
        if not holders:
            by_name = [e for e in local if e.name == arg]
            if not by_name:
                raise UnknownExperimentError(
                    f"'{arg}' does not appear to be an experiment commit.",
                    "Give an experiment name, a full refs/exps/... ref, or an experiment's SHA.",
                )
        elif len(holders) == 1:
            return holders[0].ref, sha
        else:
            at_head = [e for e in holders if e.baseline == repo.head_sha()]
            if len(at_head) == 1:
                return at_head[0].ref, sha
            refs = "\n\t".join(sorted(e.ref.ref for e in holders))
            raise AmbiguousExperimentError(
                f"Ambiguous experiment name '{arg}' can refer to multiple experiments.",
                f"Use a full experiment ref:\n\t{refs}",
            )
    (ref,) = resolve_names([arg], [e.ref for e in local], repo.head_sha())
    return ref, next(e.sha for e in local if e.ref == ref)
