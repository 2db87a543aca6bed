"""Child process for the benchmark: run one command and report its time and peak RSS.

Linux charges a child's ``ru_maxrss`` with the memory of the process it was forked from
(the pre-exec copy), so a command forked straight from the benchmark (which hosts the S3
server) would inherit its size. This small launcher forks it instead and prints
``{"seconds", "rss_kb", "cpu", "code"}`` as JSON (``cpu``: its user and system
seconds); the command's output goes to a file.

    python -m tests.bench.launch OUTPUT_FILE COMMAND...
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(output: str, argv: list[str]) -> None:
    with open(output, "wb") as sink:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            os.execvp(argv[0], argv)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": seconds, "rss_kb": usage.ru_maxrss, "cpu": cpu, "code": code}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
