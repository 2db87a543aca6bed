"""What a commit says about its DVC project: params, metrics and outputs (DVC_FORMAT §4).

Everything is read from a :class:`FileSource` (a Git tree, never a checkout), so the same
code reads a local experiment, a peeked remote one, or a baseline. Values match what
``dvc exp show --json`` reports: params are the whole content of ``params.yaml`` and of
every params file the pipelines declare; metrics are the files declared as metrics, read
from the tree when Git tracks them, else from the local cache by their ``dvc.lock`` hash.
"""

from __future__ import annotations

import functools
import json
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import yaml

from core.bounded import (
    MAX_PIPELINE_BYTES,
    MAX_VALUES_BYTES,
    DocumentTooLargeError,
    check_size,
    parse_within_limits,
)
from core.data.objects import ManifestEntry, check_oid, is_dir_oid, parse_manifest
from core.errors import ExptuiError, InvalidObjectError, UnsafePathError
from core.project.plots import (
    DATA_SUFFIXES,
    IMAGE_SUFFIXES,
    PlotDef,
    parse_data,
    pipeline_plots,
    with_dvc_ids,
)
from core.project.templating import ResolvedPipeline, TemplateError, resolve_pipeline
from core.project.yaml12 import load_yaml12
from core.workspace.paths import confine

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_PARAMS = "params.yaml"
_PARAM_SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".py")


class FileSource(Protocol):
    """Read-only access to a snapshot of the project (repo-relative POSIX paths)."""

    def read(self, path: str) -> bytes | None: ...

    def paths(self) -> Iterable[str]: ...


CacheReader = Callable[[str, bool], "bytes | None"]
ParamDecls = dict[str, "list[str] | None"]
"""Declared params files -> the dotted keys declared, or None for the whole file."""
"""``(oid, legacy) -> bytes`` from the local cache, or None when absent."""


@dataclass(frozen=True)
class Output:
    """One cached-or-not output from ``dvc.lock`` or a ``.dvc`` file, with its sharing flags."""

    path: str
    oid: str | None
    size: int | None
    nfiles: int | None
    legacy: bool
    source: str
    cache: bool = True
    push: bool = True
    remote: str | None = None
    imported_from: str | None = None  # ``dvc import``: the source repository's URL
    import_rev: str | None = None  # ... and the revision its data was imported at

    @property
    def is_import(self) -> bool:
        """Data DVC fetches from the source project's remote, never pushes (DVC_FORMAT)."""
        return self.imported_from is not None

    @property
    def is_dir(self) -> bool:
        return bool(self.oid) and is_dir_oid(self.oid or "")

    @property
    def is_shared(self) -> bool:
        """Whether push/pull move this output's objects at all."""
        return self.cache and self.oid is not None and not self.is_import


@dataclass
class ProjectState:
    """Params, metrics and outputs of one commit, plus what could not be read and why.

    ``unresolved`` says why the outputs may be incomplete (a ``dvc.yaml`` whose templating
    or YAML DVC would refuse, an unsafe path in a lock): push, pull and apply refuse such
    a commit, as DVC does, instead of moving less than DVC would without a word.
    ``warnings`` are values that could not be shown."""

    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    # Objects whose absence from the local cache hid values: (the output, the object).
    uncached: list[tuple[Output, str]] = field(default_factory=list)
    plots: list[PlotDef] = field(default_factory=list)  # as declared; points on demand

    @property
    def data_size(self) -> int:
        """Bytes of the shared outputs (what push/pull may move)."""
        return sum(o.size or 0 for o in self.outputs if o.is_shared)


