"""exptui against ``dvc exp`` on identical copies of the same repositories, with floors.

Each run copies a fixture twice (one copy per tool, alternating which goes first), points
each copy at its own bare Git remote and its own DVC remote (a local directory, or a bucket
on an S3 server on 127.0.0.1), and times, as separate processes: push all
experiments, push again (nothing to do), pull all into a fresh clone, pull again, list the
remote. Floors: ``cp -r`` of exactly the pushed objects (local), and raw concurrent
uploads/downloads of them at exptui's S3 concurrency with s3fs (its pool sized to it) and
with obstore; with nothing to do on S3, a fresh process asking about each object no
``.dir`` vouches for. Peak RSS is each process's own ``ru_maxrss``. Medians over the runs
go to a table on stdout and to ``BENCHMARKS.md``.

The S3 server is s3rver (npm; keeps connections alive, far cheaper per request than
moto's werkzeug server, which the S3 rows would otherwise measure) behind a relay that
adds ``--latency`` ms to every answer, as a real remote's round trip does; exptui runs
twice there, on its chosen client (obstore) and with ``EXPTUI_S3_CLIENT=s3fs``. The relay
counts requests; CPU per object is the process's user+system time over the objects moved.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.bench.fixtures import QUICK, Sizes, environment, fixture, run
from tests.bench.keys import PAUSE, key_latencies, key_latencies_while_pushing
from tests.dvc_peer import DVC_VERSION, dvc_executable
from tests.servers import ProxyState, moto_s3, s3fs_client, s3rver, tcp_proxy

OPS = ("push", "repush", "pull", "repull", "list")
TOOLS = ("exptui", "dvc")
S3_TOOLS = ("exptui", "exptui-s3fs", "dvc")
FLOORS = ("s3fs", "obstore")
S3_JOBS = 32  # exptui's default for S3, used by the floor too
S3_KEY = "S3RVER"  # the one key s3rver knows; moto takes any
KEYS = f"    access_key_id = {S3_KEY}\n    secret_access_key = {S3_KEY}\n    region = us-east-1\n"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_mb: float
    cpu: float = 0.0  # user + system seconds
    requests: int = 0  # as the S3 relay counted them


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Wall time and peak RSS of one command, measured by a small launcher process (see
    launch.py); a failing command stops the benchmark with its output."""
    os.sync()  # the copies just made are flushed now, not during whichever tool runs next
    with tempfile.NamedTemporaryFile() as output:
        launcher = [sys.executable, "-m", "tests.bench.launch", output.name, *argv]
        env = {**env, "PYTHONPATH": str(REPO_ROOT)}
        done = subprocess.run(launcher, cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"the launcher failed: {done.stderr}")
        report = json.loads(done.stdout)
        if report["code"]:
            text = Path(output.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(argv)} failed ({report['code']}) in {cwd}:\n{text}")
    return Sample(report["seconds"], report["rss_kb"] / 1024, report["cpu"])


def timed_s3(argv: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """:func:`timed`, with the requests the relay saw meanwhile."""
    before = len(S3.seen.requests) if S3.seen else 0
    sample = timed(argv, cwd, env)
    after = len(S3.seen.requests) if S3.seen else 0
    return Sample(sample.seconds, sample.rss_mb, sample.cpu, after - before)


def command(tool: str, op: str, dvc: str) -> list[str]:
    verb = {"repush": "push", "repull": "pull"}.get(op, op)
    if tool.startswith("exptui"):
        return [sys.executable, "-m", "tui", verb, "origin", "-A"]
    return [dvc, "exp", verb, "origin", "-A"]


class Copy:
    """One tool's identical copy of a fixture: project, bare origin, DVC remote, clone."""

    def __init__(self, source: Path, work: Path, remote: str) -> None:
        self.work = work
        self.project = work / "project"
        self.clone = work / "clone"
        shutil.copytree(source / "project", self.project, symlinks=True)
        shutil.rmtree(self.project / ".dvc" / "tmp", ignore_errors=True)
        origin = work / "origin.git"
        if (source / "origin.git").is_dir():
            shutil.copytree(source / "origin.git", origin, symlinks=True)
        else:
            run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], work, os.environ.copy())
        self.env = environment(work / "site-cache")
        for level in ("global", "system"):
            self.env[f"DVC_{level.upper()}_CONFIG_DIR"] = str(work / f"dvc-{level}")
        self.env.update(AWS_ACCESS_KEY_ID=S3_KEY, AWS_SECRET_ACCESS_KEY=S3_KEY)
        if work.name == "exptui-s3fs":
            self.env["EXPTUI_S3_CLIENT"] = "s3fs"
        if _has_origin(self.project):
            run(["git", "remote", "remove", "origin"], self.project, self.env)
        run(["git", "remote", "add", "origin", str(origin)], self.project, self.env)
        run(["git", "push", "-q", "origin", "main"], self.project, self.env)  # for the clone
        self.remote = remote
        self._configure(self.project)

    def _configure(self, project: Path) -> None:
        s3 = f"    endpointurl = {S3.endpoint}\n{KEYS}" if self.remote.startswith("s3") else ""
        text = f"['remote \"storage\"']\n    url = {self.remote}\n{s3}"
        (project / ".dvc" / "config.local").write_text(text)

    def make_clone(self) -> None:
        run(
            ["git", "clone", "-q", str(self.work / "origin.git"), str(self.clone)],
            self.work,
            self.env,
        )
        self._configure(self.clone)


