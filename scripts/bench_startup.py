#!/usr/bin/env python3
"""Start-up cost by rule count: for each count, generate that many security-finding rules (each
a pattern on source, detail-type, a type, a numeric severity and an instance-id prefix, with a
queue_file target), then measure with the binary given:
  validate   the seconds `eventrouter validate` takes
  ready      the seconds from starting `eventrouter serve` to its first 200 on /readyz
  rss        the daemon's resident memory (VmRSS) once ready, in MB
  metrics    the size of one /metrics scrape once ready, in KB
Each figure is the median of RUNS starts. Usage:
  scripts/bench_startup.py BINARY [BINARY2] [--counts 10,1000,10000] [--runs 3]
With two binaries, each count runs both, one after the other, and prints their ratio."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

TYPES = ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
         "Recon:EC2/PortProbeUnprotectedPort", "CryptoCurrency:EC2/BitcoinTool.B!DNS",
         "Trojan:EC2/DNSDataExfiltration"]


def write_setup(root: Path, count: int):
    (root / "rules.d").mkdir(parents=True)
    lines = ["rules:"]
    for i in range(count):
        lines.append(f"""  - name: rule-{i}
    event_pattern:
      source: [custom.source{i}]
      detail-type: [Finding {i % 50}]
      detail:
        type: [{TYPES[i % len(TYPES)]}-{i}]
        severity: [{{numeric: [">=", {i % 9}]}}]
        resource: {{instanceDetails: {{instanceId: [{{prefix: "i-{i:05d}"}}]}}}}
    targets:
      - {{id: q, type: queue_file, path: out-{i % 10}.jsonl}}""")
    (root / "rules.d" / "rules.yaml").write_text("\n".join(lines) + "\n")
    (root / "eventrouter.yaml").write_text(
        "listen: 127.0.0.1:0\nrules_dir: rules.d\nstate_dir: state\nlog: {level: info}\n")


def measure(binary: str, root: Path):
    shutil.rmtree(root / "state", ignore_errors=True)
    started = time.monotonic()
    subprocess.run([binary, "validate", "-c", str(root / "eventrouter.yaml")], check=True,
                   capture_output=True, timeout=300)
    validate = time.monotonic() - started
    log = open(root / "log", "w+")
    started = time.monotonic()
    proc = subprocess.Popen([binary, "serve", "-c", str(root / "eventrouter.yaml")],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = started + 120
        url = None
        while time.monotonic() < deadline:
            if url is None:
                found = re.search(r"listening on (127\.0\.0\.1:\d+)", (root / "log").read_text())
                url = found and "http://" + found.group(1)
            if url:
                try:
                    with urllib.request.urlopen(url + "/readyz", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.005)
        else:
            raise RuntimeError("not ready after 120 s: " + (root / "log").read_text()[-2000:])
        ready = time.monotonic() - started
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        with urllib.request.urlopen(url + "/metrics", timeout=30) as answer:
            metrics = len(answer.read()) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {"validate": validate, "ready": ready, "rss": rss, "metrics": metrics}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--counts", default="10,1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be 1 to 20")
    print(f"{'rules':>6} {'binary':<40} {'validate s':>10} {'ready s':>8} {'rss MB':>8} {'metrics KB':>11}")
    with tempfile.TemporaryDirectory(prefix="eventrouter-startup-") as work:
        for count in (int(c) for c in args.counts.split(",")):
            root = Path(work) / str(count)
            write_setup(root, count)
            medians = []
            for binary in args.binaries:
                runs = [measure(binary, root) for _ in range(args.runs)]
                median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                medians.append(median)
                print(f"{count:>6} {os.path.relpath(binary)[-40:]:<40} {median['validate']:>10.2f} "
                      f"{median['ready']:>8.2f} {median['rss']:>8.1f} {median['metrics']:>11.1f}")
            if len(medians) == 2:
                a, b = medians
                print(f"{count:>6} {'ratio (second / first)':<40} "
                      + " ".join(f"{b[k] / a[k]:>{w}.2f}" for k, w in
                                 (("validate", 10), ("ready", 8), ("rss", 8), ("metrics", 11))))


if __name__ == "__main__":
    main()
