"""The web console (/console) in headless Chromium against a real daemon fed the fixtures: every
page shows its data, the sandbox answers, an event's timeline opens, a dead letter is redriven,
and a hostile finding is shown as text and runs nothing. Screenshots of each page are saved as
test artifacts (console_support.artifacts_dir)."""
import json
import shutil
import tempfile
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console_support import (screenshot, start_browser, stop_browser, support, wait_until)

ADMIN, READ = "console-admin-token-1", "console-read-token-2"
TOKENS = f"{ADMIN} role=admin\n{READ} role=read\n"
CONFIG_EXTRA = "auth:\n  tokens_file: tokens\ndelivery:\n  backoff_base: 100ms\n  backoff_cap: 500ms\n"

FIXTURE_NAMES = sorted(p.name for p in support.FIXTURES.glob("*.json"))
GUARDDUTY_HIGH = "c8c4daa7-a20c-2f03-0070-b7393dd542ad"
GUARDDUTY_LOW = "5e1f0a3b-7c2d-4e8f-9a6b-1c0d2e3f4a5b"

HOSTILE_ID = "hostile-finding-0001"
HOSTILE_SOURCE = "test.<b>hostile</b>"
HOSTILE_DETAIL_TYPE = "Finding <b>bold</b>"
HOSTILE_TITLE = "<img src=x onerror=window.__pwned=1>"
HOSTILE_NOTE = "<script>window.__pwned=2</script>"
HOSTILE = {"id": HOSTILE_ID, "source": HOSTILE_SOURCE, "detail-type": HOSTILE_DETAIL_TYPE,
           "detail": {"severity": 9, "title": HOSTILE_TITLE, "note": HOSTILE_NOTE}}
REDRIVE_EVENT = {"id": "redrive-me-0001", "source": "console.test", "detail-type": "Redrive me",
                 "detail": {"n": 1}}


def findings_rules(oncall_port):
    return f"""rules:
  - name: guardduty-high-severity
    description: GuardDuty findings of severity 7 or more
    event_pattern:
      source: [aws.guardduty]
      detail:
        severity: [{{numeric: [">=", 7]}}]
    targets:
      - id: high-queue
        type: queue_file
        path: queues/high.jsonl
  - name: every-aws-finding
    event_pattern:
      source: [{{prefix: "aws."}}]
    targets:
      - id: all-queue
        type: queue_file
        path: queues/all.jsonl
  - name: page-oncall
    description: Pages whoever is on call; nothing listens on its port, so it dead-letters
    event_pattern:
      detail:
        severity: [{{numeric: [">=", 7]}}]
    targets:
      - id: pager
        type: webhook
        url: http://127.0.0.1:{oncall_port}/page
        timeout: 1s
        retry_policy: {{maximum_retry_attempts: 0}}
        dead_letter: {{path: dlq/page-oncall.jsonl}}
"""


def redrive_rules(port):
    return f"""rules:
  - name: redrive-me
    event_pattern:
      source: [console.test]
    targets:
      - id: hook
        type: webhook
        url: http://127.0.0.1:{port}/in
        timeout: 1s
        retry_policy: {{maximum_retry_attempts: 0}}
        dead_letter: {{path: dlq/redrive-me.jsonl}}
"""