@dataclass
class _Declared:
    """What the pipelines of a commit declare beyond their outputs."""

    params: ParamDecls = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    tracked: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_project(files: FileSource, read_cache: CacheReader | None = None) -> ProjectState:
    """Read params, metrics and outputs from every pipeline and ``.dvc`` file of a snapshot."""
    state = ProjectState()
    all_paths = list(files.paths())
    declared = _Declared()
    for dvcyaml in sorted(p for p in all_paths if posixpath.basename(p) == "dvc.yaml"):
        data = files.read(dvcyaml)
        doc = _load_pipeline_file(files, dvcyaml, state, data)
        if doc is None:
            continue
        base = posixpath.dirname(dvcyaml)
        read = functools.partial(_read_vars, files)
        pipeline = resolve_pipeline(doc, base, read, templated=_may_be_templated(data))
        state.unresolved += [f"{dvcyaml}: {error}" for error in pipeline.errors]
        _declare(pipeline, base, declared)
        state.plots += pipeline_plots(pipeline.plots, pipeline.stages, base, dvcyaml)
        lock_path = _sibling(dvcyaml, "dvc.lock")
        lock = _load_pipeline_file(files, lock_path, state)
        if lock is not None:
            state.outputs.extend(_stage_outputs(pipeline, lock, lock_path, state))
    state.outputs.extend(_dvcfile_outputs(files, all_paths, state))
    state.plots = with_dvc_ids(state.plots)
    cached = _CachedFiles(state, read_cache)
    state.params = _read_params(files, declared, state, cached)
    state.metrics = _read_metrics(files, declared.metrics, all_paths, state, cached)
    return state


def _sibling(path: str, name: str) -> str:
    return posixpath.join(posixpath.dirname(path), name)


def _may_be_templated(data: bytes | None) -> bool:
    """Whether a dvc.yaml may use templating; False only when it certainly does not (no
    ``${``, ``vars``, ``foreach`` or ``matrix`` anywhere), which spares resolving it."""
    return data is None or any(word in data for word in (b"${", b"vars", b"foreach", b"matrix"))


def _load_pipeline_file(
    files: FileSource, path: str, state: ProjectState, data: bytes | None = None
) -> Mapping[str, Any] | None:
    """A ``dvc.yaml``, ``dvc.lock`` or ``.dvc`` file, or None when absent. One that cannot
    be read leaves the commit's outputs unknown, so it is a reason to refuse, not a note."""
    data = files.read(path) if data is None else data
    if data is None:
        return None
    document, error = _parsed(PIPELINE, data)
    if error is not None:
        state.unresolved.append(f"{path}: {_reason(error, 'not valid YAML')}")
        return None
    if not isinstance(document, Mapping):
        state.unresolved.append(f"{path}: not a mapping, as DVC requires")
        return None
    return document


def _read_vars(files: FileSource, path: str) -> Any:
    """A file named in ``vars`` (or the default params.yaml), parsed as DVC's loaders do:
    by extension, YAML by default, an empty file as ``{}``."""
    data = files.read(path)
    if data is None:
        return None
    document, error = _parsed(_kind(path), data)
    if error is not None:
        raise TemplateError(f"'{path}': {_reason(error, 'cannot parse')}")
    return document or {}


def _kind(path: str) -> str:
    suffix = posixpath.splitext(path)[1].lower()
    return suffix if suffix in (".json", ".toml", ".py") else ".yaml"


def parse_yaml(data: bytes) -> Any:
    """YAML 1.2 as DVC reads it (``1e-4`` a number, ``yes`` text), libyaml's parser."""
    return load_yaml12(data)


PIPELINE = ".pipeline"  # YAML under the larger limit of dvc.yaml, dvc.lock and .dvc files


@functools.lru_cache(maxsize=4096)
def _parsed(kind: str, data: bytes) -> tuple[Any, Exception | None]:
    """Parsed file contents by their bytes, within :mod:`core.bounded`'s limits, or why
    not: 2,000 experiments share one dvc.yaml and mostly the same params, and a hostile
    file shared by all of them is refused once. The result is shared, so it is read-only
    by contract (nothing in exptui mutates a parsed document; it copies what it keeps)."""
    limit = MAX_PIPELINE_BYTES if kind == PIPELINE else MAX_VALUES_BYTES
    try:
        check_size(data, limit)
        return parse_within_limits(lambda: _parse(kind, data)), None
    except (ValueError, yaml.YAMLError, UnicodeDecodeError, SyntaxError, MemoryError) as exc:
        return None, exc.with_traceback(None)


def _parse(kind: str, data: bytes) -> Any:
    if kind == ".json":
        return json.loads(data)
    if kind == ".toml":
        return tomllib.loads(data.decode("utf-8"))
    if kind == ".py":
        return _python_constants(data.decode("utf-8"))
    return parse_yaml(data)


