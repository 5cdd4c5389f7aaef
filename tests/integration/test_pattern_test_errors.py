"""Why a pattern test has no answer decides the error code each API gives: ours
(POST /test-event-pattern) and AWS's (AWSEvents.TestEventPattern). The messages are the
pattern engine's own, the same in both."""
import json

from conftest import curl, post_json


def aws_test(daemon, event, pattern):
    status, headers, text = curl(
        "-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AWSEvents.TestEventPattern", "--data-binary", "@-",
        daemon.url + "/", data=json.dumps({"Event": event, "EventPattern": pattern}))
    return status, headers, json.loads(text)


def our_test(daemon, event, pattern):
    status, _, body = post_json(daemon.url + "/test-event-pattern",
                                json.dumps({"Event": event, "EventPattern": pattern}))
    return status, body["error"]["code"], body["error"]["message"]


def test_an_invalid_pattern_and_an_invalid_event_get_their_own_codes_in_both_apis(daemon):
    bad_pattern = '{"source": []}'
    status, code, message = our_test(daemon, '{"source": "a"}', bad_pattern)
    assert (status, code) == (400, "InvalidEventPattern")
    assert message.startswith("Event pattern is not valid. Reason: ")
    status, headers, body = aws_test(daemon, '{"source": "a"}', bad_pattern)
    assert (status, body["__type"]) == (400, "InvalidEventPatternException")
    assert headers["x-amzn-errortype"] == "InvalidEventPatternException"
    assert body["message"] == message

    for event, reason in [("[1]", "Event must be a JSON object"),
                          ('{"a": 1', "Event is not valid JSON: "),
                          ('{"a": 1, "a": 2}', "Event is not valid: ")]:
        status, code, message = our_test(daemon, event, '{"source": ["a"]}')
        assert (status, code) == (400, "InvalidEvent"), event
        assert message.startswith(reason), message
        status, _, body = aws_test(daemon, event, '{"source": ["a"]}')
        assert (status, body["__type"]) == (400, "ValidationException"), event
        assert body["message"] == message


def test_a_request_without_a_pattern_is_a_validation_error_in_the_aws_api(daemon):
    status, _, text = curl(
        "-X", "POST", "-H", "Content-Type: application/x-amz-json-1.1",
        "-H", "X-Amz-Target: AWSEvents.TestEventPattern", "--data-binary", '{"Event": "{}"}',
        daemon.url + "/")
    aws = json.loads(text)
    assert (status, aws["__type"]) == (400, "ValidationException")
    assert aws["message"].startswith("missing EventPattern")
    status, _, body = post_json(daemon.url + "/test-event-pattern", '{"Event": {}}')
    assert (status, body["error"]["code"]) == (400, "InvalidRequest")
    assert body["error"]["message"] == aws["message"]
