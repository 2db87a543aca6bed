"""One connection to one Git remote, with the behaviour users expect from ``git`` itself.

This is the only module that talks to dulwich's client layer, so API drift stays here.
Remote names resolve through the repository's Git config; the full config stack (repo,
user, system) is passed on so ``url.<base>.insteadOf``, ``core.sshCommand`` and ``http.*``
work as in git (DVC ignores the repo level: DVC_FORMAT §8.2). SSH goes through the system
OpenSSH client, so ``~/.ssh/config``, ProxyJump and the agent behave as for ``git``. Every
network call has a timeout, and every failure becomes a typed error with a hint.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dulwich.client import (
    GitClient,
    HTTPUnauthorized,
    LocalGitClient,
    SendPackResult,
    TCPGitClient,
    get_transport_and_path,
)
from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
from dulwich.objects import ObjectID
from dulwich.refs import Ref
from dulwich.repo import BaseRepo, Repo

if TYPE_CHECKING:
    from dulwich.client import DetermineWantsFunc

from core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RemoteError,
    UnknownRemoteError,
    UnreachableRemoteError,
)
from core.git.ids import oid
from core.git.localcopy import copy_commits
from core.git.refstore import read_namespace
from core.project.repo import Repository
from core.redact import redact
from core.stopping import Stop, never

DEFAULT_TIMEOUT = 20.0
MAX_PROMPTS = 3
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_UNREACHABLE_SIGNS = (
    "Connection refused",
    "Max retries exceeded",
    "timed out",
    "Name or service not known",
    "No route to host",
)
_SCP_RE = re.compile(r"^(?:[^@/]+@)?[^/:]+:(?!//)")

Credentials = tuple[str, str]
CredentialPrompt = Callable[[str], "Credentials | None"]
"""Asked for a username and password for a URL when helpers have none; None gives up."""


@dataclass(frozen=True)
class GitRemoteSpec:
    """A Git remote as the user named it, and the URL it resolves to."""

    name: str | None
    url: str

    @property
    def shown_url(self) -> str:
        """The URL as it may be shown or written down: no password, no token."""
        return redact(self.url)

    @property
    def display(self) -> str:
        return self.name or self.shown_url

    @cached_property
    def key(self) -> str:
        """A filesystem- and ref-safe key for caches and peek refs (never a secret); kept,
        as every peeked experiment's ref name starts with it."""
        raw = self.name or self.shown_url
        return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or "remote"


def resolve_remote(repo: Repository, name_or_url: str) -> GitRemoteSpec:
    """A configured remote name, a URL (any scheme, or scp-style), or an existing path."""
    for remote in repo.git_remotes():
        if remote.name == name_or_url:
            return GitRemoteSpec(remote.name, remote.url)
    if _URL_RE.match(name_or_url) or _SCP_RE.match(name_or_url):
        return GitRemoteSpec(None, name_or_url)
    path = Path(name_or_url).expanduser()
    if path.exists():
        return GitRemoteSpec(None, str(path.resolve()))
    known = ", ".join(r.name for r in repo.git_remotes()) or "none"
    raise UnknownRemoteError(
        f"'{name_or_url}' is not a valid Git remote or URL.",
        f"Known remotes: {known}. Add one with 'git remote add NAME URL'.",
    )


def default_remote(repo: Repository) -> str | None:
    """``origin`` when it exists, else the first Git remote, else None."""
    names = [r.name for r in repo.git_remotes()]
    return "origin" if "origin" in names else (names[0] if names else None)


def ssh_command(repo: Repository) -> str:
    """The ssh command git would use, plus options that make failures fast and quiet.

    ``GIT_SSH_COMMAND`` wins, then ``GIT_SSH``, then ``core.sshCommand``, then ``ssh``.
    BatchMode turns a password prompt (which would fight the app for the terminal) into a
    clear failure; ControlMaster lets one batch share one handshake.
    """
    base = os.environ.get("GIT_SSH_COMMAND")
    if not base and os.environ.get("GIT_SSH"):
        base = shlex.quote(os.environ["GIT_SSH"])
    if not base:
        try:
            base = repo.git.get_config_stack().get((b"core",), b"sshCommand").decode()
        except KeyError:
            base = "ssh"
    control_dir = Path(tempfile.gettempdir()) / f"exptui-ssh-{os.getuid()}"
    control_dir.mkdir(mode=0o700, exist_ok=True)
    options = [
        "BatchMode=yes",
        f"ConnectTimeout={int(DEFAULT_TIMEOUT)}",
        "ServerAliveInterval=10",
        "ServerAliveCountMax=3",
        "ControlMaster=auto",
        f"ControlPath={control_dir}/%C",
        "ControlPersist=60",
    ]
    return base + "".join(f" -o {option}" for option in options)