def _has_origin(project: Path) -> bool:
    done = subprocess.run(["git", "remote"], cwd=project, capture_output=True, text=True)
    return "origin" in done.stdout.split()


class S3:
    """The S3 server shared by the whole benchmark (reached through the latency relay:
    ``endpoint``), what the relay saw, and fresh buckets on it."""

    endpoint = ""
    seen: ProxyState | None = None
    _count = 0

    @classmethod
    def bucket(cls) -> str:
        cls._count += 1
        name = f"bench-{os.getpid()}-{cls._count}"
        s3fs_client(cls.endpoint, S3_KEY).call_s3("create_bucket", Bucket=name)
        return name

    @classmethod
    @contextmanager
    def serving(cls, server: str, latency_ms: float, root: Path) -> Iterator[None]:
        with ExitStack() as stack:
            direct = stack.enter_context(moto_s3() if server == "moto" else s3rver(root))
            port, cls.seen = stack.enter_context(
                tcp_proxy(int(direct.rsplit(":", 1)[1]), latency_ms / 1000)
            )
            cls.endpoint = f"http://127.0.0.1:{port}"
            yield


def one_run(
    kind: str,
    source: Path,
    backend: str,
    order: tuple[str, ...],
    scratch: Path,
    dvc: str,
    ops: tuple[str, ...],
) -> dict[tuple[str, str], Sample]:
    """Every op for both tools on their own copies; plus the floor for this run."""
    samples: dict[tuple[str, str], Sample] = {}
    copies: dict[str, Copy] = {}
    measure_one = timed if backend == "local" else timed_s3
    for tool in order:
        remote = str(scratch / tool / "storage") if backend == "local" else f"s3://{S3.bucket()}/c"
        if backend == "local":
            (scratch / tool / "storage").mkdir(parents=True)
        copies[tool] = Copy(source, scratch / tool, remote)
    for op in ops:
        for tool in order:
            copy = copies[tool]
            in_clone = op in ("pull", "repull", "list")
            if in_clone and not copy.clone.exists():
                copy.make_clone()
            cwd = copy.clone if in_clone else copy.project
            samples[(tool, op)] = measure_one(command(tool, op, dvc), cwd, copy.env)
    if "push" in ops:
        samples.update(floors(backend, copies["exptui"], scratch))
    return samples