def rule_line(text, name):
    """The 1-based line of `- name: NAME` in a rules file: what the rules page shows."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == f"- name: {name}")


def api(daemon, method, path, body=None, token=ADMIN):
    args = ["-X", method, "-H", f"Authorization: Bearer {token}"]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    status, headers, text = support.curl(*args, daemon.url + path, data=body)
    return status, headers, (json.loads(text) if text else None)


def dead_letters(daemon, rule=None):
    """The daemon's dead letters (of `rule`), read by `eventrouter dlq list`: what the console
    shows is checked against the files, not against the API it reads itself."""
    letters = support.Backend("journal").dead_letters(daemon)
    return [d for d in letters if rule is None or d["rule"] == rule]


class Receiver:
    """A loopback HTTP server on a given port that records the bodies POSTed to it."""

    def __init__(self, port):
        self.bodies = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(self.rfile.read(length).decode())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def console_daemon():
    root = Path(tempfile.mkdtemp(prefix="eventrouter-console-"))
    oncall = support.RefusedPort()  # the on-call pager is down
    redrive_port = support.free_port()
    findings = findings_rules(oncall.port)
    daemon = support.Daemon(root / "d", support.base_config(extra=CONFIG_EXTRA),
                            rules={"findings.yaml": findings, "redrive.yaml": redrive_rules(redrive_port)},
                            extra_files={"tokens": TOKENS})
    daemon.findings_text = findings
    daemon.redrive_port = redrive_port
    daemon.start()
    try:
        for name in FIXTURE_NAMES:
            status, _, body = api(daemon, "POST", "/events", support.fixture_text(name))
            assert status == 200 and body["FailedEntryCount"] == 0, (name, body)
        for event in (HOSTILE, REDRIVE_EVENT):
            status, _, body = api(daemon, "POST", "/events", json.dumps(event))
            assert status == 200 and body["FailedEntryCount"] == 0, body
        # Two dead letters for page-oncall (the high-severity finding and the hostile one) and
        # one for redrive-me, once their single attempts have failed.
        assert support.wait_for(lambda: len(dead_letters(daemon)) == 3), daemon.log()
        yield daemon
    finally:
        daemon.stop()
        oncall.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    driver, profile = start_browser()
    yield driver
    stop_browser(driver, profile)


def by_testid(driver, testid):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, f"[data-testid='{testid}']")


def by_id(driver, element_id):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, element_id)


def open_page(driver, daemon, route, token=ADMIN):
    """Loads the console in a fresh document, types `token` into the header's token box (None:
    signs out) and goes to #/ROUTE; waits for that page, or for the request for a token."""
    driver.get("about:blank")
    driver.get(daemon.url + "/console/#/overview")
    wait_until(driver, lambda d: d.execute_script("return document.readyState") == "complete",
               "the console to load")
    wait_until(driver, lambda d: by_id(d, "token-state").text in ("Token set", "No token"),
               "the token box")
    if by_id(driver, "token-state").text == "Token set":
        by_id(driver, "sign-out").click()
    if token:
        by_id(driver, "token-input").send_keys(token)
        by_id(driver, "token-save").click()
        wait_until(driver, lambda d: by_id(d, "token-state").text == "Token set", "the token")
    driver.execute_script("location.hash = arguments[0];", "#/" + route)
    name = route.split("/")[0]
    testid = f"page-{name}" + ("-detail" if "/" in route else "")
    wait_until(driver, lambda d: by_testid(d, testid) or by_testid(d, "auth-required"), f"page {route}")
    if token:
        assert not by_testid(driver, "auth-required"), by_testid(driver, "auth-required")[0].text


def view_text(driver):
    return by_id(driver, "view").text


def assert_nothing_ran(driver):
    """No script of the hostile event ran and no element was made of its markup."""
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    counts = driver.execute_script(
        "return {img: document.querySelectorAll('img').length,"
        " b: document.querySelectorAll('b').length,"
        " script: document.querySelectorAll('script').length};")
    assert counts == {"img": 0, "b": 0, "script": 1}, counts


def test_the_overview_charts_the_last_hour(console_daemon, browser):
    open_page(browser, console_daemon, "overview")
    received = wait_until(browser, lambda d: by_testid(d, "chart-received"), "the received chart")[0]
    assert int(received.get_attribute("data-total")) == len(FIXTURE_NAMES) + 2
    bars = received.find_elements("css selector", "rect.chart-bar")
    assert len(bars) == 60
    assert any(float(bar.get_attribute("data-value")) > 0 for bar in bars)
    for key in ("matched", "delivered", "failed", "dead_lettered"):
        assert by_testid(browser, f"chart-{key}"), key
    assert int(by_testid(browser, "chart-dead_lettered")[0].get_attribute("data-total")) == 3
    assert by_testid(browser, "total-received")[0].text == str(len(FIXTURE_NAMES) + 2)
    screenshot(browser, "overview")