class Connection:
    """A client for one remote, used for a whole operation (one handshake per batch)."""

    def __init__(
        self,
        repo: Repository,
        spec: GitRemoteSpec,
        timeout: float = DEFAULT_TIMEOUT,
        prompt: CredentialPrompt | None = None,
    ) -> None:
        self.repo = repo
        self.spec = spec
        self.timeout = timeout
        self.prompt = prompt
        self._credentials: Credentials | None = None
        self._prompts = 0
        self._client, self._path = self._open()

    def _open(self, credentials: Credentials | None = None) -> tuple[GitClient, str]:
        config = self.repo.git.get_config_stack()
        kwargs: dict[str, Any] = {"config": config}
        if credentials:
            kwargs["username"], kwargs["password"] = credentials
        try:
            client, path = get_transport_and_path(
                self.spec.url, ssh_command=ssh_command(self.repo), **kwargs
            )
        except ValueError as exc:
            raise UnknownRemoteError(
                f"'{self.spec.display}' is not a Git URL dulwich can use: {exc}",
                "Check the remote's URL with 'git remote -v'.",
            ) from exc
        if isinstance(client, TCPGitClient):
            client = _TimeoutTCPClient(client._host, client._port, timeout=self.timeout)
        elif hasattr(client, "_timeout"):
            client._timeout = self.timeout  # urllib3 client: per-request timeout
        return client, path

    @property
    def is_local(self) -> bool:
        return isinstance(self._client, LocalGitClient)

    def ls_refs(self, prefix: str = "refs/exps/") -> dict[str, str]:
        """The remote's refs under ``prefix``, from one advertisement, filtered here
        because ``ref_prefix`` is only a hint to some servers. Names are decoded with
        ``surrogateescape`` (whatever bytes a remote sends survive, to be refused later)."""
        if self.is_local:
            with _translated_errors(self.spec, "list"), Repo(self._path) as remote:
                return read_namespace(remote, prefix)  # not dulwich's reader: see refstore
        wanted = prefix.encode()
        result = self._call(lambda c, p: c.get_refs(p.encode(), ref_prefix=[wanted]), "list")
        refs = result.refs if hasattr(result, "refs") else result
        return {
            ref.decode("utf-8", "surrogateescape"): sha.decode("ascii", "replace")
            for ref, sha in refs.items()
            if ref.startswith(wanted) and sha
        }

    def send_pack(
        self,
        update_refs: Callable[[dict[Ref, ObjectID]], dict[Ref, ObjectID]],
        generate_pack_data: Callable[..., Any],
    ) -> SendPackResult:
        return self._call(
            lambda c, p: c.send_pack(p.encode(), update_refs, generate_pack_data), "push"
        )

    def fetch_commits(self, repo: Repository, shas: Collection[str], stopped: Stop = never) -> None:
        """The commits ``shas`` (and what they need) into ``repo``: from a path remote
        by walking its objects (see ``core.git.localcopy``; ``stopped`` ends the walk or
        aborts its pack), from a server by one fetch of exactly these."""
        if self.is_local:
            with _translated_errors(self.spec, "fetch"), Repo(self._path) as remote:
                copy_commits(remote, repo, shas, stopped)
            return

        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            return sorted(oid(sha) for sha in shas)

        self._call(
            lambda c, p: c.fetch(
                p.encode(), repo.git, determine_wants=wants, ref_prefix=[b"refs/exps/"]
            ),
            "fetch",
        )

    def fetch_all(self, target: BaseRepo) -> None:
        """Every branch and tag into ``target`` (an import source's clone)."""

        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            heads = (b"refs/heads/", b"refs/tags/")
            tips = {sha for ref, sha in refs.items() if ref.startswith(heads)}
            return sorted(sha for sha in tips if sha not in target.object_store)

        self._fetch_with(target, wants)

    def fetch_commit(self, target: BaseRepo, sha: str) -> None:
        """One commit by its id, for servers that allow unadvertised wants."""

        def wants(refs: Mapping[Ref, ObjectID], depth: int | None = None) -> list[ObjectID]:
            return [oid(sha)]

        self._fetch_with(target, wants)

    def _fetch_with(self, target: BaseRepo, wants: DetermineWantsFunc) -> None:
        self._call(lambda c, p: c.fetch(p.encode(), target, determine_wants=wants), "fetch")

    def _call(self, action: Callable[[GitClient, str], Any], verb: str) -> Any:
        """Run ``action``; on HTTP 401 get credentials as git would and try again."""
        while True:
            try:
                with _translated_errors(self.spec, verb):
                    return action(self._client, self._path)
            except _NeedCredentials as need:
                self._credentials = self._next_credentials(need.url)
                self._client, self._path = self._open(self._credentials)

    def _next_credentials(self, url: str) -> Credentials:
        """Helpers first, then the prompt (at most three times). Credentials that were
        already sent and got a 401 are refused: helpers are told to forget them."""
        refused = self._credentials is not None or bool(urlsplit(self.spec.url).password)
        if refused and self._credentials:
            self._helper("reject", self._credentials)
        found = None if refused else self._helper("fill")
        if found is None and self.prompt is not None and self._prompts < MAX_PROMPTS:
            self._prompts += 1
            found = self.prompt(self.spec.url)
        if found is not None:
            return found
        if refused:
            raise AuthenticationError(
                f"Git remote '{self.spec.display}' refused the credentials.",
                "Check the username and token (tokens go in the password field).",
            )
        raise AuthenticationError(
            f"Git remote '{self.spec.display}' needs credentials ({url}).",
            "Store them with a git credential helper, or put them in the URL.",
        )

    def approve_credentials(self) -> None:
        """Tell git's helpers the credentials worked, so they remember them."""
        if self._credentials:
            self._helper("approve", self._credentials)

    def _helper(self, action: str, credentials: Credentials | None = None) -> Credentials | None:
        return _git_credential(action, self.spec.url, credentials, cwd=self.repo.root)