def floors(backend: str, pushed: Copy, scratch: Path) -> dict[tuple[str, str], Sample]:
    """The same objects moved by the simplest means: cp -r, or raw s3fs (pool sized) and
    raw obstore at S3_JOBS."""
    env = pushed.env
    if backend == "local":
        sample = timed(["cp", "-r", f"{pushed.remote}/files", str(scratch / "floor")], scratch, env)
        return {("floor", "push"): sample, ("floor", "pull"): sample}
    staged = scratch / "staged"
    _stage_pushed(pushed, staged)
    asked = scratch / "asked.txt"
    asked.write_text("\n".join(_unvouched(staged)))
    env = {**env, "PYTHONPATH": str(REPO_ROOT)}
    samples = {}
    for client in FLOORS:
        target = f"s3://{S3.bucket()}/c"

        def floor(
            direction: str, local: Path, target: str = target, client: str = client
        ) -> Sample:
            argv = [sys.executable, "-m", "tests.bench.floor", direction, str(local), target]
            return timed_s3([*argv, S3.endpoint, str(S3_JOBS), client], REPO_ROOT, env)

        samples[(f"floor-{client}", "push")] = floor("put", staged)
        samples[(f"floor-{client}", "pull")] = floor("get", scratch / f"floor-get-{client}")
        ask = floor("ask", asked)
        samples[(f"floor-{client}", "repush")] = samples[(f"floor-{client}", "repull")] = ask
    return samples


def _unvouched(objects: Path) -> list[str]:
    """Objects of a DVC object tree that no ``.dir`` in it lists: what a tool must still
    ask about when a push or pull has nothing to do."""
    every = {p.relative_to(objects).as_posix() for p in objects.rglob("*") if p.is_file()}
    listed = set()
    for rel in every:
        if rel.endswith(".dir"):
            for row in json.loads((objects / rel).read_bytes()):
                listed.add(f"files/md5/{row['md5'][:2]}/{row['md5'][2:]}")
    return sorted(every - listed)


