"""A bound on what an fsspec download may write.

s3fs, gcsfs and sshfs copy an object to a local file themselves and report progress to an
fsspec callback: the size the server announces before the first byte is written, then the
bytes written after each chunk. Raising from that callback is the one place to stop such
a copy, so an object larger than the experiment recorded (a hostile or damaged remote)
is refused at its announced size, or one chunk past the bound when the server announced
none or lied. Imported only with an fsspec backend: fsspec is not part of the app's start.
"""

from __future__ import annotations

from typing import Any

from fsspec.callbacks import Callback

from core.data.stores import ObjectKey, too_large


class SizeGuard(Callback):
    """Raises :class:`core.errors.ObjectTooLargeError` once the announced size or the
    bytes written pass ``most`` (None: no bound)."""

    def __init__(self, key: ObjectKey, most: int | None, description: str) -> None:
        super().__init__()
        self.key = key
        self.most = most
        self.description = description

    def call(self, hook_name: str | None = None, **kwargs: Any) -> None:
        if self.most is not None and max(self.size or 0, self.value) > self.most:
            raise too_large(self.key, self.most, self.description)