def _reason(error: Exception, kind_of_failure: str) -> str:
    """The note for a file that was not read: a limit says so itself."""
    if isinstance(error, DocumentTooLargeError):
        return str(error)
    return f"{kind_of_failure} ({_first_line(error)})"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _entries(items: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``outs``/``metrics``/``params`` lists hold plain strings or one-key mappings."""
    if not isinstance(items, list):
        return
    for item in items:
        if isinstance(item, str):
            yield item, {}
        elif isinstance(item, Mapping):
            for key, value in item.items():
                yield str(key), value if isinstance(value, dict) else {}


def _stage_dir(base: str, stage: Mapping[str, Any]) -> str | None:
    """A resolved stage's working directory: its paths and its lock entry's are relative
    to it."""
    return _safe_join(base, str(stage.get("wdir") or "."))


def _declare(pipeline: ResolvedPipeline, base: str, declared: _Declared) -> None:
    """Params files, metrics files and tracked vars of one resolved dvc.yaml."""
    for stage in pipeline.stages.values():
        wdir = _stage_dir(base, stage)
        if wdir is None:
            continue
        for path, _ in _entries(stage.get("metrics")):
            if joined := _safe_join(wdir, path):
                declared.metrics.append(joined)
        _declare_stage_params(stage.get("params"), wdir, declared.params)
    for path, _ in _entries(pipeline.params):
        if joined := _safe_join(base, path):
            declared.params[joined] = None
    for path, _ in _entries(pipeline.metrics):
        if joined := _safe_join(base, path):
            declared.metrics.append(joined)
    for file, values in pipeline.tracked.items():
        declared.tracked.setdefault(file, {}).update(values)


def _declare_stage_params(params: Any, wdir: str, decls: ParamDecls) -> None:
    """A stage's ``params:``: bare keys belong to the params.yaml of the stage's working
    directory (``a/params.yaml`` for ``a/dvc.yaml``); ``{file: keys}`` to ``file``, where
    no keys means the whole file."""
    if not isinstance(params, list):
        return
    default = _safe_join(wdir, DEFAULT_PARAMS)
    for item in params:
        if isinstance(item, str):
            if default is not None and default != DEFAULT_PARAMS:  # the root's: shown whole
                _declare_keys(decls, default, [item])
            continue
        if not isinstance(item, Mapping):
            continue
        for file_name, keys in item.items():
            path = _safe_join(wdir, str(file_name))
            if path is None:
                continue
            if not keys or not isinstance(keys, list):
                decls[path] = None
            else:
                _declare_keys(decls, path, [str(k) for k in keys])


def _declare_keys(decls: ParamDecls, path: str, keys: list[str]) -> None:
    """Some keys of ``path``, unless the whole file is already declared."""
    if path in decls and decls[path] is None:
        return
    decls.setdefault(path, [])
    decls[path].extend(keys)  # type: ignore[union-attr]


def _safe_join(base: str, path: str) -> str | None:
    try:
        return confine(path, base)
    except UnsafePathError:
        return None


def _stage_outputs(
    pipeline: ResolvedPipeline, lock: Mapping[str, Any], lock_path: str, state: ProjectState
) -> Iterator[Output]:
    """The outputs of every resolved stage with the hashes its lock entry records, as
    DVC fills them: an output is matched by the path written in ``dvc.yaml`` (after
    templating) and takes its flags from there; lock entries of stages or outputs the
    ``dvc.yaml`` no longer has are ignored."""
    base = posixpath.dirname(lock_path)
    lock_stages = lock.get("stages") if isinstance(lock.get("stages"), Mapping) else {}
    for name, stage in pipeline.stages.items():
        entry = (lock_stages or {}).get(name)
        if not isinstance(entry, Mapping):
            continue
        locked = {
            out["path"]: out
            for out in entry.get("outs") or []
            if isinstance(out, Mapping) and isinstance(out.get("path"), str)
        }
        wdir = str(stage.get("wdir") or ".")
        for section in ("outs", "metrics", "plots"):
            for path, flags in _entries(stage.get(section)):
                if path not in locked:
                    continue
                output = _output_from_entry(locked[path], base, wdir, f"{lock_path}:{name}")
                if output is None:
                    state.unresolved.append(
                        f"{lock_path}: stage {name!r}: a malformed or unsafe output {path!r}"
                    )
                    continue
                yield _with_flags(output, flags)


def _output_from_entry(entry: Any, base: str, wdir: str, source: str) -> Output | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
        return None
    stage_dir = _safe_join(base, wdir)
    path = _safe_join(stage_dir, entry["path"]) if stage_dir is not None else None
    if path is None:
        return None
    oid = entry.get("md5")
    try:
        oid = check_oid(str(oid)) if oid is not None else None
    except InvalidObjectError:
        return None
    return Output(
        path=path,
        oid=oid,
        size=_int_or_none(entry.get("size")),
        nfiles=_int_or_none(entry.get("nfiles")),
        legacy=entry.get("hash") != "md5",
        source=source,
    )


def _with_flags(out: Output, flags: Mapping[str, Any], imported_from: str | None = None) -> Output:
    """An output with the sharing flags written beside it (DVC's defaults when absent)."""
    remote = flags.get("remote")
    return replace(
        out,
        cache=bool(flags.get("cache", True)),
        push=bool(flags.get("push", True)),
        remote=str(remote).lower() if remote else None,
        imported_from=imported_from,
    )


def _is_sha(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dvcfile_outputs(
    files: FileSource, all_paths: list[str], state: ProjectState
) -> Iterator[Output]:
    """Outputs of ``*.dvc`` files outside ``.dvc/`` that ``.dvcignore`` does not exclude."""
    ignored = dvcignore(files)
    for path in all_paths:
        if not path.endswith(".dvc") or path.startswith(".dvc/") or ignored(path):
            continue
        doc = _load_pipeline_file(files, path, state)
        if doc is None:
            continue
        base = posixpath.dirname(path)
        wdir = str(doc.get("wdir", "."))
        deps = doc.get("deps") or []
        source = next((d["repo"] for d in deps if isinstance(d, Mapping) and "repo" in d), None)
        imported_from = import_rev = None
        if source is not None:
            source = source if isinstance(source, Mapping) else {}
            imported_from = str(source.get("url") or "an unnamed repository")
            rev = source.get("rev_lock")
            import_rev = rev if isinstance(rev, str) and _is_sha(rev) else None
        for entry in doc.get("outs") or []:
            output = _output_from_entry(entry, base, wdir, path)
            if output is None:
                state.unresolved.append(f"{path}: a malformed or unsafe output")
                continue
            yield replace(_with_flags(output, entry, imported_from), import_rev=import_rev)


def dvcignore(files: FileSource) -> Callable[[str], bool]:
    """Whether a path is excluded by the snapshot's ``.dvcignore``."""
    data = files.read(".dvcignore")
    if not data:
        return lambda path: False
    matcher = _ignore_filter(data)
    return lambda path: bool(matcher.is_ignored(path))


@functools.lru_cache(maxsize=256)
def _ignore_filter(data: bytes) -> Any:
    """Compiled .dvcignore patterns by content: compiling is the slow part, and every
    commit of a project carries the same file."""
    from dulwich.ignore import IgnoreFilter

    return IgnoreFilter([line for line in data.splitlines() if line.strip()])


def _read_params(
    files: FileSource, declared: _Declared, state: ProjectState, cached: _CachedFiles
) -> dict[str, Any]:
    """What ``dvc exp show`` shows: params.yaml whole (always, whatever the stages declare),
    other files whole when declared without keys, else only their declared keys; then the
    values stages took from other vars files, under their dotted keys."""
    result: dict[str, Any] = {}
    wanted: ParamDecls = {DEFAULT_PARAMS: None, **declared.params}
    wanted[DEFAULT_PARAMS] = None
    for path, keys in wanted.items():
        if not path.endswith(_PARAM_SUFFIXES):
            continue
        data = files.read(path)
        if data is None:  # DVCLive's dvclive/params.yaml lives in a cached directory
            data = cached.file(path)
        if data is None:
            continue
        parsed = _parse_structured(path, data, state)
        if isinstance(parsed, dict):
            result[path] = parsed if keys is None else _select_keys(parsed, keys)
    for path, values in declared.tracked.items():
        if path not in wanted:  # a params file is shown as such, not again as vars
            result[path] = dict(values)
    return result


def _select_keys(data: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """Keep only the dotted ``keys`` of a nested mapping, nested as in the file."""
    selected: dict[str, Any] = {}
    for key in keys:
        node: Any = data
        parts = key.split(".")
        for part in parts:
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            target = selected
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = node
    return selected


def _read_metrics(
    files: FileSource,
    declared: list[str],
    all_paths: list[str],
    state: ProjectState,
    cached: _CachedFiles,
) -> dict[str, Any]:
    """Metric files from the tree, or from the cache by their lock hash when not in Git."""
    result: dict[str, Any] = {}
    for path in dict.fromkeys(declared):
        for file_path, data in _metric_files(files, path, all_paths, cached):
            if data is None:
                state.warnings.append(f"{file_path}: metrics not in Git and not in the local cache")
                continue
            parsed = _parse_structured(file_path, data, state)
            if isinstance(parsed, dict):
                result[file_path] = _only_scalars(parsed)
            elif isinstance(parsed, (int, float, str)):  # a file holding one value, e.g. 0.99
                result[file_path] = parsed  # as dvc exp show has it: {"acc.json": 0.99}
    return result


def _metric_files(
    files: FileSource, path: str, all_paths: list[str], cached: _CachedFiles
) -> Iterator[tuple[str, bytes | None]]:
    data = files.read(path)
    if data is not None:
        yield path, data
        return
    inside = [p for p in all_paths if p.startswith(path + "/")]
    if inside:  # a Git-tracked metrics directory
        for child in sorted(inside):
            if child.endswith((".json", ".yaml", ".yml", ".toml")):
                yield child, files.read(child)
        return
    output = cached.by_path.get(path)
    if output is not None and output.is_dir:  # a cached metrics directory: every file
        entries = cached.manifest(output)
        if entries is None:
            yield path, None
            return
        for entry in entries:
            yield posixpath.join(path, entry.relpath), cached.read(output, entry.md5)
        return
    yield path, cached.file(path)


@dataclass(frozen=True)
class Image:
    """An image plot: listed with its size (None when only the cache holds it), never
    read whole."""

    size: int | None


def plot_documents(
    files: FileSource, state: ProjectState, read_cache: CacheReader | None
) -> tuple[dict[str, Any], list[tuple[Output, str]]]:
    """Every file the commit's plots read, by path: parsed data, an :class:`Image`, or
    an :class:`ExptuiError` saying why not (absent from Git and the local cache, too
    large, not parseable). From the commit's tree when Git tracks the file, else from
    the local cache through the outputs (a ``.dir`` manifest for DVCLive's ``dvclive/``).
    Also the cache objects found missing, which the DVC remote may have."""
    scratch = ProjectState(outputs=state.outputs)  # misses recorded here, not in state
    cached = _CachedFiles(scratch, read_cache)
    all_paths = list(files.paths())
    documents: dict[str, Any] = {}
    sources = dict.fromkeys(s for plot in state.plots for s in plot.sources)
    for source in sources:
        for path, data in _plot_files(files, all_paths, cached, source):
            documents[path] = _plot_document(path, data)
    return documents, scratch.uncached


def _plot_document(path: str, data: bytes | Image | None) -> Any:
    if isinstance(data, Image):
        return data
    if data is None:
        return ExptuiError("not in Git and not in the local cache")
    if path.lower().endswith(IMAGE_SUFFIXES):
        return Image(len(data))
    try:
        return parse_data(path, data)
    except ExptuiError as exc:
        return exc


def _plot_files(
    files: FileSource, all_paths: list[str], cached: _CachedFiles, source: str
) -> Iterator[tuple[str, bytes | Image | None]]:
    """(path, bytes) of each file ``source`` names: itself, or every data or image file
    under it when it is a directory (tracked by Git or a cached output)."""
    wanted = (*DATA_SUFFIXES, *IMAGE_SUFFIXES)
    data = files.read(source)
    if data is not None:
        yield source, data
        return
    inside = sorted(p for p in all_paths if p.startswith(source + "/"))
    if inside:
        yield from ((p, files.read(p)) for p in inside if p.lower().endswith(wanted))
        return
    output = cached.by_path.get(source) or _enclosing_output(source, cached.directories)
    if output is None or not output.is_dir:
        yield source, cached.file(source)
        return
    entries = cached.manifest(output)
    if entries is None:
        yield source, None
        return
    inner = source[len(output.path) :].strip("/")
    for entry in entries:
        if inner and entry.relpath != inner and not entry.relpath.startswith(inner + "/"):
            continue
        path = posixpath.join(output.path, entry.relpath)
        if path.lower().endswith(IMAGE_SUFFIXES):
            yield path, Image(None)
        elif path.lower().endswith(DATA_SUFFIXES):
            yield path, cached.read(output, entry.md5)


class _CachedFiles:
    """Files DVC caches, read from the local cache through the outputs of one commit: an
    output itself, or a file inside a directory output (``eval/metrics.json`` in ``outs:
    eval``, DVCLive's ``dvclive/``), as ``dvc exp show`` reads them. Every object found
    missing is recorded in ``state.uncached``: they can be fetched from the DVC remote."""

    def __init__(self, state: ProjectState, read_cache: CacheReader | None) -> None:
        self.state, self.read_cache = state, read_cache
        self.by_path = {o.path: o for o in state.outputs if o.oid and o.cache}
        self.directories = [o for o in self.by_path.values() if o.is_dir]

    def file(self, path: str) -> bytes | None:
        output = self.by_path.get(path) or _enclosing_output(path, self.directories)
        if output is None:
            return None
        if not output.is_dir:
            return self.read(output, output.oid or "")
        inner = path[len(output.path) + 1 :]
        found = [e for e in self.manifest(output) or [] if e.relpath == inner]
        return self.read(output, found[0].md5) if found else None

    def manifest(self, output: Output) -> list[ManifestEntry] | None:
        blob = self.read(output, output.oid or "")
        try:
            return None if blob is None else parse_manifest(blob, f"manifest of {output.path}")
        except ExptuiError:
            return None

    def read(self, output: Output, oid: str) -> bytes | None:
        data = self.read_cache(oid, output.legacy) if self.read_cache else None
        if data is None:
            self.state.uncached.append((output, oid))
        return data


def _enclosing_output(path: str, directories: list[Output]) -> Output | None:
    """The cached directory output a metrics file lives in: example-get-started declares
    ``metrics: eval/metrics.json`` inside ``outs: eval`` (DVC reads it from the .dir)."""
    for output in directories:
        if path.startswith(output.path + "/"):
            return output
    return None


def _parse_structured(path: str, data: bytes, state: ProjectState) -> Any:
    """Parse by extension: YAML, JSON, TOML; Python params files by their constants."""
    document, error = _parsed(_kind(path), data)
    if error is not None:
        state.warnings.append(f"{path}: {_reason(error, 'cannot parse')}")
        return None
    return document or {}


def _python_constants(source: str) -> dict[str, Any]:
    """A ``.py`` params file as DVC's reader returns it: module-level ``NAME = literal``
    and ``NAME: type = literal``, classes as nested mappings of their attributes and of
    the ``self.x = literal`` of their ``__init__``. Anything not a literal is skipped."""
    import ast

    return _python_values(ast.parse(source).body, only_self=False)


def _python_values(body: list[Any], only_self: bool) -> dict[str, Any]:
    import ast

    values: dict[str, Any] = {}
    for node in body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            name = _assigned_name(node, only_self)
            if name is None:
                continue
            try:
                values[name] = _literal(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
        elif isinstance(node, ast.ClassDef):
            values[node.name] = _python_values(node.body, only_self=False)
        elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
            values.update(_python_values(node.body, only_self=True))
    return values


def _assigned_name(node: Any, only_self: bool) -> str | None:
    """``x`` (not inside ``__init__``) or ``self.x``; DVC skips every other target."""
    import ast

    targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
    if len(targets) != 1:
        return None
    target = targets[0]
    if isinstance(target, ast.Name) and not only_self:
        return str(target.id)
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        return str(target.attr) if target.value.id == "self" else None
    return None


def _literal(value: Any) -> Any:
    """A literal as JSON holds it (tuples and sets as lists); ``x: int`` has none."""
    import ast

    if value is None:
        raise ValueError("an annotation without a value")
    result = ast.literal_eval(value)
    return list(result) if isinstance(result, (tuple, set, frozenset)) else result


def _only_scalars(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep int/float/str leaves inside nested dicts, as DVC's metrics show does."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            nested = _only_scalars(value)
            if nested:
                kept[str(key)] = nested
        elif isinstance(value, (int, float, str)):
            kept[str(key)] = value
    return kept


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted keys: ``{"loss": {"train": 1}}`` -> ``{"loss.train": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat
