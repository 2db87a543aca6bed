"""DVC configuration levels and Git remotes, resolved to plain descriptions (DVC_FORMAT §6).

DVC merges four INI files written by configobj: system, global, the repo's ``.dvc/config``
and the gitignored ``.dvc/config.local``. Later levels shadow earlier ones key by key. Keys
and remote names are lower-cased on load. Relative paths are relative to the file that holds
them; we always resolve the repo levels against the *real* ``<repo>/.dvc/`` (DVC resolves a
commit's config against a virtual ``/.dvc``, which is a quirk we must not copy).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configobj import ConfigObj, ConfigObjError

from core.errors import ConfigError
from core.redact import redact

_NAMED_SECTION = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')
_URL_SCHEME = re.compile(r"^\w+://")
# Keys DVC stores relative to the config file's directory (dvc/config.py RELPATH handling).
MAX_CONFIG_CHARS = 1 << 20  # a real DVC config is a few hundred bytes
MAX_EXPANDED = 64 << 10  # characters one config value may grow to through %(name)s
_REFERENCE = re.compile(r"%\(([^)]*)\)s")  # configobj's ConfigParser-style reference
_PATH_KEYS = frozenset(
    {
        "url",
        "credentialpath",
        "configpath",
        "keyfile",
        "cert_path",
        "key_path",
        "gdrive_service_account_json_file_path",
        "gdrive_user_credentials_file",
        "dir",
    }
)
Section = dict[str, str]
# Top-level plain sections ("core", "cache") map to "" as name; named ones to their name.
Merged = dict[tuple[str, str], Section]


@dataclass(frozen=True)
class ConfigFile:
    """One level's file: where it is and whether it exists."""

    level: str
    path: Path


@dataclass(frozen=True)
class DvcRemote:
    """A named DVC remote with its options (lower-cased keys, paths resolved)."""

    name: str
    url: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def shown_url(self) -> str:
        """The URL as it may be shown or written down: no password, no token."""
        return redact(self.url)

    @property
    def scheme(self) -> str:
        """``s3``, ``gs``, ``ssh``, ``http``, ..., or ``local`` for a path."""
        match = re.match(r"^(\w+)://", self.url)
        return match.group(1).lower() if match else "local"

    @property
    def is_cloud_versioned(self) -> bool:
        """Worktree and version-aware remotes use another layout; we refuse them."""
        return any(_is_true(self.options.get(k, "")) for k in ("worktree", "version_aware"))


@dataclass(frozen=True)
class DvcConfig:
    """The merged DVC configuration of a workspace (or of a commit plus the workspace)."""

    sections: Merged
    files: tuple[ConfigFile, ...]

    @property
    def default_remote_name(self) -> str | None:
        """``core.remote``, lower-cased as DVC compares it, or None."""
        name = self.sections.get(("core", ""), {}).get("remote")
        return name.lower() if name else None

    @property
    def remote_names(self) -> list[str]:
        return sorted(name for (kind, name) in self.sections if kind == "remote")

    def remote(self, name: str | None = None) -> DvcRemote:
        """The named remote, or the default one; a ConfigError says how to fix either."""
        wanted = (name or self.default_remote_name or "").lower()
        if not wanted:
            if self.remote_names:
                raise ConfigError(
                    "No default DVC remote is set.",
                    "Pick one with 'dvc remote default <name>' or pass -r/--remote "
                    f"({', '.join(self.remote_names)}).",
                )
            raise ConfigError(
                "No DVC remote is configured.",
                "Create a default remote with 'dvc remote add -d <name> <url>'.",
            )
        return self._resolve(wanted, seen=())

    def remotes(self) -> list[DvcRemote]:
        """Every remote that resolves; broken ones are left out (they fail when used)."""
        found = []
        for name in self.remote_names:
            try:
                found.append(self._resolve(name, seen=()))
            except ConfigError:
                continue
        return found

    def _resolve(self, name: str, seen: tuple[str, ...]) -> DvcRemote:
        section = self.sections.get(("remote", name))
        if section is None:
            raise ConfigError(
                f"DVC remote '{name}' doesn't exist.",
                f"Known remotes: {', '.join(self.remote_names) or 'none'}; "
                "add it with 'dvc remote add'.",
            )
        url = section.get("url")
        if not url:
            raise ConfigError(
                f"DVC remote '{name}' has no url.",
                "Only credentials may live in config.local; the url must be set somewhere.",
            )
        if url.startswith("remote://"):
            if name in seen:
                raise ConfigError(f"DVC remote '{name}' refers to itself through remote://.")
            base_name, _, sub = url[len("remote://") :].partition("/")
            base = self._resolve(base_name.lower(), (*seen, name))
            joined = base.url.rstrip("/") + ("/" + sub if sub else "")
            merged = {**base.options, **section, "url": joined}
            return DvcRemote(name, joined, merged)
        return DvcRemote(name, url, dict(section))


