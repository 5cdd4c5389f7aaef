"""Runs every command of docs/getting-started.md, in order, against a daemon started the way the
doc says, and checks each command's output against what the doc shows.

The commands are read from the doc's ```sh / ```console blocks, not listed here: a command added
to the doc is run too, and the test fails if it exits non-zero, if an HTTP request it makes
fails (curl runs with `fail-with-body` from a curlrc), or if its output differs from the output
block the doc shows after it. In shown output, `...` stands for any text (a whole line of `...`
for any number of lines), and timestamps are not compared.

The doc assumes a checkout with the daemon on 127.0.0.1:8088 and state in `.state/`. The test
builds a scratch "checkout" (a copy of config/, links to the fixtures and to the binary under
test as build/eventrouter), so `.state/` and `config/` are scratch copies, and the port is a
free one: `127.0.0.1:8088` in commands is rewritten to it, and so is the config's `listen`.
"""
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BINARY, LISTENING, SOURCE_DIR, free_port

DOC = SOURCE_DIR / "docs" / "getting-started.md"
DOC_PORT = "8088"
SHELL_LANGS = {"sh", "shell", "bash", "console"}
OUTPUT_LANGS = {"", "json", "text"}
# The doc's placeholder for where the checkout is.
DOC_CHECKOUT = "/home/you/eventrouter"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
# Commands that install packages or build are not run: the binary under test is already built.
# `scripts/run.sh` (deps, build, then `build/eventrouter serve -c config/eventrouter.yaml`) is
# replaced by starting that same command on the already-built binary.
RUN_SCRIPT = re.compile(r"^(?:\./)?scripts/run\.sh$")
BUILD_ONLY = re.compile(r"^(?:sudo )?(?:(?:\./)?scripts/(?:deps|build)\.sh|apt-get .*)$")


def fenced_blocks(text):
    """[(lang, [lines], line_number)] of every fenced block."""
    blocks, current = [], None
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"^```\s*([\w-]*)\s*$", line)
        if current is None and fence:
            current = (fence.group(1), [], number)
        elif current is not None and line.startswith("```"):
            blocks.append(current)
            current = None
        elif current is not None:
            current[1].append(line)
    assert current is None, f"{DOC}: unclosed ``` block at line {current[2]}"
    return blocks


def complete(command):
    """Whether `command` is a whole shell command (quotes closed, no trailing backslash)."""
    if command.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def split_commands(lines):
    """Splits a ```sh block into whole commands (multi-line ones joined)."""
    commands, pending = [], ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending = pending + "\n" + line if pending else line
        if complete(pending):
            commands.append(pending)
            pending = ""
    assert not pending, f"unfinished command in {DOC}: {pending!r}"
    return commands


def split_console(lines):
    """[(command, [output lines])] of a ```console block: `$ ` starts a command."""
    steps, pending = [], None
    for line in lines:
        if pending is not None:
            pending = pending + "\n" + line
            if complete(pending):
                steps.append((pending, []))
                pending = None
        elif line.startswith("$ "):
            pending = line[2:]
            if complete(pending):
                steps.append((pending, []))
                pending = None
        else:
            assert steps, f"output before the first command in a console block: {line!r}"
            steps[-1][1].append(line)
    assert pending is None, f"unfinished command in {DOC}: {pending!r}"
    return steps


def doc_steps(text):
    """[(command, expected output lines or None, doc line)] in document order."""
    steps = []
    blocks = fenced_blocks(text)
    for i, (lang, lines, number) in enumerate(blocks):
        if lang not in SHELL_LANGS:
            continue
        if lang == "console":
            for command, output in split_console(lines):
                steps.append((command, output or None, number))
            continue
        commands = split_commands(lines)
        assert commands, f"{DOC}:{number}: a ```{lang} block without a command"
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        shows_output = following is not None and following[0] in OUTPUT_LANGS
        if shows_output:
            # Only an output block directly after the command block (nothing but blank lines
            # and prose in between is allowed by fenced_blocks' order) belongs to it.
            assert len(commands) == 1, (
                f"{DOC}:{number}: an output block follows a block of {len(commands)} commands; "
                "use a ```console block with `$ ` prompts so each output has its command")
        for n, command in enumerate(commands):
            last = n == len(commands) - 1
            steps.append((command, following[1] if shows_output and last else None, number))
    return steps


def output_regex(expected_lines, port, checkout):
    parts = []
    for line in expected_lines:
        line = line.replace(f"127.0.0.1:{DOC_PORT}", f"127.0.0.1:{port}")
        line = line.replace(DOC_CHECKOUT, str(checkout))
        line = TIMESTAMP.sub("...", line.rstrip())
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(re.escape(line).replace(re.escape("..."), r"[^\n]*?") + r"\n")
    return re.compile("".join(parts))


def normalise(output):
    lines = [line.rstrip() for line in output.splitlines()]
    return "".join(line + "\n" for line in lines)



