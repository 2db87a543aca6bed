"""Typed errors: every failure a user can cause or meet says what is wrong and what to do.

The CLI prints ``message`` and ``hint`` on one or two lines and exits non-zero; the app
shows them in a toast. Neither ever shows a traceback for these.
"""

from __future__ import annotations


class ExptuiError(Exception):
    """Base of every error exptui reports to a user."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class NotARepositoryError(ExptuiError):
    """The path is not inside a Git repository."""


class NotADvcProjectError(ExptuiError):
    """The Git repository has no ``.dvc/`` directory."""


class InvalidRefError(ExptuiError):
    """A ref or experiment name breaks DVC's or Git's naming rules."""


class UnknownExperimentError(ExptuiError):
    """A name given on the command line matches no experiment."""


class AmbiguousExperimentError(ExptuiError):
    """A bare name matches experiments under several baselines, none of them HEAD's."""


class UnknownRevisionError(ExptuiError):
    """A ``--rev`` argument names no commit."""


class ConfigError(ExptuiError):
    """A DVC or Git configuration file cannot be read or names something that does not exist."""


class DemoError(ExptuiError):
    """The demo workspace cannot be built where asked."""


class RemoteError(ExptuiError):
    """A Git remote could not be reached, refused us, or answered something unexpected."""


class UnknownRemoteError(RemoteError):
    """The name is neither a configured Git remote nor a URL or path."""


class UnreachableRemoteError(RemoteError):
    """The host did not answer, refused the connection, or timed out."""


class AuthenticationError(RemoteError):
    """The remote wants credentials we do not have, or refused the ones we sent."""


class PermissionDeniedError(RemoteError):
    """Authenticated, but not allowed to do this (e.g. HTTP 403 on push)."""


class ApplyInterruptedError(ExptuiError):
    """The system refused a write half-way (disk full, permissions); the stash holds the
    user's changes."""


class UnsafeApplyError(ExptuiError):
    """A path would leave the workspace or destroy something; nothing was written."""


class MissingDataError(ExptuiError):
    """Some objects the experiment's outputs need are not in the local cache."""


class UnresolvedPipelineError(ExptuiError):
    """A commit's pipelines cannot be read as DVC reads them, so its outputs are unknown."""


class DocumentTooLargeError(ValueError):
    """A document over a limit; its text says which, for a "skipped" note."""


class BranchExistsError(ExptuiError):
    """The branch is there already; branch never moves an existing one."""


class WorkspaceBusyError(ExptuiError):
    """A running DVC stage reads or writes paths in the workspace (``.dvc/tmp/rwlock``)."""


class RepoLockedError(ExptuiError):
    """Another process (usually a running dvc command) holds the repository lock."""


class InvalidObjectError(ExptuiError):
    """An oid or a manifest does not have the shape DVC gives it."""


class IncompleteDirectoryError(ExptuiError):
    """A manifest was about to be written before all of its files were stored."""


class UnsafePathError(ExptuiError):
    """A path from a manifest, lock file or tree would leave its root."""


class StoreError(ExptuiError):
    """A DVC remote refused, failed, or is not usable for experiments."""


class ObjectTooLargeError(ExptuiError):
    """An object from a remote is larger than what it is fetched for may be."""


class CorruptObjectError(ExptuiError):
    """Downloaded bytes do not hash to the object's name: they never enter the cache."""


class TransferCancelled(ExptuiError):
    """The user cancelled; nothing partial is visible and a re-run resumes."""


class Stopped(ExptuiError):
    """The caller stopped a long read (the app quit while loading); nothing was written."""


def describe(error: BaseException) -> str:
    """One line for any failure, the same in the CLI and the app."""
    return " ".join(part for part in explain(error) if part)


def explain(error: BaseException) -> tuple[str, str]:
    """What went wrong and what to do about it (empty when there is nothing to say), for
    a UI that shows them apart. A system error with a file name happened here (a full
    disk, an unwritable cache), so it says so rather than blaming a remote."""
    if isinstance(error, ExptuiError):
        return error.message, error.hint
    if isinstance(error, OSError) and error.filename is not None:
        where = f"'{error.filename}'"
        return (
            f"{error.strerror or type(error).__name__}: {where} (on this machine).",
            "Check its permissions and free space, then retry.",
        )
    return f"{type(error).__name__}: {error}".rstrip(": "), ""
