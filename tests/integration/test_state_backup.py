"""The backup procedure of docs/operations.md: an online copy of the journal with
`sqlite3 journal.db ".backup FILE"` while the daemon runs and writes, restored into an empty
state_dir, resumes the deliveries that were pending when it was taken."""
import json
import shutil
import subprocess
import time

import pytest

from conftest import base_config, post_json, wait_for
from test_durability import FAST_RETRIES, event, webhook, webhook_rule  # noqa: F401 (fixture)

SQLITE3 = shutil.which("sqlite3")




@pytest.mark.skipif(SQLITE3 is None, reason="the sqlite3 command is not installed (apt-get "
                                             "install sqlite3)")
def test_online_backup_of_the_journal_restores_pending_deliveries(make_daemon, webhook, workdir):
    webhook.set("503")
    rules = {"h.yaml": webhook_rule(webhook.port)}
    config = base_config(extra=FAST_RETRIES)
    live = make_daemon(config, rules=rules, subdir="live")
    status, _, body = post_json(live.url + "/events", json.dumps([event(i) for i in range(20)]))
    assert status == 200 and body["FailedEntryCount"] == 0, body
    # The deliveries are failing and being retried (journal writes go on) while the copy is made.
    assert live.wait_for_log(r"retrying in", timeout=10), live.log()
    backup = workdir / "backup" / "journal.db"
    backup.parent.mkdir()
    proc = subprocess.run([SQLITE3, str(live.state_dir / "journal.db"), f".backup {backup}"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert live.stop() == 0
    check = subprocess.run([SQLITE3, str(backup), "PRAGMA integrity_check"], capture_output=True,
                           text=True, timeout=30)
    assert check.stdout.strip() == "ok", check.stdout + check.stderr

    # Restore: the copy alone, into the state_dir of a fresh installation.
    restored = make_daemon(config, rules=rules, subdir="restored", start=False)
    shutil.copy(backup, restored.state_dir / "journal.db")
    webhook.set("ok")
    restored.start()
    assert restored.wait_for_log(r"resumed 20 unfinished deliveries", timeout=10), restored.log()
    assert wait_for(lambda: webhook.ids() == set(range(20))), (
        f"delivered {sorted(webhook.ids())} (event ids {webhook.event_ids})\n" + restored.log())