def _stage_pushed(pushed: Copy, staged: Path) -> None:
    """Hard links to exactly the objects exptui pushed (read back from the bucket)."""
    fs = s3fs_client(S3.endpoint, S3_KEY)
    root = pushed.remote.removeprefix("s3://")
    cache = pushed.project / ".dvc" / "cache"
    for name in fs.find(root):
        rel = name[len(root) + 1 :]
        (staged / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(cache / rel, staged / rel)


def pushed_volume(samples_dir: Path) -> tuple[int, int]:
    files = [p for p in samples_dir.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def first_screen(source: Path, scratch: Path, runs: int) -> list[float]:
    """Seconds from launching the app until both panes show their experiments."""
    times = []
    for i in range(runs):
        copy = Copy(source, scratch / f"app-{i}", str(scratch / "unused"))
        env = {**copy.env, "PYTHONPATH": str(REPO_ROOT)}
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.first_screen", str(copy.project)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        elapsed = time.perf_counter() - start
        child.wait()
        if not line.startswith("READY"):
            problem = child.stderr.read() if child.stderr else ""
            raise RuntimeError(f"the app did not come up: {problem}")
        times.append(elapsed)
    return times


# -- report ------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    """`` (min-max)`` over the runs, when there was more than one."""
    return f" ({min(values):.2f}-{max(values):.2f})" if len(values) > 1 else ""


def table(
    kind: str, backend: str, results: dict[tuple[str, str], list[Sample]], volume: tuple[int, int]
) -> list[str]:
    files, nbytes = volume
    lines = [
        f"### {kind}, {backend} remote ({files:,} objects, {nbytes / 1e6:,.1f} MB pushed)",
        "",
        "| operation | exptui s | dvc s | exptui/dvc | floor s | exptui/floor | exptui files/s "
        "| exptui MB/s | exptui RSS MB | dvc RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for op in OPS:
        mine = [s.seconds for s in results.get(("exptui", op), [])]
        if not mine:
            continue
        theirs = [s.seconds for s in results.get(("dvc", op), [])]
        floor = [s.seconds for s in results.get(("floor", op), [])]
        ours, dvc, base = median(mine), median(theirs), median(floor)
        moving = op in ("push", "pull")
        rate = f"{files / ours:,.0f}" if moving else ""
        mbs = f"{nbytes / 1e6 / ours:,.1f}" if moving else ""
        rss_ours = max(s.rss_mb for s in results[("exptui", op)])
        rss_dvc = max((s.rss_mb for s in results.get(("dvc", op), [])), default=float("nan"))
        lines.append(
            f"| {op} | {ours:.2f}{spread(mine)} | {dvc:.2f}{spread(theirs)} | {ours / dvc:.2f} | "
            + (f"{base:.2f} | {ours / base:.2f}" if floor else " | ")
            + f" | {rate} | {mbs} | {rss_ours:.0f} | {rss_dvc:.0f} |"
        )
    return [*lines, ""]


def s3_table(
    kind: str, results: dict[tuple[str, str], list[Sample]], volume: tuple[int, int], latency: str
) -> list[str]:
    """Seconds for exptui (its chosen client, and forced onto s3fs), dvc and both floors;
    the relay's requests per second and each process's CPU per object."""
    files, nbytes = volume
    columns = ("exptui", "exptui-s3fs", "dvc", "floor-s3fs", "floor-obstore")
    lines = [
        f"### {kind}, S3 remote ({files:,} objects, {nbytes / 1e6:,.1f} MB; {latency})",
        "",
        "| operation | exptui s | exptui on s3fs s | dvc s | exptui/dvc | s3fs floor s "
        "| obstore floor s | exptui/obstore floor | exptui req/s | CPU ms/object: exptui "
        "/ exptui on s3fs / dvc / obstore floor | exptui RSS MB | dvc RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for op in OPS:
        if not results.get(("exptui", op)):
            continue
        seconds = {c: median([x.seconds for x in results.get((c, op), [])]) for c in columns}
        cpu = {c: median([x.cpu for x in results.get((c, op), [])]) for c in columns}
        requests = median([x.requests for x in results[("exptui", op)]])
        per_object = " / ".join(
            f"{cpu[c] * 1000 / files:.2f}" if files else "" for c in columns if c != "floor-s3fs"
        )
        shown = {c: f"{v:.2f}" if v == v else "" for c, v in seconds.items()}
        rss_ours = max(x.rss_mb for x in results[("exptui", op)])
        rss_dvc = max((x.rss_mb for x in results.get(("dvc", op), [])), default=float("nan"))
        floor = seconds["floor-obstore"]
        lines.append(
            f"| {op} | {shown['exptui']} | {shown['exptui-s3fs']} | {shown['dvc']} "
            f"| {seconds['exptui'] / seconds['dvc']:.2f} | {shown['floor-s3fs']} "
            f"| {shown['floor-obstore']} | "
            + (f"{seconds['exptui'] / floor:.2f}" if floor == floor else "")
            + f" | {requests / seconds['exptui']:,.0f} | {per_object} "
            f"| {rss_ours:.0f} | {rss_dvc:.0f} |"
        )
    return [*lines, ""]


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"- Machine: {os.cpu_count()} CPUs ({cpu}), {int(memory) / 1024 / 1024:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, exptui {sha}, DVC {DVC_VERSION} (its own venv)",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    ]


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="tiny fixtures: a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        choices=["small", "large", "refs", "wide"],
        help="fixtures to run (repeatable; default all)",
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=["local", "s3"],
        help="DVC remotes to use (repeatable; default both)",
    )
    parser.add_argument(
        "--s3-server",
        choices=["s3rver", "moto"],
        default="s3rver",
        help="the S3 server behind the relay (default s3rver)",
    )
    parser.add_argument(
        "--latency", type=float, default=20.0, help="ms the relay adds to each S3 answer"
    )
    parser.add_argument(
        "--experiments", type=int, help="experiments in the small fixture (default 10)"
    )
    parser.add_argument(
        "--files", type=int, help="files per experiment in the small fixture (default 2,000)"
    )
    parser.add_argument("--out", type=Path, help="write the report here (e.g. BENCHMARKS.md)")
    options = parser.parse_args(argv)
    sizes = QUICK if options.quick else Sizes()
    if options.experiments:
        sizes = dataclasses.replace(sizes, experiments=options.experiments)
    if options.files:
        sizes = dataclasses.replace(sizes, files=options.files)
    kinds = options.only or ["small", "large", "refs", "wide"]
    backends = options.backend or ["local", "s3"]
    dvc = str(dvc_executable("s3" if "s3" in backends else ""))
    _compile_exptui()
    report = ["# Benchmarks", "", *machine(), ""]
    print("\n".join(report), flush=True)
    with ExitStack() as stack:
        if "s3" in backends and set(kinds) & {"small", "large"}:
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="exptui-s3-"))
            stack.enter_context(S3.serving(options.s3_server, options.latency, Path(root)))
        latency = f"{options.s3_server} + {options.latency:g} ms per answer"
        for kind in kinds:
            lines = measure(kind, fixture(kind, sizes), backends, options.runs, dvc, latency)
            print("\n".join(lines), flush=True)  # each fixture's table as soon as it is done
            report += lines
    text = "\n".join(report) + "\n"
    if options.out:
        options.out.write_text(_preamble(sizes, options.runs) + text.split("\n", 2)[2])
    return 0


