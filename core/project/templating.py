"""DVC's templating of ``dvc.yaml``, resolved as DVC 3.x resolves it (``dvc/parsing``).

Stage names (``train@0``, ``grid@x-1``), output paths (``${out_dir}/model.pkl``) and so
which objects push and pull move exist only after resolution: reading the raw document
missed every templated output, and a push then moved less than DVC without a word.

What DVC does, and so what this does (DVC_FORMAT §4):

- The context of a ``dvc.yaml`` is its directory's ``params.yaml`` (whole, when present),
  then the top-level ``vars`` in order: files (``config.yaml``, ``config.yaml:train,data``
  for some top-level keys) relative to the ``dvc.yaml``'s directory, and inline mappings.
  Mappings merge recursively; a value defined twice is an error, not an override.
- ``${a.b}``, ``${a[0]}``, ``${ a }``. A string that is exactly one ``${...}`` takes the
  value's own type (``${flag}`` is a boolean); otherwise the values are written into the
  string, booleans as ``true``/``false``. ``\\${`` is a literal ``${``. Only ``cmd`` may
  interpolate a mapping (as ``--key value`` arguments); lists and mappings are refused
  elsewhere. Keys of mappings are resolved too (``outs: [${dir}/a: {cache: false}]``).
- A stage resolves its ``wdir`` first, then loads its own ``vars`` relative to it (they
  may not redefine anything either), then every field.
- ``foreach`` over a list or mapping (literal or ``${...}``) makes ``name@key`` stages:
  a mapping's keys, a list of scalars' values, else a list's indices; ``${item}`` and
  ``${key}``. ``matrix`` makes every combination, named by the values joined with ``-``
  (``x-1``), a composite value by its axis and index (``cfg0``).
- Values of vars *files* other than the params files a stage reads are "tracked":
  ``dvc exp show`` lists them among the params with dotted keys (``{"train.dir": ...}``).

Hostile input is bounded: a matrix of ten 10-item axes would be 10^10 stages and
``${big}`` repeated a million times gigabytes, so generated stages and resolved text
have limits far above real projects, and reaching one is an error for that file.
"""

from __future__ import annotations

import itertools
import math
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import UnsafePathError
from core.workspace.paths import confine

MAX_GENERATED_STAGES = 50_000
MAX_RESOLVED_UNITS = 64 << 20  # characters of interpolated text plus values copied

DEFAULT_PARAMS = "params.yaml"
_KEY = re.compile(r"(?<!\\)\${(?P<inner>.*?)}")  # DVC's pattern, non-greedy, one line
_WORD = r"\s*[^.\[\]\s][^.\[\]]*"
_EXPRESSION = re.compile(rf"{_WORD}(?:\.{_WORD}|\[{_WORD}\])*\s*")
_PRIMITIVES = (int, float, str, bytes, bool)

VarsReader = Callable[[str], Any]
"""Repository path -> the parsed document, or None when the file is absent; raises
:class:`TemplateError` when it cannot be read."""


class TemplateError(ValueError):
    """Why a part of a ``dvc.yaml`` cannot be resolved, in DVC's words where it has them."""


@dataclass(frozen=True)
class ResolvedPipeline:
    """One ``dvc.yaml`` after templating: what DVC's index sees."""

    stages: dict[str, dict[str, Any]]
    params: list[Any]
    metrics: list[Any]
    plots: list[Any]
    tracked: dict[str, dict[str, Any]]  # vars file -> {dotted key: value} the stages used
    errors: list[str]


# -- the context: values that remember the file they came from ----------------------------


@dataclass(frozen=True)
class _Origin:
    file: str | None  # None: written in dvc.yaml itself, or made by foreach (never tracked)
    path: tuple[str, ...] = ()

    def child(self, key: object) -> _Origin:
        return _Origin(self.file, (*self.path, str(key)))


@dataclass
class _Leaf:
    value: Any
    origin: _Origin


@dataclass
class _Map:
    items: dict[str, _Node]
    origin: _Origin


@dataclass
class _Seq:
    items: list[_Node]
    origin: _Origin


_Node = _Leaf | _Map | _Seq


def _wrap(value: Any, origin: _Origin) -> _Node:
    """A value as context nodes. Non-string keys are dropped, as DVC's context drops
    them (they cannot be named in ``${...}``)."""
    if isinstance(value, (_Leaf, _Map, _Seq)):
        return value
    if value is None or isinstance(value, _PRIMITIVES):
        return _Leaf(value, origin)
    if isinstance(value, Mapping):
        return _Map(
            {k: _wrap(v, origin.child(k)) for k, v in value.items() if isinstance(k, str)},
            origin,
        )
    if isinstance(value, (list, tuple)):
        return _Seq([_wrap(v, origin.child(i)) for i, v in enumerate(value)], origin)
    raise TemplateError(f"unsupported value of type '{type(value).__name__}'")


