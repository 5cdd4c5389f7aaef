"""Numbers of any size reach a real webhook exactly as the producer wrote them, whether the
target takes the whole event, an input_path or an input transformer."""
import json
import subprocess

import pytest

from conftest import SOURCE_DIR, post_json, wait_for

PEERS = SOURCE_DIR / "tests" / "targets" / "peers"


@pytest.fixture
def receiver(workdir):
    log = workdir / "webhook.jsonl"
    proc = subprocess.Popen(["/usr/bin/python3", str(PEERS / "http_peer.py"), "--log", str(log)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield port, log
    proc.kill()
    proc.wait()


def test_numbers_past_64_bits_and_doubles_reach_the_webhook_as_written(make_daemon, receiver):
    port, log = receiver
    hook = f"type: webhook\n        url: http://127.0.0.1:{port}"
    rule = f"""rules:
  - name: big
    event_pattern: {{source: [app]}}
    targets:
      - id: whole
        {hook}/whole
      - id: path
        {hook}/path
        input_path: $.detail.huge
      - id: json
        {hook}/json
        input_transformer:
          input_paths_map: {{huge: $.detail.huge, long: $.detail.long, nested: $.detail.nested}}
          input_template: '{{"huge": <huge>, "long": <long>, "nested": <nested>, "s": "<huge>"}}'
      - id: text
        {hook}/text
        input_transformer:
          input_paths_map: {{huge: $.detail.huge, long: $.detail.long, one: $.detail.one}}
          input_template: 'huge=<huge> long=<long> one=<one>'
"""
    daemon = make_daemon(rules={"big.yaml": rule})
    detail = ('{"huge": 1e400, "long": 123456789012345678901234567890, "one": 1.0,'
              ' "nested": {"a": [-0, 1e2, 18446744073709551616]}}')
    status, _, body = post_json(daemon.url + "/events",
                                '{"source": "app", "detail-type": "t", "detail": ' + detail + '}')
    assert status == 200 and body["FailedEntryCount"] == 0, body

    def bodies():
        if not log.exists():
            return None
        seen = {r["path"]: r["body"] for r in map(json.loads, log.read_text().splitlines())}
        return seen if len(seen) == 4 else None

    seen = wait_for(bodies, 10)
    assert seen, daemon.log()
    assert seen["/path"] == "1e400"
    assert seen["/json"] == ('{"huge":1e400,"long":123456789012345678901234567890,'
                             '"nested":{"a":[-0,1e2,18446744073709551616]},"s":"1e400"}')
    assert seen["/text"] == "huge=1e400 long=123456789012345678901234567890 one=1.0"
    assert ('"detail":{"huge":1e400,"long":123456789012345678901234567890,"one":1.0,'
            '"nested":{"a":[-0,1e2,18446744073709551616]}}') in seen["/whole"]
