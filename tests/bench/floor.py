"""Child process for the benchmark: the floor for S3, raw concurrent transfers of a
directory's files with s3fs at a given concurrency, nothing else.

    python -m tests.bench.floor put|get|ask LOCAL_DIR s3://bucket/prefix ENDPOINT JOBS

``ask`` is the floor for a push or pull with nothing to do: a fresh process that imports
s3fs, opens a client and asks whether each object that no ``.dir`` vouches for exists
(the manifests and standalone files, DVC's rule), which any tool must do at least.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path


async def transfer(direction: str, local: Path, url: str, endpoint: str, jobs: int) -> int:
    import s3fs

    fs = s3fs.S3FileSystem(asynchronous=True, endpoint_url=endpoint, skip_instance_cache=True)
    session = await fs.set_session()
    root = url.removeprefix("s3://").rstrip("/")
    if direction == "put":
        pairs = [(str(p), f"{root}/{p.relative_to(local).as_posix()}")
                 for p in local.rglob("*") if p.is_file()]  # fmt: skip
    else:
        remote = await fs._find(root)
        pairs = [(name, str(local / name[len(root) + 1 :])) for name in remote]
        for _, target in pairs:
            os.makedirs(os.path.dirname(target), exist_ok=True)
    if direction == "ask":
        asked = await asyncio.gather(*(fs._exists(f"{root}/{rel}") for rel in _unvouched(local)))
        await session.close()
        return sum(asked)
    gate = asyncio.Semaphore(jobs)

    async def one(source: str, target: str) -> None:
        async with gate:
            if direction == "put":
                await fs._put_file(source, target)
            else:
                await fs._get_file(source, target)

    await asyncio.gather(*(one(a, b) for a, b in pairs))
    await session.close()
    return len(pairs)


def _unvouched(local: Path) -> list[str]:
    """Objects under ``local`` (a DVC object tree) that no ``.dir`` there lists."""
    objects = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    listed = set()
    for rel in objects:
        if rel.endswith(".dir"):
            for row in json.loads((local / rel).read_bytes()):
                listed.add(f"files/md5/{row['md5'][:2]}/{row['md5'][2:]}")
    return sorted(objects - listed)


if __name__ == "__main__":
    direction, local, url, endpoint, jobs = sys.argv[1:6]
    count = asyncio.run(transfer(direction, Path(local), url, endpoint, int(jobs)))
    print(count)
