"""The benchmark suite's short mode (scripts/bench_suite.py --short): it runs every part against
the real binary and writes its tables and plots, so the suite cannot rot between the runs that
produce docs/benchmark-results.md. Its figures are not checked: this machine is shared."""
import json
import re
import shutil
import subprocess
import sys

from conftest import BINARY, SOURCE_DIR


def test_the_short_suite_writes_every_table_and_plot(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(SOURCE_DIR / "scripts/bench_suite.py"), "--short",
                           "--binary", BINARY, "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    cases = [row["case"] for row in results["ingest"]]
    assert cases[0].startswith("nginx") and len(cases) == 6, cases
    assert all(row["requests_per_second"] > 0 and row["non_2xx"] == 0
               for row in results["ingest"]), results["ingest"]
    journal = results["journal"]
    assert journal["events"] > 0 and journal["event_bytes"] > 2000, journal
    # The journal's threads wrote something for the events they committed, and the daemon as a
    # whole (history, queue file) wrote at least as much.
    assert 0 < journal["journal_bytes_per_event"] <= journal["all_bytes_per_event"], journal
    (row,) = results["latency"]
    assert row["sent"] > 0 and row["failed_requests"] == 0 and row["p99_ms"] is not None, row
    assert [row["rules"] for row in results["startup"]] == [10, 500]
    assert all(row["rss"] > 0 and row["ready"] > 0 for row in results["startup"])
    text = (out / "results.md").read_text()
    assert re.search(r"\| journal bytes written per event \| [\d.]+ KB for a 2\.6 KB event "
                     r"= [\d.]+ x \|", text), text
    for heading in ("## Ingest against nginx", "## Bytes written per event",
                    "## Latency, ingest to invocation",
                    "## Start-up and memory by rule count"):
        assert heading in text
    if shutil.which("gnuplot"):
        assert (out / "ingest.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / "startup.png").read_bytes()[:4] == b"\x89PNG"
