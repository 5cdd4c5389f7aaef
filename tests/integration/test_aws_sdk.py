"""An unmodified AWS SDK (boto3) pointed at the daemon with an endpoint override."""
import json

import pytest

from conftest import curl, fixture_text, post_json

boto3 = pytest.importorskip("boto3")
botocore = pytest.importorskip("botocore")


@pytest.fixture
def events_client(daemon):
    return boto3.client(
        "events", endpoint_url=daemon.url, region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy-secret",
        config=botocore.config.Config(retries={"max_attempts": 1}))


def test_put_events(events_client):
    finding = json.loads(fixture_text("guardduty-credential-exfiltration.json"))
    response = events_client.put_events(Entries=[
        {"Source": finding["source"], "DetailType": finding["detail-type"],
         "Detail": json.dumps(finding["detail"]), "Resources": finding["resources"],
         "EventBusName": "default"},
        {"Source": "custom.tool", "DetailType": "Check", "Detail": "not json"},
    ])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["FailedEntryCount"] == 1
    assert len(response["Entries"][0]["EventId"]) == 36
    assert response["Entries"][1]["ErrorCode"] == "MalformedDetail"


def test_put_events_validation_error_raises_like_aws(events_client):
    entries = [{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 11
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        events_client.put_events(Entries=entries)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_test_event_pattern(events_client):
    event = fixture_text("guardduty-credential-exfiltration.json")
    pattern = {"source": ["aws.guardduty"], "detail": {"severity": [{"numeric": [">=", 7]}]}}
    result = events_client.test_event_pattern(EventPattern=json.dumps(pattern), Event=event)
    assert result["Result"] is True
    pattern["detail"]["severity"] = [{"numeric": [">=", 9]}]
    result = events_client.test_event_pattern(EventPattern=json.dumps(pattern), Event=event)
    assert result["Result"] is False
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        events_client.test_event_pattern(EventPattern='{"source": "aws.guardduty"}', Event=event)
    assert raised.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert raised.value.response["Error"]["Message"].startswith("Event pattern is not valid.")


def test_test_event_pattern_endpoint(daemon):
    event = json.loads(fixture_text("securityhub-failed-new.json"))
    pattern = {"source": ["aws.securityhub"],
               "detail": {"findings": {"Compliance": {"Status": ["FAILED"]}}}}
    status, _, body = post_json(daemon.url + "/test-event-pattern",
                                json.dumps({"Event": event, "EventPattern": pattern}))
    assert status == 200 and body == {"Result": True}
    pattern["detail"]["findings"]["Compliance"]["Status"] = ["PASSED"]
    status, _, body = post_json(daemon.url + "/test-event-pattern",
                                json.dumps({"Event": event, "EventPattern": pattern}))
    assert status == 200 and body == {"Result": False}
    status, _, body = post_json(daemon.url + "/test-event-pattern",
                                json.dumps({"Event": event, "EventPattern": {"source": []}}))
    assert status == 400 and body["error"]["code"] == "InvalidEventPattern"
    assert body["error"]["message"].startswith("Event pattern is not valid. Reason:")
    status, _, body = post_json(daemon.url + "/test-event-pattern",
                                json.dumps({"Event": [1], "EventPattern": {"source": ["x"]}}))
    assert status == 400 and body["error"]["code"] == "InvalidEvent"
    status, _, body = post_json(daemon.url + "/test-event-pattern", json.dumps({"Event": {}}))
    assert status == 400 and "EventPattern" in body["error"]["message"]


def test_test_event_pattern_takes_any_json_number(daemon, events_client):
    # EventBridge takes any JSON event: numbers past the double range match as their text, and
    # numbers a double holds exactly compare by value however they are written.
    cases = [
        ({"a": [{"exists": True}]}, '{"a":1,"b":1e400}', True),
        ({"a": [{"exists": True}]}, '{"a":1,"b":100000000000000000000}', True),
        ({"a": [100000000000000000000]}, '{"a":1e20}', True),
        ({"a": [1]}, '{"a":1.00000000000000000001}', False),
        ({"a": [{"numeric": [">", 0]}]}, '{"a":9007199254740993}', False),
    ]
    for pattern, event, expected in cases:
        text = json.dumps(pattern)
        result = events_client.test_event_pattern(EventPattern=text, Event=event)
        assert result["Result"] is expected, (pattern, event)
        # The same with the event and pattern as JSON objects in the body.
        status, _, body = post_json(daemon.url + "/test-event-pattern",
                                    '{"Event":' + event + ',"EventPattern":' + text + '}')
        assert status == 200 and body == {"Result": expected}, (pattern, event, body)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        events_client.test_event_pattern(
            EventPattern='{"a":[{"numeric":[">",9007199254740993]}]}', Event='{"a":1}')
    assert "Cannot compare number : 9007199254740993" in raised.value.response["Error"]["Message"]