def _unwrap(node: _Node) -> Any:
    if isinstance(node, _Leaf):
        return node.value
    if isinstance(node, _Map):
        return {k: _unwrap(v) for k, v in node.items.items()}
    return [_unwrap(v) for v in node.items]


def _copy_maps(node: _Map) -> _Map:
    """A copy whose mappings can be merged into; lists are never changed, so shared."""
    return _Map(
        {k: _copy_maps(v) if isinstance(v, _Map) else v for k, v in node.items.items()},
        node.origin,
    )


def _merge(into: _Map, update: _Map) -> None:
    for key, value in update.items.items():
        existing = into.items.get(key)
        if isinstance(existing, _Map) and isinstance(value, _Map):
            _merge(existing, value)
        elif existing is not None:
            where = existing.origin.file or "dvc.yaml"
            raise TemplateError(
                f"cannot redefine '{'.'.join(value.origin.path) or key}' from "
                f"'{value.origin.file or 'vars'}' as it already exists in '{where}'"
            )
        else:
            into.items[key] = value


@dataclass
class _Context:
    root: _Map = field(default_factory=lambda: _Map({}, _Origin(None)))
    imports: dict[str, list[str] | None] = field(default_factory=dict)
    reserved: frozenset[str] = frozenset()

    def clone(self) -> _Context:
        imports = {k: list(v) if v is not None else None for k, v in self.imports.items()}
        return _Context(_copy_maps(self.root), imports, self.reserved)

    def with_values(self, values: Mapping[str, Any]) -> _Context:
        """``item``/``key`` of a generated stage: set over whatever the vars hold, and
        reserved so the stage's own ``vars`` cannot redefine them."""
        items = dict(self.root.items)
        for key, value in values.items():
            items[key] = _wrap(value, _Origin(None, (key,)))
        return _Context(_Map(items, self.root.origin), self.imports, frozenset(values))

    def merge(self, update: _Map, source: str) -> None:
        clash = sorted(self.reserved & update.items.keys())
        if clash:
            raise TemplateError(
                f"attempted to modify reserved key{'s' if len(clash) > 1 else ''} "
                f"{', '.join(clash)} in '{source}'"
            )
        _merge(self.root, update)

    def select(self, expression: str) -> _Node:
        node: _Node = self.root
        for part in expression.replace("[", ".").replace("]", "").split("."):
            index = part.strip()
            try:
                if isinstance(node, _Map):
                    node = node.items[index]
                elif isinstance(node, _Seq):
                    node = node.items[int(index)]
                else:
                    raise KeyError(index)
            except (KeyError, IndexError, ValueError):
                raise TemplateError(f"Could not find '{expression}'") from None
        return node


# -- interpolation --------------------------------------------------------------------------


def _check_syntax(value: Any) -> None:
    """Every ``${...}`` in a definition (keys too) must be a well-formed expression."""
    for text in _strings(value):
        for match in _KEY.finditer(text):
            if not _EXPRESSION.fullmatch(match["inner"]):
                raise TemplateError(f"invalid expression '{match[0]}'")


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _as_arguments(value)
    return str(value)


def _as_arguments(value: Mapping[str, Any]) -> str:
    """A mapping written into ``cmd``: DVC's default ``--key value`` form (the
    ``parsing`` config's alternatives only change ``cmd``, which exptui never runs)."""
    import shlex

    from core.project.dvcfiles import flatten

    words: list[str] = []
    for key, item in flatten(value).items():
        if isinstance(item, bool):
            words += [f"--{key}"] if item else []
        elif isinstance(item, str):
            words += [f"--{key}", shlex.quote(item)]
        elif isinstance(item, (list, tuple, dict)):
            if any(isinstance(i, (list, tuple, dict)) for i in item):
                raise TemplateError(f"Cannot interpolate nested iterable in '{key}'")
            quoted = [shlex.quote(i) if isinstance(i, str) else str(i) for i in item]
            words += [f"--{key}", *quoted] if quoted else []
        else:
            words += [f"--{key}", str(item)]
    return " ".join(words)


def _check_value(value: Any, key: str | None) -> None:
    if value is None or isinstance(value, _PRIMITIVES) or key is None or "foreach" in key:
        return
    if isinstance(value, dict) and key == "cmd":
        return
    raise TemplateError(f"Cannot interpolate data of type '{type(value).__name__}'")