def _compile_exptui() -> None:
    """Byte-compile exptui as a wheel install would: DVC runs from its venv's compiled
    files, and with PYTHONDONTWRITEBYTECODE set (as on CI machines) exptui would
    otherwise compile its source on every start, about 0.05 s of each command."""
    for package in ("core", "tui"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1)


def measure(
    kind: str, source: Path, backends: list[str], runs: int, dvc: str, latency: str
) -> list[str]:
    lines: list[str] = []
    if kind in ("small", "large"):
        for backend in backends:
            results: dict[tuple[str, str], list[Sample]] = defaultdict(list)
            volume = (0, 0)
            tools = TOOLS if backend == "local" else S3_TOOLS
            for i in range(runs):
                order = tools[i % len(tools) :] + tools[: i % len(tools)]
                with _scratch() as scratch:
                    for key, sample in one_run(
                        kind, source, backend, order, scratch, dvc, OPS
                    ).items():
                        results[key].append(sample)
                    volume = _volume(backend, scratch)
            if backend == "local":
                lines += table(kind, backend, results, volume)
                if kind == "small":
                    lines += _keys_while_pushing(source)
            else:
                lines += s3_table(kind, results, volume, latency)
    else:
        results = defaultdict(list)
        for i in range(runs):
            order = TOOLS if i % 2 == 0 else TOOLS[::-1]
            with _scratch() as scratch:
                for key, sample in one_run(
                    kind, source, "local", order, scratch, dvc, ("list",)
                ).items():
                    results[key].append(sample)
        lines += table(kind, "Git", results, (0, 0))
        with _scratch() as scratch:
            screens = first_screen(source, scratch, runs)
            copy = Copy(source, scratch / "keys", str(scratch / "unused"))
            env = {**copy.env, "PYTHONPATH": str(REPO_ROOT)}
            keys = key_latencies(copy.project, env)
        worst = sorted(keys)
        lines += [
            f"App first screen ({kind}): median {median(screens):.2f} s over {runs} "
            f"runs ({', '.join(f'{t:.2f}' for t in screens)}).",
            "",
            f"Keys while it loads ({kind}, 80x24 pty, a key every {PAUSE * 1000:.0f} ms "
            f"from the first rows): median {median(keys):.0f} ms, 90th percentile "
            f"{worst[len(worst) * 9 // 10]:.0f} ms, worst {worst[-1]:.0f} ms over "
            f"{len(keys)} keys.",
            "",
        ]
    return lines


def _keys_while_pushing(source: Path) -> list[str]:
    with _scratch() as scratch:
        copy = Copy(source, scratch / "keys", str(scratch / "storage"))
        env = {**copy.env, "PYTHONPATH": str(REPO_ROOT)}
        keys = sorted(key_latencies_while_pushing(copy.project, env))
    if not keys:
        return ["Keys while the app pushes: the push ended before the first key.", ""]
    return [
        f"Keys while the app pushes every experiment (80x24 pty, a key every "
        f"{PAUSE * 1000:.0f} ms until it ends): median {median(keys):.0f} ms, 90th "
        f"percentile {keys[len(keys) * 9 // 10]:.0f} ms, worst {keys[-1]:.0f} ms over "
        f"{len(keys)} keys.",
        "",
    ]


def _volume(backend: str, scratch: Path) -> tuple[int, int]:
    if backend == "local":
        return pushed_volume(scratch / "exptui" / "storage")
    return pushed_volume(scratch / "staged")


@contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="exptui-bench-") as name:
        yield Path(name)


def _preamble(sizes: Sizes, runs: int) -> str:
    return (
        "# Benchmarks: exptui against dvc exp\n\n"
        "Generated by `python -m tests.bench --out BENCHMARKS.md` (see tests/bench/run.py).\n"
        f"Medians over {runs} runs; fixtures: {sizes}.\n"
    )
