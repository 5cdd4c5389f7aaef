#!/usr/bin/env python3
"""The journal's cost per event, binaries side by side: each runs the bench suite's
`durability: fsync` case with one matching queue-file rule (wrk -t1 -c32 POSTing the GuardDuty
finding) in turn, REPS rounds, and the medians are printed. Per acknowledged event: the bytes the
daemon and the journal's threads wrote (/proc/PID/io, /proc/PID/task/*/io), their CPU time
(/proc/PID/task/*/stat), the events each journal commit carried, and the largest the
write-ahead log (journal.db-wal) grew during the load. CPU time per event is a steadier measure
than requests/s on a shared machine; compare figures only within one run.

  scripts/bench_journal.py [--seconds 8] [--reps 3] BINARY [BINARY ...]
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_suite as suite  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU time so far of the whole process and of the journal's threads."""
    total, journal = 0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])  # utime, stime
            total += ticks
            if (task / "comm").read_text().strip() in suite.JOURNAL_THREADS:
                journal += ticks
        except OSError:
            pass  # a thread that ended meanwhile
    return total / TICKS, journal / TICKS


class LargestFile:
    """Samples a file's size every 100 ms until stopped; keeps the largest."""

    def __init__(self, path):
        self.path, self.largest, self._stop = path, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.1):
            try:
                self.largest = max(self.largest, self.path.stat().st_size)
            except OSError:
                pass  # not there yet

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.largest


def one_run(binary, work, name, seconds, ceiling):
    process, url = suite.start_daemon(binary, work, name, "fsync", suite.rules_yaml(True, 0))
    pid = process.proc.pid
    suite.settle(url)
    written, cpu = suite.bytes_written(pid), cpu_seconds(pid)
    commits = suite.metric(url, "eventrouter_journal_commits")
    log = LargestFile(work / name / "state" / "journal.db-wal")
    row = suite.wrk(url + "/events", seconds)
    largest_log = log.stop()
    suite.settle(url)
    written_after, cpu_after = suite.bytes_written(pid), cpu_seconds(pid)
    commits = suite.metric(url, "eventrouter_journal_commits") - commits
    process.stop()
    events = max(row["requests"] - row["non_2xx"], 1)
    return {
        "requests/s": row["requests_per_second"],
        "÷ nginx": row["requests_per_second"] / ceiling,
        "p99 ms": row["p99_ms"],
        "daemon bytes/event": (written_after["all"] - written["all"]) / events,
        "journal bytes/event": (written_after["journal"] - written["journal"]) / events,
        "daemon CPU µs/event": (cpu_after[0] - cpu[0]) / events * 1e6,
        "journal CPU µs/event": (cpu_after[1] - cpu[1]) / events * 1e6,
        "events/commit": events / max(commits, 1),
        "largest log MB": largest_log / 1e6,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    runs = {binary: [] for binary in args.binaries}
    with tempfile.TemporaryDirectory(prefix="eventrouter-bench-journal-") as work:
        work = Path(work)
        try:
            nginx = suite.start_nginx(work)
            for rep in range(args.reps):
                ceiling = suite.wrk(nginx + "/", args.seconds)["requests_per_second"]
                for i, binary in enumerate(args.binaries):
                    row = one_run(binary, work, f"r{rep}-b{i}", args.seconds, ceiling)
                    runs[binary].append(row)
                    print(f"round {rep + 1}: {binary}: " +
                          ", ".join(f"{k} {v:,.2f}" for k, v in row.items()), flush=True)
        finally:
            suite.Process.stop_all()
    print(f"\nmedians of {args.reps} rounds, {args.seconds} s each:")
    keys = list(next(iter(runs.values()))[0])
    print("| binary | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for binary, rows in runs.items():
        print(f"| {binary} | " +
              " | ".join(f"{statistics.median(r[k] for r in rows):,.2f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