class _NeedCredentials(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@contextmanager
def _translated_errors(spec: GitRemoteSpec, verb: str) -> Iterator[None]:
    name = spec.display
    try:
        yield
    except HTTPUnauthorized as exc:
        raise _NeedCredentials(exc.url) from exc
    except NotGitRepository as exc:
        raise RemoteError(
            f"No Git repository at '{name}' ({spec.url}).",
            "Check the URL with 'git remote -v'; the repository must exist on the server.",
        ) from exc
    except HangupException as exc:
        raise _hangup_error(spec, exc) from exc
    except GitProtocolError as exc:
        text = str(exc)
        if any(sign in text for sign in _UNREACHABLE_SIGNS):
            raise UnreachableRemoteError(
                f"Cannot reach Git remote '{name}' ({spec.url}).",
                "Check the host name, port and network, then retry.",
            ) from exc
        if " 403 " in text or text.endswith(" 403"):
            raise PermissionDeniedError(
                f"Git remote '{name}' refused access (HTTP 403).",
                "You have no write permission for refs/exps there: ask for push rights, "
                "or use a token with write scope."
                if verb in {"push", "remove"}
                else "Check that your account can read this repository.",
            ) from exc
        raise RemoteError(f"Git remote '{name}' failed during {verb}: {text}") from exc
    except TimeoutError as exc:
        raise UnreachableRemoteError(
            f"Git remote '{name}' did not answer within the timeout.",
            "Check the host and your network, then retry.",
        ) from exc
    except OSError as exc:
        raise UnreachableRemoteError(
            f"Cannot reach Git remote '{name}' ({spec.url}): {exc.strerror or exc}.",
            "Check the host name, port and network, then retry.",
        ) from exc


def _hangup_error(spec: GitRemoteSpec, exc: HangupException) -> RemoteError:
    detail = " ".join(
        line.decode("utf-8", "replace").strip() for line in (exc.stderr_lines or [])
    ).strip()
    lowered = detail.lower()
    if "permission denied" in lowered or "publickey" in lowered:
        return AuthenticationError(
            f"SSH refused the login to '{spec.display}': {detail}",
            "Add your key to ssh-agent (ssh-add) or set IdentityFile in ~/.ssh/config; "
            "exptui cannot type passwords for ssh.",
        )
    if any(w in lowered for w in ("could not resolve", "timed out", "connection refused")):
        return UnreachableRemoteError(
            f"Cannot reach Git remote '{spec.display}': {detail}",
            "Check the host name, port and network, then retry.",
        )
    return RemoteError(
        f"Git remote '{spec.display}' hung up: {detail or 'no reason given'}",
        "Check that the repository exists and that you may access it.",
    )


class _TimeoutTCPClient(TCPGitClient):
    """git:// with a connect check and a read timeout (dulwich sets neither)."""

    def __init__(self, host: str, port: int | None, timeout: float) -> None:
        super().__init__(host, port)
        self.timeout = timeout

    def _connect(self, cmd: bytes, path: str | bytes, protocol_version: int | None = None) -> Any:
        # Fail fast on an unreachable host: dulwich's own connect has no timeout.
        socket.create_connection((self._host, self._port or 9418), timeout=self.timeout).close()
        proto, can_read, stderr = super()._connect(cmd, path, protocol_version)
        sock = getattr(getattr(proto.read, "__self__", None), "raw", None)
        if sock is not None and hasattr(sock, "_sock"):
            sock._sock.settimeout(self.timeout)
        return proto, can_read, stderr


def _git_credential(
    action: str, url: str, credentials: Credentials | None, cwd: Path
) -> Credentials | None:
    """Ask git's credential helpers (``git credential fill/approve/reject``) as git does,
    from inside the repository so its own ``credential.*`` config applies."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    lines = [f"protocol={parts.scheme}", f"host={parts.hostname or ''}"]
    if parts.port:
        lines[-1] += f":{parts.port}"
    if parts.path.strip("/"):
        lines.append(f"path={parts.path.lstrip('/')}")
    if credentials:
        lines += [f"username={credentials[0]}", f"password={credentials[1]}"]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
    try:
        done = subprocess.run(
            ["git", "credential", action],
            input="\n".join(lines) + "\n\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=DEFAULT_TIMEOUT,
            cwd=cwd,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git binary: no helpers to ask
    if action != "fill" or done.returncode:
        return None
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if values.get("username") and values.get("password"):
        return values["username"], values["password"]
    return None