def test_the_rules_page_lists_each_rule_with_its_file_and_line(console_daemon, browser):
    open_page(browser, console_daemon, "rules")
    rows = {row.get_attribute("data-rule"): row for row in by_testid(browser, "rule-row")}
    assert set(rows) == {"guardduty-high-severity", "every-aws-finding", "page-oncall", "redrive-me"}
    for name in ("guardduty-high-severity", "every-aws-finding", "page-oncall"):
        location = rows[name].find_element("css selector", "[data-testid='rule-location']").text
        assert location.endswith(f"findings.yaml:{rule_line(console_daemon.findings_text, name)}"), location
    assert rows["redrive-me"].find_element("css selector", "[data-testid='rule-location']").text \
        .endswith("redrive.yaml:2")
    matches = rows["every-aws-finding"].find_element("css selector", "[data-testid='rule-matches']").text
    assert matches == str(len(FIXTURE_NAMES))
    assert '"numeric"' in rows["page-oncall"].text and "pager" in rows["page-oncall"].text
    screenshot(browser, "rules")


def set_text(element, text):
    element.clear()
    element.send_keys(text)


def sandbox_result(driver):
    return wait_until(driver, lambda d: by_id(d, "sandbox-result").get_attribute("data-result")
                      not in (None, "", "pending") and by_id(d, "sandbox-result"), "a sandbox answer")


def test_the_sandbox_says_match_no_match_and_why_a_pattern_is_invalid(console_daemon, browser):
    from selenium.webdriver.support.ui import Select

    open_page(browser, console_daemon, "sandbox")
    by_id(browser, "sandbox-test").click()
    result = sandbox_result(browser)
    assert result.get_attribute("data-result") == "match" and result.text == "MATCH"
    screenshot(browser, "sandbox")

    set_text(by_id(browser, "sandbox-pattern"), '{"source": ["aws.macie"]}')
    by_id(browser, "sandbox-test").click()
    wait_until(browser, lambda d: by_id(d, "sandbox-result").text == "NO MATCH", "NO MATCH")

    set_text(by_id(browser, "sandbox-pattern"), '{"detail": {"severity": [{"numeric": [">", "seven"]}]}}')
    by_id(browser, "sandbox-test").click()
    wait_until(browser, lambda d: by_id(d, "sandbox-result").get_attribute("data-result") == "invalid",
               "the invalid answer")
    assert by_id(browser, "sandbox-result").text.startswith("Event pattern is not valid. Reason: ")
    screenshot(browser, "sandbox-invalid")

    # Pick the Macie finding among the recent events: it fills the event box, and now matches.
    picker = Select(by_id(browser, "recent-picker"))
    macie = next(o.text for o in picker.options if "aws.macie" in o.text)
    picker.select_by_visible_text(macie)
    assert '"aws.macie"' in by_id(browser, "sandbox-event").get_attribute("value")
    set_text(by_id(browser, "sandbox-pattern"), '{"source": ["aws.macie"]}')
    by_id(browser, "sandbox-test").click()
    wait_until(browser, lambda d: by_id(d, "sandbox-result").text == "MATCH", "MATCH on the picked event")

    # Which of the last events does a GuardDuty pattern match: the two GuardDuty fixtures.
    set_text(by_id(browser, "sandbox-pattern"), '{"source": ["aws.guardduty"]}')
    set_text(by_id(browser, "recent-limit"), "50")
    by_id(browser, "which-match").click()
    rows = wait_until(browser, lambda d: by_testid(d, "which-match-row"), "the matching events")
    ids = {row.find_element("css selector", "a").text for row in rows}
    assert ids == {GUARDDUTY_HIGH, GUARDDUTY_LOW}
    assert by_testid(browser, "which-summary")[0].text == f"2 of the last {len(FIXTURE_NAMES) + 2} events match."
    screenshot(browser, "sandbox-which")
    # Each is a link to its history page.
    next(r for r in rows if GUARDDUTY_LOW in r.text).find_element("css selector", "a").click()
    wait_until(browser, lambda d: by_testid(d, "event-id") and by_testid(d, "event-id")[0].text == GUARDDUTY_LOW,
               "the event page")


