"""Ingest over HTTP, driven with curl: the envelope, the PutEvents answer, and bad input."""
import json
import socket
import subprocess
import time

from conftest import FIXTURES, base_config, curl, fixture_text, post_json, wait_for


def test_health_and_readiness(daemon):
    status, _, body = curl(daemon.url + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = curl(daemon.url + "/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready"}


def test_guardduty_finding_gets_its_event_id_back(daemon):
    status, headers, body = post_json(daemon.url + "/events",
                                      fixture_text("guardduty-credential-exfiltration.json"))
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert body == {"FailedEntryCount": 0,
                    "Entries": [{"EventId": "c8c4daa7-a20c-2f03-0070-b7393dd542ad"}]}


def test_minimal_event_is_filled_in(daemon):
    status, _, body = post_json(daemon.url + "/events",
                                '{"source":"custom.scanner","detail-type":"Scan","detail":{}}')
    assert status == 200
    event_id = body["Entries"][0]["EventId"]
    assert len(event_id) == 36 and event_id[14] == "4"
    assert daemon.wait_for_log(event_id), "accepted events are logged at debug level"


def test_array_answers_per_entry_in_order(daemon):
    events = [json.loads(fixture_text("macie-sensitive-data.json")),
              {"source": "x", "detail-type": "y"},
              json.loads(fixture_text("config-noncompliant.json"))]
    status, _, body = post_json(daemon.url + "/events", json.dumps(events))
    assert status == 200
    assert body["FailedEntryCount"] == 1
    assert body["Entries"][0] == {"EventId": events[0]["id"]}
    assert body["Entries"][1]["ErrorCode"] == "InvalidArgument"
    assert "detail is required" in body["Entries"][1]["ErrorMessage"]
    assert body["Entries"][2] == {"EventId": events[2]["id"]}


def test_named_bus(make_daemon):
    daemon = make_daemon(base_config(extra="buses: [security]\n"))
    status, _, body = post_json(daemon.url + "/buses/security/events",
                                fixture_text("securityhub-failed-new.json"))
    assert status == 200 and body["FailedEntryCount"] == 0
    status, _, body = post_json(daemon.url + "/buses/bad%20name/events", "{}")
    assert status == 400 and body["error"]["code"] == "InvalidBusName"


def test_aws_put_events_with_curl(daemon):
    request = {"Entries": [
        {"Source": "aws.guardduty", "DetailType": "GuardDuty Finding",
         "Detail": json.dumps({"severity": 8}), "Resources": ["arn:aws:iam::1:role/r"]},
        {"Source": "aws.guardduty", "DetailType": "GuardDuty Finding", "Detail": "{oops"},
    ]}
    status, headers, text = curl(
        "-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-", daemon.url + "/",
        data=json.dumps(request))
    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.1"
    body = json.loads(text)
    assert body["FailedEntryCount"] == 1
    assert len(body["Entries"][0]["EventId"]) == 36
    assert body["Entries"][1]["ErrorCode"] == "MalformedDetail"


def test_aws_put_events_validation_error_has_aws_shape(daemon):
    status, headers, text = curl(
        "-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", '{"Entries": []}',
        daemon.url + "/")
    assert status == 400
    assert json.loads(text)["__type"] == "ValidationException"
    status, _, text = curl("-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
                           "-H", "X-Amz-Target: AWSEvents.DeleteRule", "--data-binary", "{}",
                           daemon.url + "/")
    assert status == 400 and json.loads(text)["__type"] == "UnknownOperationException"


def test_malformed_json_says_where(daemon):
    status, _, body = post_json(daemon.url + "/events", '{"source": "a", "detail": {,}}')
    assert status == 400
    assert body["error"]["code"] == "MalformedJSON"
    assert "at byte 27" in body["error"]["message"]


def test_bad_bodies(daemon):
    cases = [
        ("[]", "InvalidRequest"),
        ('"just a string"', "InvalidRequest"),
        ("[" * 1001 + "]" * 1001, "TooDeep"),
    ]
    for text, code in cases:
        status, _, body = post_json(daemon.url + "/events", text)
        assert status == 400, text
        assert body["error"]["code"] == code
    status, _, text = curl("-X", "POST", "-H", "Content-Type: application/json",
                           "--data-binary", "@-", daemon.url + "/events",
                           data=b'{"source":"\xff"}'.decode("latin-1"), raw_bytes=True)
    assert status == 400 and json.loads(text)["error"]["code"] == "InvalidUTF8"


def test_bad_entries(daemon):
    events = [
        {"source": 5, "detail-type": "d", "detail": {}},
        {"source": "s", "detail-type": "d", "detail": "not an object"},
        {"source": "s", "detail-type": "d", "detail": {}, "time": "noon"},
        {"source": "s", "detail-type": "d", "detail": {}, "resources": [1]},
    ]
    status, _, body = post_json(daemon.url + "/events", json.dumps(events))
    assert status == 200 and body["FailedEntryCount"] == 4
    codes = [e["ErrorCode"] for e in body["Entries"]]
    assert codes == ["InvalidArgument", "MalformedDetail", "InvalidArgument", "InvalidArgument"]


def test_event_over_max_event_bytes(make_daemon):
    daemon = make_daemon(base_config(limits={"max_event_bytes": 1000}))
    big = {"source": "s", "detail-type": "d", "detail": {"blob": "x" * 2000}}
    small = {"source": "s", "detail-type": "d", "detail": {}}
    status, _, body = post_json(daemon.url + "/events", json.dumps([big, small]))
    assert status == 200
    assert "max_event_bytes" in body["Entries"][0]["ErrorMessage"]
    assert "EventId" in body["Entries"][1]


def test_body_over_max_request_bytes_is_refused_before_it_is_read(make_daemon):
    daemon = make_daemon(base_config(limits={"max_request_bytes": 4096, "max_event_bytes": 2048}))
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as s:
        s.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000000\r\n\r\n")
        answer = s.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "max_request_bytes" in answer
    # curl with a large body gets the same, without having to send it all first.
    status, _, body = post_json(daemon.url + "/events", "[" + ",".join(["{}"] * 5000) + "]")
    assert status == 413 and body["error"]["code"] == "RequestTooLarge"


def test_content_types_that_cannot_hold_json_are_refused(daemon):
    for type_ in ["multipart/form-data; boundary=x", "application/xml", "text/xml",
                  "image/png"]:
        status, _, text = curl("-X", "POST", "-H", f"Content-Type: {type_}", "--data-binary",
                               "{}", daemon.url + "/events")
        assert status == 415, type_
        message = json.loads(text)["error"]["message"]
        assert "cannot hold a JSON event" in message and "application/json" in message


def test_curl_defaults_are_enough_to_post_a_finding(daemon):
    # curl -d sends application/x-www-form-urlencoded; the body is still one JSON event.
    finding = FIXTURES / "guardduty-credential-exfiltration.json"
    proc = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", daemon.url + "/events",
                           "-d", f"@{finding}"], capture_output=True, text=True, timeout=20)
    body, _, status = proc.stdout.rpartition("\n")
    assert status == "200", proc.stdout
    assert json.loads(body)["Entries"][0]["EventId"] == "c8c4daa7-a20c-2f03-0070-b7393dd542ad"
    for type_ in ["text/plain", "application/cloudevents+json"]:
        status, _, text = curl("-X", "POST", "-H", f"Content-Type: {type_}", "--data-binary",
                               '{"source":"s","detail-type":"d","detail":{}}',
                               daemon.url + "/events")
        assert status == 200, (type_, text)


