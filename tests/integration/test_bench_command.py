"""`eventrouter bench match` (docs/cli.md): the matcher timed on the user's own patterns and
events, one a line. The counts are checked exactly on a small known set, the run's length and
memory figures for what they must be, and every bad input for a clear message and exit 2."""
import json
import subprocess

import pytest

from conftest import BINARY

# Three patterns and five events whose matches are known: per event 2, 1, 2, 0 and 1 patterns,
# so 4 events match at least one pattern and there are 6 (event, pattern) matches in a pass.
PATTERNS = """\
# severity and source routes
{"source": ["aws.guardduty"]}

{"detail": {"severity": [{"numeric": [">=", 7]}]}}
{"detail-type": [{"prefix": "Security Hub"}]}
"""
EVENTS = [
    {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": 8}},
    {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": 2}},
    {"source": "aws.securityhub", "detail-type": "Security Hub Findings - Imported",
     "detail": {"severity": 9.5}},
    {"source": "aws.macie", "detail-type": "Macie Finding", "detail": {"severity": 1}},
    {"source": "custom.scanner", "detail-type": "Scan", "detail": {"severity": 7}},
]
MATCHES_PER_EVENT = [2, 1, 2, 0, 1]


def events_text(events=EVENTS):
    return "\n".join(json.dumps(e) for e in events) + "\n"


def bench(*args, timeout=60):
    return subprocess.run([BINARY, "bench", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def files(tmp_path):
    patterns = tmp_path / "patterns.txt"
    events = tmp_path / "events.jsonl"
    patterns.write_text(PATTERNS)
    events.write_text(events_text())
    return patterns, events


def test_the_text_report_counts_the_matches_of_a_known_set(files):
    patterns, events = files
    run = bench("match", "--patterns", patterns, "--events", events, "--seconds", 1)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    lines = dict(line.split(":", 1) for line in run.stdout.splitlines()[1:])
    assert "one thread" in run.stdout.splitlines()[0]
    assert lines["patterns"].strip() == f"3 loaded from {patterns}"
    assert lines["events"].strip() == f"5 in {events}"
    assert lines["per pass"].strip() == (
        "4 events matched at least one pattern; 6 (event, pattern) matches")
    assert lines["load"].strip().endswith("ms (read, compile, build the matcher)")
    rate = lines["rate"].split()
    assert rate[1:] == ["events", "per", "second"] and int(rate[0]) > 0
    assert lines["memory"].strip().startswith("VmRSS ")
    assert "unknown" not in lines["memory"]


def test_the_json_report_has_every_figure_and_the_run_lasts_the_seconds_asked(files):
    patterns, events = files
    run = bench("match", "--patterns", patterns, "--events", events, "--seconds", 2, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert set(report) == {
        "threads", "patterns_file", "patterns_loaded", "patterns_skipped", "load_ms",
        "events_file", "events_in_file", "events_matched_per_pass", "matches_per_pass",
        "seconds", "events_run", "matches_run", "passes", "events_per_second",
        "rss_kib_before_load", "rss_kib_after_load", "rss_kib_end", "matcher_rss_kib"}
    assert report["threads"] == 1
    assert (report["patterns_file"], report["events_file"]) == (str(patterns), str(events))
    assert (report["patterns_loaded"], report["patterns_skipped"]) == (3, 0)
    assert report["events_in_file"] == 5
    assert (report["events_matched_per_pass"], report["matches_per_pass"]) == (4, 6)
    assert 2 <= report["seconds"] < 10
    assert report["load_ms"] >= 0
    # Every event matched, pass after pass (the last one may stop part way): the matches of
    # the whole run follow from the events run.
    full, part = divmod(report["events_run"], 5)
    assert full >= 1
    assert report["matches_run"] == 6 * full + sum(MATCHES_PER_EVENT[:part])
    assert report["passes"] == pytest.approx(report["events_run"] / 5, abs=0.001)
    assert report["events_per_second"] == pytest.approx(
        report["events_run"] / report["seconds"], rel=0.01)
    for key in ("rss_kib_before_load", "rss_kib_after_load", "rss_kib_end"):
        assert report[key] > 1000, key  # a process with its libraries loaded
    assert report["matcher_rss_kib"] == report["rss_kib_after_load"] - report["rss_kib_before_load"]


def test_files_with_windows_line_endings_count_the_same(tmp_path):
    patterns = tmp_path / "patterns.txt"
    events = tmp_path / "events.jsonl"
    patterns.write_bytes(PATTERNS.replace("\n", "\r\n").encode())
    events.write_bytes(events_text().replace("\n", "\r\n").encode())
    run = bench("match", "--patterns", patterns, "--events", events, "--seconds", 1, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["patterns_loaded"], report["events_in_file"]) == (3, 5)
    assert (report["events_matched_per_pass"], report["matches_per_pass"]) == (4, 6)


def test_the_matchers_memory_grows_with_the_patterns(tmp_path, files):
    _, events = files
    many = tmp_path / "many.txt"
    many.write_text("".join(
        json.dumps({"source": [f"custom.source-{i}"],
                    "detail": {"resource": {"arn": [{"prefix": f"arn:aws:s3:::bucket-{i}-"}]},
                               "account": [f"{i:012d}"]}}) + "\n"
        for i in range(5000)))
    small = json.loads(bench("match", "--patterns", files[0], "--events", events, "--seconds", 1,
                             "--json").stdout)
    large = json.loads(bench("match", "--patterns", many, "--events", events, "--seconds", 1,
                             "--json").stdout)
    assert large["patterns_loaded"] == 5000
    assert (large["events_matched_per_pass"], large["matches_per_pass"]) == (0, 0)
    assert large["matcher_rss_kib"] > 2048
    assert small["matcher_rss_kib"] < large["matcher_rss_kib"] / 4


def test_skip_invalid_skips_and_counts_the_invalid_patterns(tmp_path, files):
    _, events = files
    patterns = tmp_path / "mixed.txt"
    patterns.write_text(PATTERNS + '{"source": []}\nnot json\n')
    run = bench("match", "--patterns", patterns, "--events", events, "--seconds", 1, "--json",
                "--skip-invalid")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert (report["patterns_loaded"], report["patterns_skipped"]) == (3, 2)
    assert (report["events_matched_per_pass"], report["matches_per_pass"]) == (4, 6)
    warnings = run.stderr.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{patterns}:6: Event pattern is not valid. Reason: ")
    assert warnings[1].startswith(f"{patterns}:7: Event pattern is not valid. Reason: ")
    assert all(w.endswith(" (skipped)") for w in warnings)


def test_skip_invalid_shows_the_first_twenty_and_counts_the_rest(tmp_path, files):
    _, events = files
    patterns = tmp_path / "mostly-bad.txt"
    patterns.write_text('{"source": ["a"]}\n' + '{"source": []}\n' * 25)
    run = bench("match", "--patterns", patterns, "--events", events, "--seconds", 1,
                "--skip-invalid")
    assert run.returncode == 0, run.stderr
    warnings = run.stderr.splitlines()
    assert len(warnings) == 21
    assert warnings[-1] == f"{patterns}: 5 more invalid patterns skipped"
    assert "1 loaded from" in run.stdout and "25 invalid skipped" in run.stdout


def test_a_pattern_file_with_only_invalid_patterns_fails_even_when_they_are_skipped(tmp_path,
                                                                                     files):
    _, events = files
    patterns = tmp_path / "bad.txt"
    patterns.write_text('{"source": []}\n')
    run = bench("match", "--patterns", patterns, "--events", events, "--skip-invalid")
    assert run.returncode == 2
    assert f"{patterns}: no valid pattern" in run.stderr


def test_help_lists_the_options():
    top = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30)
    assert "bench match --patterns FILE --events FILE" in top.stdout
    for args in (["--help"], ["match", "--help"]):
        run = bench(*args)
        assert run.returncode == 0
        for option in ("--patterns FILE", "--events FILE", "--seconds N", "--skip-invalid",
                       "--json"):
            assert option in run.stdout


BAD_INPUTS = {
    # name: (patterns text or None for no file, events text or None, extra args, message)
    "missing patterns file": (None, events_text(), [], "patterns.txt: cannot open: No such file"),
    "missing events file": (PATTERNS, None, [], "events.jsonl: cannot open: No such file"),
    "invalid pattern": (PATTERNS + '{"source": "aws.guardduty"}\n', events_text(), [],
                        "patterns.txt:6: Event pattern is not valid. Reason: "),
    "pattern not JSON": ("{\n", events_text(), [],
                         "patterns.txt:1: Event pattern is not valid. Reason: "),
    "event not JSON": (PATTERNS, events_text() + '{"source": "x"\n', [],
                       "events.jsonl:6: the event is not valid JSON: "),
    "event not an object": (PATTERNS, "# one\n[1, 2]\n", [],
                            "events.jsonl:2: the event is not a JSON object"),
    "event with a duplicate key": (PATTERNS, '{"source": "a", "source": "b"}\n', [],
                                   "events.jsonl:1: "),
    "empty patterns file": ("# nothing\n\n", events_text(), [], "patterns.txt: no pattern"),
    "empty events file": (PATTERNS, "", [], "events.jsonl: no event"),
    "seconds 0": (PATTERNS, events_text(), ["--seconds", "0"],
                  "--seconds takes a whole number of seconds from 1 to 600, not '0'"),
    "seconds 1000": (PATTERNS, events_text(), ["--seconds", "1000"],
                     "--seconds takes a whole number of seconds from 1 to 600, not '1000'"),
    "seconds not a number": (PATTERNS, events_text(), ["--seconds=1.5"],
                             "not '1.5'"),
    "unknown option": (PATTERNS, events_text(), ["--threads", "4"], "unknown option --threads"),
    "event line too long": (PATTERNS, '{"a": "' + "x" * (1 << 20) + '"}\n', [],
                            "events.jsonl:1: the line is longer than 1048576 bytes"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_a_bad_input_is_refused_with_a_clear_message(tmp_path, name):
    patterns_text, events_text_, extra, message = BAD_INPUTS[name]
    patterns = tmp_path / "patterns.txt"
    events = tmp_path / "events.jsonl"
    if patterns_text is not None:
        patterns.write_text(patterns_text)
    if events_text_ is not None:
        events.write_text(events_text_)
    run = bench("match", "--patterns", patterns, "--events", events, *extra)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert message in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("args, message", [
    ([], "eventrouter bench: give a subcommand"),
    (["matches"], "eventrouter bench: unknown subcommand matches"),
    (["match"], "give both --patterns FILE and --events FILE"),
    (["match", "--patterns", "p.txt"], "give both --patterns FILE and --events FILE"),
    (["match", "--patterns"], "--patterns needs a value"),
    (["match", "--json=yes"], "--json takes no value"),
])
def test_a_usage_error_shows_the_usage(args, message):
    run = bench(*args)
    assert run.returncode == 2
    assert message in run.stderr
    assert "usage: eventrouter bench match" in run.stderr


def test_a_folder_is_not_a_patterns_file(tmp_path, files):
    _, events = files
    run = bench("match", "--patterns", tmp_path, "--events", events)
    assert run.returncode == 2
    assert f"{tmp_path}: is a folder" in run.stderr


def test_control_characters_of_a_pattern_do_not_reach_the_terminal(tmp_path, files):
    _, events = files
    patterns = tmp_path / "patterns.txt"
    # A key holding an escape sequence, in a pattern refused for its value.
    patterns.write_text('{"a\\u001b[31mb": "not a list"}\n')
    run = bench("match", "--patterns", patterns, "--events", events)
    assert run.returncode == 2
    assert f"{patterns}:1: Event pattern is not valid. Reason: " in run.stderr
    assert not any(ord(c) < 0x20 and c != "\n" for c in run.stderr)