def test_the_events_page_lists_the_events_and_opens_a_timeline(console_daemon, browser):
    open_page(browser, console_daemon, "events")
    expected = {json.loads(support.fixture_text(name))["id"] for name in FIXTURE_NAMES}
    expected |= {HOSTILE_ID, REDRIVE_EVENT["id"]}
    rows = wait_until(browser, lambda d: by_testid(d, "event-row"), "event rows")
    assert {row.get_attribute("data-event-id") for row in rows} == expected
    screenshot(browser, "events")

    # Filter on a rule, then open the high-severity GuardDuty finding by clicking its id.
    set_text(by_id(browser, "filter-rule"), "page-oncall")
    by_id(browser, "events-apply").click()
    wait_until(browser, lambda d: {r.get_attribute("data-event-id") for r in by_testid(d, "event-row")}
               == {GUARDDUTY_HIGH, HOSTILE_ID}, "the filtered rows")
    row = next(r for r in by_testid(browser, "event-row") if r.get_attribute("data-event-id") == GUARDDUTY_HIGH)
    row.find_element("css selector", "a").click()
    steps = wait_until(browser, lambda d: by_testid(d, "timeline-step"), "the timeline")
    assert browser.current_url.endswith(f"#/events/{GUARDDUTY_HIGH}")
    kinds = sorted(step.get_attribute("data-kind") for step in steps)
    assert kinds == ["dead_lettered", "delivered", "delivered"], kinds
    text = view_text(browser)
    for name in ("guardduty-high-severity", "every-aws-finding", "page-oncall", "pager", "high-queue"):
        assert name in text, name
    dead = next(s for s in steps if s.get_attribute("data-kind") == "dead_lettered")
    assert dead.find_element("css selector", "[data-testid='step-error']").text
    assert "Dead-lettered" in dead.text and "attempt" in dead.text
    screenshot(browser, "event")


def test_a_hostile_finding_is_shown_as_text_everywhere(console_daemon, browser):
    from selenium.webdriver.support.ui import Select

    open_page(browser, console_daemon, "events")
    wait_until(browser, lambda d: HOSTILE_SOURCE in view_text(d), "the hostile source as text")
    assert HOSTILE_DETAIL_TYPE in view_text(browser)
    assert_nothing_ran(browser)

    open_page(browser, console_daemon, f"events/{HOSTILE_ID}")
    wait_until(browser, lambda d: by_testid(d, "reception-source"), "the reception")
    assert by_testid(browser, "reception-source")[0].text == HOSTILE_SOURCE
    assert by_testid(browser, "reception-detail-type")[0].text == HOSTILE_DETAIL_TYPE
    body = by_testid(browser, "event-body")[0].text
    assert HOSTILE_TITLE in body and HOSTILE_NOTE in body
    assert_nothing_ran(browser)
    screenshot(browser, "event-hostile")

    open_page(browser, console_daemon, "sandbox")
    picker = Select(by_id(browser, "recent-picker"))
    hostile = next(o.text for o in picker.options if HOSTILE_ID in o.text)
    assert HOSTILE_SOURCE in hostile and HOSTILE_DETAIL_TYPE in hostile
    picker.select_by_visible_text(hostile)
    assert HOSTILE_TITLE in by_id(browser, "sandbox-event").get_attribute("value")
    assert_nothing_ran(browser)

    open_page(browser, console_daemon, "dead-letters")
    row = wait_until(browser, lambda d: [r for r in by_testid(d, "dead-letter-row") if HOSTILE_ID in r.text],
                     "the hostile dead letter")[0]
    assert f"{HOSTILE_SOURCE} · {HOSTILE_DETAIL_TYPE}" in row.text
    row.find_element("css selector", "summary").click()
    shown = row.find_element("css selector", "[data-testid='dead-letter-json']").text
    assert HOSTILE_TITLE in shown and HOSTILE_NOTE in shown
    assert_nothing_ran(browser)


def test_the_dead_letters_page_lists_and_filters(console_daemon, browser):
    open_page(browser, console_daemon, "dead-letters")
    rows = wait_until(browser, lambda d: by_testid(d, "dead-letter-row"), "dead letters")
    assert len(rows) == 3
    assert any(GUARDDUTY_HIGH in r.text and "page-oncall" in r.text and "pager" in r.text for r in rows)
    screenshot(browser, "dead-letters")
    set_text(by_id(browser, "dl-filter-rule"), "redrive-me")
    by_id(browser, "dl-apply").click()
    wait_until(browser, lambda d: len(by_testid(d, "dead-letter-row")) == 1
               and "redrive-me-0001" in by_testid(d, "dead-letter-row")[0].text, "the filtered list")
    set_text(by_id(browser, "dl-filter-rule"), "")
    by_id(browser, "dl-apply").click()
    wait_until(browser, lambda d: len(by_testid(d, "dead-letter-row")) == 3, "the whole list again")