def test_unknown_path_and_method(daemon):
    status, _, text = curl(daemon.url + "/nope")
    assert status == 404 and json.loads(text)["error"]["code"] == "NotFound"
    status, headers, text = curl("-X", "DELETE", daemon.url + "/events")
    assert status == 405 and headers["allow"] == "POST"
    status, headers, _ = curl("-X", "POST", "-H", "Content-Type: application/json", "-d", "{}",
                              daemon.url + "/healthz")
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_oversized_headers(daemon):
    status, _, text = curl("-H", "X-Big: " + "a" * 20000, daemon.url + "/healthz")
    assert status == 431 and json.loads(text)["error"]["code"] == "HeadersTooLarge"


def test_slow_headers_are_timed_out(make_daemon):
    daemon = make_daemon(base_config(limits={"header_timeout": "1s"}))
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
        started = time.time()
        data = s.recv(100)
        assert data == b""  # the server closed the connection
        assert time.time() - started < 5
    assert daemon.wait_for_log("too slowly")
    status, _, _ = curl(daemon.url + "/healthz")
    assert status == 200


def test_more_connections_than_the_limit(make_daemon):
    daemon = make_daemon(base_config(limits={"max_connections": 2}))
    held = [socket.create_connection(("127.0.0.1", daemon.port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.2)
        status, headers, text = curl(daemon.url + "/healthz")
        assert status == 503
        assert json.loads(text)["error"]["code"] == "TooManyConnections"
        assert headers["retry-after"] == "1"
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    status, _, _ = curl(daemon.url + "/healthz")
    assert status == 200


def test_keep_alive_serves_many_requests_on_one_connection(daemon):
    import subprocess
    urls = [daemon.url + "/healthz"] * 50
    proc = subprocess.run(["curl", "-sv", *urls], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert proc.stderr.count("Re-using existing connection") == 49
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    event = fixture_text("guardduty-port-probe-low.json")
    for _ in range(200):
        conn.request("POST", "/events", body=event, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["FailedEntryCount"] == 0
    conn.close()


def test_daemon_survives_garbage(daemon):
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as s:
        s.sendall(b"\x00\x01\x02 not http at all\r\n\r\n")
        answer = s.recv(4096).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 400")
    status, _, _ = curl(daemon.url + "/healthz")
    assert status == 200


def test_numbers_past_the_double_range_are_kept_and_matched(make_daemon):
    # A scanner's huge counter is valid JSON: the finding is accepted, matched and delivered
    # with its numbers as written.
    rule = """rules:
  - name: big
    event_pattern:
      source: [custom.scanner]
      detail:
        count: [100000000000000000000]
        exact: [1.00000000000000000001]
        other: [{exists: true}]
    targets:
      - id: q
        type: queue_file
        path: big.jsonl
"""
    daemon = make_daemon(rules={"big.yaml": rule})
    detail = ('{"count":1e20,"exact":1.00000000000000000001,"other":1e400,'
              '"n":[-1e400,1e-400,123456789012345678901234567890]}')
    status, _, body = post_json(daemon.url + "/events",
                                '{"source":"custom.scanner","detail-type":"Scan","detail":'
                                + detail + '}')
    assert status == 200 and body["FailedEntryCount"] == 0, body
    # The same detail through PutEvents, with a count that no longer matches.
    status, _, text = curl(
        "-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AWSEvents.PutEvents", "--data-binary", "@-", daemon.url + "/",
        data=json.dumps({"Entries": [{
            "Source": "custom.scanner", "DetailType": "Scan",
            "Detail": detail.replace('"count":1e20', '"count":100000000000000000001')}]}))
    assert status == 200 and json.loads(text)["FailedEntryCount"] == 0, text
    queue = daemon.state_dir / "big.jsonl"
    assert wait_for(lambda: queue.exists() and queue.read_text().strip()), daemon.log()
    time.sleep(0.5)
    lines = [l for l in queue.read_text().splitlines() if l]
    assert len(lines) == 1, lines
    assert '"detail":' + detail in lines[0]


def test_malformed_numbers_are_still_refused(daemon):
    status, _, body = post_json(daemon.url + "/events",
                                '{"source":"s","detail-type":"d","detail":{"n":01}}')
    assert status == 400 and body["error"]["code"] == "MalformedJSON", body