class DocDaemon:
    """`build/eventrouter serve -c config/eventrouter.yaml` in the scratch checkout."""

    def __init__(self, checkout):
        self.checkout = checkout
        self.lines = []
        self.proc = None
        self.port = None

    def start(self, timeout=20):
        config = self.checkout / "config" / "eventrouter.yaml"
        shipped = (SOURCE_DIR / "config" / "eventrouter.yaml").read_text()
        assert re.search(rf"^listen: 127\.0\.0\.1:{DOC_PORT}$", shipped, re.M), (
            f"the doc assumes the shipped config listens on 127.0.0.1:{DOC_PORT}")
        for _ in range(3):
            port = free_port()
            config.write_text(re.sub(r"^listen: .*$", f"listen: 127.0.0.1:{port}", shipped,
                                     flags=re.M))
            self.lines = []
            self.proc = subprocess.Popen(
                ["build/eventrouter", "serve", "-c", "config/eventrouter.yaml"],
                cwd=self.checkout, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)
            found = threading.Event()

            def pump(proc=self.proc, lines=self.lines):
                for line in proc.stdout:
                    lines.append(line.rstrip("\n"))
                    if LISTENING.search(line):
                        found.set()
                found.set()

            self.pump = threading.Thread(target=pump, daemon=True)
            self.pump.start()
            found.wait(timeout)
            if self.proc.poll() is None and any(LISTENING.search(l) for l in self.lines):
                self.port = port
                return self
            self.stop()
        raise AssertionError("the daemon did not start:\n" + "\n".join(self.lines))

    def settle(self, timeout=5):
        """Waits (bounded) until no delivery is pending, as it would be by the time a person
        types the next command: a 200 answers once events are journaled, not delivered."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                text = r.read().decode()
            if re.search(r"^eventrouter_pending_deliveries 0$", text, re.M):
                return
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.pump.join(5)


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "eventrouter"
    root.mkdir()
    shutil.copytree(SOURCE_DIR / "config", root / "config")
    (root / "tests").mkdir()
    (root / "tests" / "fixtures").symlink_to(SOURCE_DIR / "tests" / "fixtures")
    (root / "build").mkdir()
    (root / "build" / "eventrouter").symlink_to(Path(BINARY).resolve())
    curl_home = tmp_path / "curl-home"
    curl_home.mkdir()
    (curl_home / ".curlrc").write_text("fail-with-body\n")
    yield root, curl_home


def test_doc_parser_reads_sh_and_console_blocks():
    text = """
```sh
curl -s \\
  --data-binary '[1,
                  2]' \\
  http://x/   # a comment
# a comment line
echo two
```

```json
{"a":"..."}
```

```console
$ echo one   # first
one
$ printf 'a\\nb\\n'
...
b
```
"""
    with pytest.raises(AssertionError, match="use a ```console block"):
        doc_steps(text)
    text = text.replace("echo two\n", "")
    steps = doc_steps(text)
    assert [s[0].splitlines()[0] for s in steps] == ["curl -s \\", "echo one   # first",
                                                       "printf 'a\\nb\\n'"]
    assert steps[0][1] == ['{"a":"..."}']
    assert steps[1][1] == ["one"] and steps[2][1] == ["...", "b"]
    regex = output_regex(["...", "b"], 1, "/x")
    assert regex.fullmatch("a\nb\n") and regex.fullmatch("b\n") and not regex.fullmatch("a\n")
    assert output_regex(['{"id":"..."}'], 1, "/x").fullmatch('{"id":"42"}\n')
    assert not output_regex(['{"id":"..."}'], 1, "/x").fullmatch('{"id":"4\n2"}\n')


def test_every_command_in_getting_started_works(checkout):
    root, curl_home = checkout
    text = DOC.read_text()
    steps = doc_steps(text)
    assert steps, f"no commands found in {DOC}"
    run_sh = (SOURCE_DIR / "scripts" / "run.sh").read_text()
    assert "build/eventrouter serve -c config/eventrouter.yaml" in run_sh

    env = dict(os.environ, CURL_HOME=str(curl_home), LC_ALL="C")
    env.pop("XDG_CONFIG_HOME", None)
    daemon = DocDaemon(root)
    failures = []
    try:
        for command, expected, number in steps:
            where = f"{DOC.name}:{number}: {command}"
            if BUILD_ONLY.match(command.strip()):
                continue  # installs or builds; the binary under test is already built
            if RUN_SCRIPT.match(command.strip()):
                assert daemon.proc is None, f"{where}: the daemon is already running"
                daemon.start()
                if expected is not None:
                    regex = output_regex(expected, daemon.port, root)
                    if not any(regex.fullmatch(normalise(line)) for line in daemon.lines):
                        failures.append(f"{where}: no log line like {expected!r}; the log:\n"
                                        + "\n".join(daemon.lines))
                continue
            assert daemon.proc is not None, f"{where}: runs before the daemon is started"
            run = command.replace(f"127.0.0.1:{DOC_PORT}", f"127.0.0.1:{daemon.port}")
            run = run.replace(f"localhost:{DOC_PORT}", f"localhost:{daemon.port}")
            assert DOC_PORT not in run, f"{where}: a port this test cannot redirect"
            daemon.settle()
            proc = subprocess.run(["bash", "-c", run], cwd=root, env=env, capture_output=True,
                                  text=True, timeout=60)
            if proc.returncode != 0:
                failures.append(f"{where}\n  exit {proc.returncode}\n  stdout: {proc.stdout}"
                                f"\n  stderr: {proc.stderr}")
                continue
            if expected is not None:
                regex = output_regex(expected, daemon.port, root)
                if not regex.fullmatch(normalise(proc.stdout)):
                    failures.append(f"{where}\n  the doc shows:\n" + "\n".join(expected)
                                    + f"\n  it printed:\n{proc.stdout}")
            elif not proc.stdout.strip():
                failures.append(f"{where}: printed nothing (stderr: {proc.stderr})")
        assert daemon.proc is not None, f"{DOC} never starts the daemon (scripts/run.sh)"
        # Files the doc names under `.state/` exist once its commands have run.
        for path in sorted(set(re.findall(r"`(\.state/[^`\s]*)`", text))):
            if not (root / path).exists():
                failures.append(f"{DOC.name} mentions `{path}`, which does not exist")
        assert daemon.proc.poll() is None, "the daemon died:\n" + "\n".join(daemon.lines)
    finally:
        daemon.stop()
    assert daemon.proc.returncode == 0, "\n".join(daemon.lines)
    assert not failures, "\n\n".join(failures)