def _is_true(value: str) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes"}


def _platform_config_dirs() -> tuple[Path, Path]:
    """(system, global) directories as DVC's platformdirs use gives them."""
    home = Path.home()
    if sys.platform == "darwin":
        return Path("/Library/Application Support/dvc"), home / "Library/Application Support/dvc"
    if os.name == "nt":
        program_data = Path(os.environ.get("ALLUSERSPROFILE", r"C:\ProgramData"))
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData/Local"))
        return program_data / "iterative/dvc", local / "iterative/dvc"
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "").split(":")[0] or "/etc/xdg"
    xdg_home = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(xdg_dirs) / "dvc", Path(xdg_home) / "dvc"


def config_files(dvc_dir: Path) -> tuple[ConfigFile, ...]:
    """The four levels in merge order; the env overrides DVC honours are honoured."""
    system_dir, global_dir = _platform_config_dirs()
    system_dir = Path(os.environ.get("DVC_SYSTEM_CONFIG_DIR") or system_dir)
    global_dir = Path(os.environ.get("DVC_GLOBAL_CONFIG_DIR") or global_dir)
    return (
        ConfigFile("system", system_dir / "config"),
        ConfigFile("global", global_dir / "config"),
        ConfigFile("repo", dvc_dir / "config"),
        ConfigFile("local", dvc_dir / "config.local"),
    )


def parse_config_text(lines: Iterable[str], base_dir: Path, origin: str) -> Merged:
    """Parse one configobj file into ``{(kind, name): {key: value}}`` with paths resolved.
    An experiment commit's ``.dvc/config`` is untrusted: its size is bounded first."""
    lines = list(lines)
    if sum(len(line) + 1 for line in lines) > MAX_CONFIG_CHARS:
        raise ConfigError(
            f"DVC config {origin} is over {MAX_CONFIG_CHARS >> 20} MiB; no DVC config is.",
            "Check where it came from; exptui did not parse it.",
        )
    try:
        # DVC's own settings (configobj's defaults): quotes and escapes are undone, a
        # value with an unquoted comma is a list, %(name)s interpolates. Anything else
        # read '/x/st#hash' (which `dvc remote add` writes quoted) with its quotes on.
        parsed = ConfigObj(list(lines))
    except ConfigObjError as exc:
        # configobj quotes the offending line, and in config.local that line may hold a
        # password: only its number is shown.
        first = (getattr(exc, "errors", None) or [exc])[0]
        line = getattr(first, "line_number", None)
        where = f" at line {line}" if line else ""
        raise ConfigError(
            f"Cannot parse DVC config {origin}{where}.", "Fix the file or run 'dvc config'."
        ) from exc
    _check_expansion(parsed, origin)
    try:
        return _sections(parsed, base_dir, origin)
    except ConfigObjError as exc:  # interpolation happens on reading a value
        raise ConfigError(
            f"Cannot read DVC config {origin}: {type(exc).__name__} in a %(...)s reference.",
            "Fix the reference, or write a literal % as %%.",
        ) from exc


