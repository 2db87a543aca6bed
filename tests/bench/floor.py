"""Child process for the benchmark: the floor for S3, raw concurrent transfers of a
directory's files at a given concurrency with one client, nothing else.

    python -m tests.bench.floor put|get LOCAL_DIR s3://bucket/prefix ENDPOINT JOBS CLIENT
    python -m tests.bench.floor ask KEYS_FILE s3://bucket/prefix ENDPOINT JOBS CLIENT

CLIENT is ``s3fs`` (its connection pool sized to JOBS: botocore's default of 10 would
cap the floor below what the client can do) or ``obstore``. ``ask`` is the floor for a
push or pull with nothing to do: a fresh process that opens a client and asks whether
each object in KEYS_FILE exists (the parent lists there the objects no ``.dir`` vouches
for, DVC's rule), which any tool must do at least. Keys come from ``AWS_*`` variables.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path


def _pairs(direction: str, local: Path, names: list[str]) -> list[tuple[str, str]]:
    """(local file, key) for a put; (key, local file) for a get, folders made."""
    if direction == "put":
        return [(str(p), p.relative_to(local).as_posix()) for p in local.rglob("*") if p.is_file()]
    pairs = [(name, str(local / name)) for name in names]
    for _, target in pairs:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    return pairs


async def _bounded(jobs: int, pairs: list[tuple[str, str]], one: Callable[..., Awaitable]) -> None:
    gate = asyncio.Semaphore(jobs)

    async def run(a: str, b: str) -> None:
        async with gate:
            await one(a, b)

    await asyncio.gather(*(run(a, b) for a, b in pairs))


async def with_s3fs(direction: str, local: Path, url: str, endpoint: str, jobs: int) -> int:
    import s3fs

    fs = s3fs.S3FileSystem(
        asynchronous=True,
        endpoint_url=endpoint,
        skip_instance_cache=True,
        config_kwargs={"max_pool_connections": jobs},
    )
    session = await fs.set_session()
    root = url.removeprefix("s3://").rstrip("/")
    if direction == "ask":
        keys = local.read_text().split()
        asked = await asyncio.gather(*(fs._exists(f"{root}/{rel}") for rel in keys))
        await session.close()
        return sum(asked)
    names = [] if direction == "put" else [n[len(root) + 1 :] for n in await fs._find(root)]
    pairs = _pairs(direction, local, names)

    async def one(a: str, b: str) -> None:
        if direction == "put":
            await fs._put_file(a, f"{root}/{b}")
        else:
            await fs._get_file(f"{root}/{a}", b)

    await _bounded(jobs, pairs, one)
    await session.close()
    return len(pairs)


async def with_obstore(direction: str, local: Path, url: str, endpoint: str, jobs: int) -> int:
    import obstore
    from obstore.store import S3Store

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    store = S3Store(
        bucket,
        prefix=prefix.strip("/") or None,
        endpoint=endpoint,
        region="us-east-1",
        client_options={"allow_http": True},
    )
    if direction == "ask":
        keys = local.read_text().split()
        found = [0]

        async def head(key: str, _: str) -> None:
            try:
                await obstore.head_async(store, key)
                found[0] += 1
            except FileNotFoundError:
                pass

        await _bounded(jobs, [(k, "") for k in keys], head)
        return found[0]
    names: list[str] = []
    if direction == "get":
        async for batch in obstore.list(store, None):
            names.extend(entry["path"] for entry in batch)
    pairs = _pairs(direction, local, names)

    async def one(a: str, b: str) -> None:
        if direction == "put":
            await obstore.put_async(store, b, Path(a), use_multipart=False)
        else:
            answer = await obstore.get_async(store, a)
            with open(b, "wb") as sink:
                async for chunk in answer.stream():
                    sink.write(chunk)

    await _bounded(jobs, pairs, one)
    return len(pairs)


if __name__ == "__main__":
    direction, local, url, endpoint, jobs, client = sys.argv[1:7]
    transfer = with_obstore if client == "obstore" else with_s3fs
    count = asyncio.run(transfer(direction, Path(local), url, endpoint, int(jobs)))
    print(count)
