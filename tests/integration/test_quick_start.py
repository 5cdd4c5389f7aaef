"""The README's quick start on a fresh machine: the daemon on the shipped config, the README's
curl and every sample finding posted, and then every enabled sample delivery has succeeded and
nothing is retrying (no webhook on 127.0.0.1:9099, no mail relay, no AWS CLI needed)."""
import json
import re
import shutil
import time

from conftest import FIXTURES, SOURCE_DIR, Daemon, curl, post_json, wait_for

README_CURL = re.compile(r"--data-binary @tests/fixtures/events/([\w.-]+\.json)")


def shipped_daemon(root):
    """The shipped config/ in a scratch checkout, on a free port."""
    shutil.copytree(SOURCE_DIR / "config", root / "config")
    config = root / "config" / "eventrouter.yaml"
    text = config.read_text()
    assert re.search(r"(?m)^listen: 127\.0\.0\.1:8088$", text)
    config.write_text(re.sub(r"(?m)^listen: .*$", "listen: 127.0.0.1:0", text))
    daemon = Daemon(root / "d", "")  # for its helpers only; it runs the shipped config
    daemon.config = config
    daemon.state_dir = root / ".state"
    return daemon.start()


def metric_lines(text, name):
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line.startswith(name + "{")}


def test_every_enabled_sample_delivers_and_nothing_retries(workdir):
    daemon = shipped_daemon(workdir)
    try:
        readme_fixture = README_CURL.search((SOURCE_DIR / "README.md").read_text()).group(1)
        posted = [readme_fixture] + sorted(p.name for p in FIXTURES.glob("*.json")
                                           if p.name != readme_fixture)
        for name in posted:
            status, _, body = post_json(daemon.url + "/events", (FIXTURES / name).read_text())
            assert status == 200 and body["FailedEntryCount"] == 0, (name, body)

        # The console the README points at is served, and its overview counts what was sent.
        status, headers, page = curl(daemon.url + "/console/")
        assert status == 200 and "<html" in page.lower(), (status, headers)
        _, _, activity = curl(daemon.url + "/activity")
        assert sum(m["received"] for m in json.loads(activity)["series"]) == len(posted)

        _, _, rules = curl(daemon.url + "/rules")
        enabled = [r for r in json.loads(rules)["rules"] if r["state"] == "ENABLED"]
        assert enabled
        expected = {(r["name"], t["id"]) for r in enabled for t in r["targets"]}

        def outcomes():
            _, _, text = curl(daemon.url + "/metrics")
            return metric_lines(text, "eventrouter_invocations_total")

        def succeeded(values):
            return {pair for pair in expected
                    if values.get(f'eventrouter_invocations_total{{rule="{pair[0]}",'
                                  f'target="{pair[1]}",outcome="success"}}', 0) > 0}

        done = wait_for(lambda: succeeded(outcomes()) == expected, timeout=30)
        values = outcomes()
        assert done, (f"enabled targets that never delivered: "
                      f"{sorted(expected - succeeded(values))}\n{daemon.log()}")
        time.sleep(1)  # a failure would be retried after at least a tenth of a second
        values = outcomes()
        failed = {k: v for k, v in values.items() if 'outcome="success"' not in k and v > 0}
        assert not failed, f"{failed}\n{daemon.log()}"
        assert not any("retrying in" in line or " error " in line for line in daemon.lines), \
            daemon.log()
        letters = [p for p in (workdir / ".state").rglob("*") if p.is_file()
                   and ("dlq" in p.parts or p.name.startswith("dead-letters"))
                   and p.stat().st_size > 0]
        assert not letters, letters
        # The dry-run runbook said what it would have done.
        assert daemon.wait_for_log(r"DRY_RUN: aws iam put-role-policy"), daemon.log()
    finally:
        daemon.stop()