class _Resolution:
    """One field's resolution: the context, the field's name (DVC's checks depend on
    it), the budget, and where used values from vars files are recorded."""

    def __init__(
        self,
        context: _Context,
        budget: _Budget,
        key: str | None = None,
        tracked: dict[str, dict[str, Any]] | None = None,
        unwrap: bool = True,
    ) -> None:
        self.context, self.budget, self.key = context, budget, key
        self.tracked, self.unwrap = tracked, unwrap

    def value(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.string(data)
        if isinstance(data, Mapping):
            self.budget.spend(len(data))
            return {self.value(k): self.value(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            self.budget.spend(len(data))
            return [self.value(v) for v in data]
        return data

    def string(self, text: str) -> Any:
        matches = list(_KEY.finditer(text))
        if len(matches) == 1 and matches[0][0] == text:
            node = self._select(matches[0]["inner"])
            self.budget.spend(_size(node))
            value = _unwrap(node)
            _check_value(value, self.key)
            return value if self.unwrap else node
        if not matches:
            return text.replace("\\${", "${") if "\\${" in text else text
        parts, index = [], 0
        for match in matches:
            value = _unwrap(self._select(match["inner"]))
            _check_value(value, self.key)
            parts += [text[index : match.start()], _to_str(value)]
            index = match.end()
        parts.append(text[index:])
        joined = "".join(parts).replace("\\${", "${")
        self.budget.spend(len(joined))
        return joined

    def _select(self, expression: str) -> _Node:
        node = self.context.select(expression)
        if self.tracked is not None and node.origin.file and not isinstance(node, _Map):
            dotted = ".".join(node.origin.path)
            self.tracked.setdefault(node.origin.file, {})[dotted] = _unwrap(node)
        return node


def _size(node: _Node) -> int:
    if isinstance(node, _Leaf):
        return len(node.value) if isinstance(node.value, (str, bytes)) else 1
    children = node.items.values() if isinstance(node, _Map) else node.items
    return 1 + sum(_size(child) for child in children)


@dataclass
class _Budget:
    units: int = 0
    stages: int = 0

    def spend(self, units: int) -> None:
        self.units += units
        if self.units > MAX_RESOLVED_UNITS:
            raise TemplateError(
                f"templating expands beyond {MAX_RESOLVED_UNITS >> 20} MiB of values; "
                "refusing to resolve it"
            )

    def add_stages(self, count: int) -> None:
        self.stages += count
        if self.stages > MAX_GENERATED_STAGES:
            raise TemplateError(
                f"foreach/matrix generate more than {MAX_GENERATED_STAGES:,} stages; "
                "refusing to resolve them"
            )


# -- the resolver ---------------------------------------------------------------------------


class _Resolver:
    def __init__(self, base: str, read: VarsReader) -> None:
        self.base, self.read = base, read
        self.budget = _Budget()

    def load_vars(self, context: _Context, items: Any, wdir: str, where: str) -> None:
        if not isinstance(items, list):
            raise TemplateError(f"'{where}' must be a list")
        for index, item in enumerate(items):
            if any(_KEY.search(text) for text in _strings(item)):
                raise TemplateError(f"'{where}': interpolating is not allowed")
            if isinstance(item, str):
                self.merge_file(context, item, wdir)
            elif isinstance(item, Mapping):
                source = f"{where}[{index}]"
                context.merge(_wrap(item, _Origin(None)), source)  # type: ignore[arg-type]
            else:
                raise TemplateError(f"'{where}[{index}]' must be a file name or a mapping")

    def merge_file(self, context: _Context, item: str, wdir: str) -> None:
        """``file`` or ``file:key1,key2``, relative to ``wdir``, as DVC's ``merge_from``."""
        name, _, keys_text = item.partition(":")
        path = _join(wdir, name)
        keys = [k for k in keys_text.split(",") if k] or None
        if path in context.imports:
            loaded = context.imports[path]
            if keys is None and loaded is None:
                return  # the same whole file twice: allowed
            if keys is None or loaded is None or set(keys) & set(loaded):
                how = "partially load" if keys and loaded is None else "load"
                raise TemplateError(f"cannot {how} '{item}' as it's already loaded")
        document = self.read(path)
        if document is None:
            raise TemplateError(f"'{path}' does not exist")
        if not isinstance(document, Mapping):
            raise TemplateError(
                f"expected a dictionary, got '{type(document).__name__}' in file '{path}'"
            )
        if keys is not None:
            missing = [k for k in keys if k not in document]
            if missing:
                raise TemplateError(f"could not find '{missing[0]}' in '{path}'")
            document = {k: document[k] for k in keys}
        context.merge(_wrap(document, _Origin(path)), item)  # type: ignore[arg-type]
        earlier = context.imports.get(path)
        context.imports[path] = [*earlier, *keys] if earlier and keys else keys

    def stage(
        self, context: _Context, name: str, definition: Any, tracked: dict[str, Any]
    ) -> dict[str, Any]:
        """One entry stage (or one generated from a template), as DVC's resolve_stage."""
        if not isinstance(definition, Mapping):
            raise TemplateError(f"stage '{name}' must be a mapping")
        definition = dict(definition)
        wdir = self.base
        if definition.get("wdir"):
            raw = _Resolution(context, self.budget).string(str(definition["wdir"]))
            wdir = posixpath.join(self.base, _to_str(raw))
        stage_vars = definition.pop("vars", [])
        if stage_vars:
            context = context.clone()
            self.load_vars(context, stage_vars, wdir, f"stages.{name}.vars")
        resolved: dict[str, Any] = {}
        for key, value in definition.items():
            resolution = _Resolution(context, self.budget, key=key, tracked=tracked)
            try:
                resolved[key] = resolution.value(value)
            except TemplateError as exc:
                raise TemplateError(f"'stages.{name}.{key}': {exc}") from None
        return resolved

    def group(
        self, context: _Context, name: str, definition: Mapping[str, Any]
    ) -> Iterator[tuple[str, _Context, Any]]:
        """The stages a ``foreach`` or ``matrix`` generates: (name, context, template)."""
        if "matrix" in definition:
            template = {k: v for k, v in definition.items() if k != "matrix"}
            members = self._matrix(context, name, definition["matrix"])
            for key, item in members:
                yield f"{name}@{key}", context.with_values({"key": key, "item": item}), template
            return
        if "do" not in definition:
            raise TemplateError(f"stage '{name}': 'foreach' needs a 'do' template")
        for key, values in self._foreach(context, name, definition["foreach"]):
            yield f"{name}@{key}", context.with_values(values), definition["do"]

    def _foreach(
        self, context: _Context, name: str, data: Any
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        iterable = _Resolution(context, self.budget, unwrap=False).value(data)
        if isinstance(iterable, (_Leaf, str, int, float, bool)):
            shown = type(iterable.value if isinstance(iterable, _Leaf) else iterable).__name__
            raise TemplateError(
                f"failed to resolve 'stages.{name}.foreach': expected list/dictionary, got {shown}"
            )
        if isinstance(iterable, (_Map, dict)):
            items = iterable.items if isinstance(iterable, _Map) else iterable
            self.budget.add_stages(len(items))
            for key, value in items.items():
                yield _to_str(key), {"item": value, "key": _to_str(key)}
            return
        members = iterable.items if isinstance(iterable, _Seq) else list(iterable)
        self.budget.add_stages(len(members))
        composite = any(_is_composite(m) for m in members)
        for index, member in enumerate(members):
            yield (str(index) if composite else _key_text(member)), {"item": member}

    def _matrix(
        self, context: _Context, name: str, data: Any
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        axes = _Resolution(context, self.budget, unwrap=False).value(data)
        if isinstance(axes, _Map):
            axes = axes.items
        if not isinstance(axes, Mapping):
            raise TemplateError(f"'stages.{name}.matrix' must be a mapping of lists")
        values: dict[str, list[Any]] = {}
        for axis, members in axes.items():
            if isinstance(members, _Seq):
                members = members.items
            if not isinstance(members, list):
                raise TemplateError(f"'stages.{name}.matrix.{axis}' must be a list")
            values[str(axis)] = members
        self.budget.add_stages(math.prod(len(m) for m in values.values()))
        indexed = [list(enumerate(m)) for m in values.values()]
        for combination in itertools.product(*indexed):
            item, fragments = {}, []
            for axis, (index, member) in zip(values, combination, strict=True):
                item[axis] = member
                composite = _is_composite(member)
                fragments.append(f"{axis}{index}" if composite else _key_text(member))
            yield "-".join(fragments), item


def _is_composite(value: Any) -> bool:
    return isinstance(value, (_Map, _Seq, Mapping, list, tuple))


def _key_text(member: Any) -> str:
    """A generated stage's key from a scalar. DVC writes a literal ``true`` as "true" but
    a boolean taken from a params file (still wrapped in its context node) as "True"."""
    return str(member.value) if isinstance(member, _Leaf) else _to_str(member)


def _join(wdir: str, name: str) -> str:
    try:
        return confine(posixpath.normpath(posixpath.join(wdir, name)) or ".", "")
    except UnsafePathError:
        raise TemplateError(f"'{name}' is outside the repository") from None


# -- entry point ----------------------------------------------------------------------------


def resolve_pipeline(
    document: Mapping[str, Any], base: str, read: VarsReader, templated: bool = True
) -> ResolvedPipeline:
    """Every stage of one ``dvc.yaml`` (in directory ``base``) with its templating
    resolved; a stage (or group) that cannot be resolved is left out and named in
    ``errors``, as is the whole file when its ``vars`` cannot be loaded.

    ``templated=False`` says the caller knows the file uses no templating: its stages are
    taken as written (2,000 commits of a 50-stage pipeline read 2.4x slower resolved),
    and only the params file DVC always loads is checked."""
    if not templated:
        return _as_written(document, base, read)
    resolver = _Resolver(base, read)
    context = _Context()
    errors: list[str] = []
    tracked: dict[str, dict[str, Any]] = {}
    stages: dict[str, dict[str, Any]] = {}
    try:
        if read(_join(base, DEFAULT_PARAMS)) is not None:
            resolver.merge_file(context, DEFAULT_PARAMS, base)
        resolver.load_vars(context, document.get("vars") or [], base, "vars")
    except TemplateError as exc:
        return ResolvedPipeline({}, [], [], [], {}, [f"'vars': {exc}"])
    raw_stages = document.get("stages")
    for name, definition in (raw_stages if isinstance(raw_stages, Mapping) else {}).items():
        try:
            _resolve_entry(resolver, context, str(name), definition, stages, tracked)
        except TemplateError as exc:
            errors.append(f"stage '{name}': {exc}")
    tops: dict[str, list[Any]] = {}
    for section in ("params", "metrics", "plots"):
        items = document.get(section)
        tops[section] = []
        for index, item in enumerate(items if isinstance(items, list) else []):
            try:
                _check_syntax(item)
                tops[section].append(_Resolution(context, resolver.budget).value(item))
            except TemplateError as exc:
                errors.append(f"'{section}.{index}': {exc}")
    return ResolvedPipeline(stages, tops["params"], tops["metrics"], tops["plots"], tracked, errors)


def _resolve_entry(
    resolver: _Resolver,
    context: _Context,
    name: str,
    definition: Any,
    stages: dict[str, dict[str, Any]],
    tracked: dict[str, dict[str, Any]],
) -> None:
    _check_syntax(definition)
    if isinstance(definition, Mapping) and ("foreach" in definition or "matrix" in definition):
        for generated, member_context, template in list(resolver.group(context, name, definition)):
            used: dict[str, Any] = {}
            stages[generated] = resolver.stage(member_context, generated, template, used)
            _record(tracked, used)
        return
    resolver.budget.add_stages(1)
    used = {}
    stages[name] = resolver.stage(context, name, definition, used)
    _record(tracked, used)


def _record(tracked: dict[str, dict[str, Any]], used: Mapping[str, Mapping[str, Any]]) -> None:
    for file, values in used.items():
        tracked.setdefault(file, {}).update(values)


def _as_written(document: Mapping[str, Any], base: str, read: VarsReader) -> ResolvedPipeline:
    """A dvc.yaml without templating: what it says, once DVC's one load succeeds (its
    directory's params.yaml, which DVC reads for every dvc.yaml and refuses when broken)."""
    errors: list[str] = []
    try:
        params = read(_join(base, DEFAULT_PARAMS))
        if params is not None and not isinstance(params, Mapping):
            raise TemplateError(
                f"expected a dictionary, got '{type(params).__name__}' in file "
                f"'{_join(base, DEFAULT_PARAMS)}'"
            )
    except TemplateError as exc:
        return ResolvedPipeline({}, [], [], [], {}, [f"'vars': {exc}"])
    raw = document.get("stages")
    stages = {
        str(name): dict(stage)
        for name, stage in (raw if isinstance(raw, Mapping) else {}).items()
        if isinstance(stage, Mapping)
    }
    errors += [
        f"stage '{name}' must be a mapping"
        for name, stage in (raw if isinstance(raw, Mapping) else {}).items()
        if not isinstance(stage, Mapping)
    ]
    tops = {
        section: list(document.get(section) or [])
        if isinstance(document.get(section), list)
        else []
        for section in ("params", "metrics", "plots")
    }
    return ResolvedPipeline(stages, tops["params"], tops["metrics"], tops["plots"], {}, errors)