def _check_expansion(parsed: ConfigObj, origin: str) -> None:
    """``%(name)s`` references nest (configobj follows 10 levels) and may repeat: a few
    lines of a hostile commit's ``.dvc/config`` could expand to gigabytes when read (DVC
    would hang). Every value's expanded length is computed first, memoised, the way
    configobj looks names up (the section, its DEFAULT, then the parents), and refused
    over MAX_EXPANDED."""
    memo: dict[tuple[int, str], int] = {}

    def fetch(section: Any, name: str) -> tuple[Any, str] | None:
        while True:
            for holder in (section, dict.get(section, "DEFAULT") or {}):
                value = dict.get(holder, name)
                if isinstance(value, str):
                    return section, value
            if section.parent is section:
                return None
            section = section.parent

    def size(section: Any, name: str, raw: str, depth: int) -> int:
        key = (id(section), name)
        if key in memo or depth > 12:  # deeper than configobj goes: it raises anyway
            return memo.get(key, len(raw))
        memo[key] = len(raw)  # a loop counts once; configobj reports it on reading
        total = len(raw)
        for match in _REFERENCE.finditer(raw):
            found = fetch(section, match.group(1))
            if found is not None:
                holder, text = found
                total += size(holder, match.group(1), text, depth + 1) - len(match[0])
            if total > MAX_EXPANDED:
                raise ConfigError(
                    f"DVC config {origin}: '{name}' expands beyond {MAX_EXPANDED >> 10} KiB "
                    "through %(...)s references.",
                    "Remove the references; no DVC setting needs a value that long.",
                )
        memo[key] = total
        return total

    def walk(section: Any) -> None:
        for name, value in dict.items(section):
            if isinstance(value, dict):
                walk(value)
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and "%(" in text:
                    size(section, name, text, 0)

    walk(parsed)


def _sections(parsed: ConfigObj, base_dir: Path, origin: str) -> Merged:
    result: Merged = {}
    for header, values in parsed.items():
        if not isinstance(values, Mapping):
            continue  # a key outside any section: configobj allows it, DVC ignores it
        key = _section_key(header)
        section = result.setdefault(key, {})
        for raw_key, raw_value in values.items():
            if isinstance(raw_value, Mapping):
                continue
            name = raw_key.lower()
            value = _text(raw_value, name, header, origin)
            if name in _PATH_KEYS and key[0] in {"remote", "cache"}:
                value = _resolve_path(value, base_dir)
            section[name] = value
    return result


def _text(value: object, name: str, header: str, origin: str) -> str:
    """A value as exptui keeps it: text. A list (an unquoted comma) is joined back, as
    DVC reads ``cache.type = hardlink,symlink``; where DVC wants one path or URL, a list
    is refused, as DVC's schema refuses it."""
    if not isinstance(value, list):
        return str(value)
    if name in _PATH_KEYS:
        raise ConfigError(
            f"'{name}' in [{header}] of DVC config {origin} holds a comma outside quotes.",
            "Quote the value, as 'dvc remote modify' writes it.",
        )
    return ",".join(str(item) for item in value)


def _section_key(header: str) -> tuple[str, str]:
    text = header.strip()
    if len(text) > 1 and text[0] == text[-1] == "'":
        text = text[1:-1]  # configobj strips these; be lenient with hand-written files
    named = _NAMED_SECTION.match(text)
    if named:
        return named.group(1).lower(), named.group(2).lower()
    return text.lower(), ""


def _resolve_path(value: str, base_dir: Path) -> str:
    """Relative paths are relative to the config file's directory; URLs stay as they are."""
    if _URL_SCHEME.match(value) or value.startswith("remote://"):
        return value
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return os.path.normpath(expanded)
    return os.path.normpath(os.path.join(base_dir, expanded))


def merge(levels: Iterable[Merged]) -> Merged:
    """Key-by-key deep merge: later levels shadow earlier ones."""
    merged: Merged = {}
    for level in levels:
        for key, section in level.items():
            merged.setdefault(key, {}).update(section)
    return merged


def load_dvc_config(dvc_dir: Path, repo_config_text: str | None = None) -> DvcConfig:
    """Merge system, global, repo and local config for the workspace at ``dvc_dir``.

    ``repo_config_text`` replaces the repo level: it is how an experiment commit's own
    ``.dvc/config`` is combined with the workspace's ``config.local`` (DVC_FORMAT §6.3).
    Relative paths in it still resolve against the real ``dvc_dir``.
    """
    files = config_files(dvc_dir)
    levels = []
    for cfg in files:
        if cfg.level == "repo" and repo_config_text is not None:
            levels.append(parse_config_text(repo_config_text.splitlines(), dvc_dir, str(cfg.path)))
            continue
        text = _read_optional(cfg.path)
        if text is not None:
            levels.append(parse_config_text(text.splitlines(), cfg.path.parent, str(cfg.path)))
    return DvcConfig(merge(levels), files)


def _read_optional(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"Cannot read DVC config {path}: {exc}", "Check its permissions."
        ) from exc


@dataclass(frozen=True)
class GitRemote:
    """A Git remote from ``.git/config``."""

    name: str
    url: str