def click_redrive(driver, rule):
    button = next(b for b in by_testid(driver, "redrive-button") if b.get_attribute("data-rule") == rule)
    button.click()
    wait_until(driver, lambda d: not by_id(d, "dialog").get_attribute("hidden"), "the confirmation")
    return by_id(driver, "dialog-text").text


def test_redrive_needs_admin_and_delivers_after_confirmation(console_daemon, browser):
    # A read token sees the dead letters, but the redrive is refused with the daemon's 403.
    open_page(browser, console_daemon, "dead-letters", token=READ)
    wait_until(browser, lambda d: by_testid(d, "redrive-button"), "the redrive buttons")
    question = click_redrive(browser, "redrive-me")
    assert question.startswith('Redrive 1 dead letter of rule "redrive-me", target "hook"?'), question
    by_id(browser, "dialog-confirm").click()
    wait_until(browser, lambda d: d.find_element("id", "error-banner").is_displayed(), "the 403 banner")
    assert "it needs role admin" in by_id(browser, "error-text").text
    assert len(dead_letters(console_daemon, rule="redrive-me")) == 1

    # The receiver comes up; an admin redrives after confirming, and it gets the event.
    receiver = Receiver(console_daemon.redrive_port)
    try:
        open_page(browser, console_daemon, "dead-letters")
        wait_until(browser, lambda d: by_testid(d, "redrive-button"), "the redrive buttons")
        question = click_redrive(browser, "redrive-me")
        assert 'rule "redrive-me", target "hook"' in question
        screenshot(browser, "dead-letters-confirm")
        by_id(browser, "dialog-confirm").click()
        notice = wait_until(browser, lambda d: by_testid(d, "redrive-notice"), "the redrive result")[0]
        assert notice.text.startswith("Redriven: 1, skipped: 0"), notice.text
        assert support.wait_for(lambda: receiver.bodies, timeout=15), console_daemon.log()
        assert json.loads(receiver.bodies[0])["id"] == REDRIVE_EVENT["id"]
        wait_until(browser, lambda d: not any(b.get_attribute("data-rule") == "redrive-me"
                                              for b in by_testid(d, "redrive-button")), "the list without it")
        assert dead_letters(console_daemon, rule="redrive-me") == []
        assert len(dead_letters(console_daemon)) == 2
    finally:
        receiver.close()


def test_without_a_token_the_console_asks_for_one(console_daemon, browser):
    open_page(browser, console_daemon, "overview", token=None)
    panel = wait_until(browser, lambda d: by_testid(d, "auth-required"), "the request for a token")[0]
    assert "needs a token" in panel.text
    screenshot(browser, "token")
    by_id(browser, "auth-token-input").send_keys(READ)
    by_id(browser, "auth-token-save").click()
    wait_until(browser, lambda d: by_testid(d, "chart-received"), "the overview after the token")
    assert by_id(browser, "token-state").text == "Token set"
    # Sign out forgets it: the next page asks again.
    by_id(browser, "sign-out").click()
    wait_until(browser, lambda d: by_testid(d, "auth-required"), "the request after signing out")
    assert browser.execute_script("return sessionStorage.length") == 0


def test_assets_carry_a_strict_csp_and_pages_break_none_of_it(console_daemon, browser):
    with urllib.request.urlopen(console_daemon.url + "/console/", timeout=10) as answer:
        headers = answer.headers
        page = answer.read().decode()
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                      "frame-ancestors 'none'"):
        assert directive in csp, csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "<script type=\"module\" src=\"app.js\">" in page

    browser.get_log("browser")  # forget what earlier tests logged
    for route in ("overview", "rules", "sandbox", "events", f"events/{GUARDDUTY_HIGH}", "dead-letters"):
        open_page(browser, console_daemon, route)
    severe = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not [m for m in severe if "Content Security Policy" in m], severe
    # Nothing else went wrong either (a 401 or 404 the page handled is logged by the browser as
    # a failed resource, and is not among these).
    assert not [m for m in severe if "Failed to load resource" not in m], severe
