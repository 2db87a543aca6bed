"""Child process for the benchmark: the floor for S3, raw concurrent transfers of a
directory's files with s3fs at a given concurrency, nothing else.

    python -m tests.bench.floor put|get LOCAL_DIR s3://bucket/prefix ENDPOINT JOBS
    python -m tests.bench.floor ask KEYS_FILE s3://bucket/prefix ENDPOINT JOBS

``ask`` is the floor for a push or pull with nothing to do: a fresh process that imports
s3fs, opens a client and asks whether each object in KEYS_FILE exists (the parent lists
there the objects no ``.dir`` vouches for, DVC's rule), which any tool must do at least.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


async def transfer(direction: str, local: Path, url: str, endpoint: str, jobs: int) -> int:
    import s3fs

    fs = s3fs.S3FileSystem(asynchronous=True, endpoint_url=endpoint, skip_instance_cache=True)
    session = await fs.set_session()
    root = url.removeprefix("s3://").rstrip("/")
    if direction == "ask":
        keys = local.read_text().split()
        asked = await asyncio.gather(*(fs._exists(f"{root}/{rel}") for rel in keys))
        await session.close()
        return sum(asked)
    if direction == "put":
        pairs = [
            (str(p), f"{root}/{p.relative_to(local).as_posix()}")
            for p in local.rglob("*")
            if p.is_file()
        ]
    else:
        remote = await fs._find(root)
        pairs = [(name, str(local / name[len(root) + 1 :])) for name in remote]
        for _, target in pairs:
            os.makedirs(os.path.dirname(target), exist_ok=True)
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


if __name__ == "__main__":
    direction, local, url, endpoint, jobs = sys.argv[1:6]
    count = asyncio.run(transfer(direction, Path(local), url, endpoint, int(jobs)))
    print(count)
