"""Installation, the systemd unit and the Dockerfile (docs/operations.md)."""
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, SOURCE_DIR

BUILD_DIR = Path(BINARY).resolve().parent
UNIT = "lib/systemd/system/eventrouter.service"


def install(prefix, destdir=None):
    """`cmake --install` of the build that produced the binary under test."""
    if not (BUILD_DIR / "cmake_install.cmake").exists():
        pytest.skip(f"{BUILD_DIR} is not a CMake build directory")
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir:
        env["DESTDIR"] = str(destdir)
    proc = subprocess.run(["cmake", "--install", str(BUILD_DIR), "--prefix", str(prefix)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    root = tmp_path_factory.mktemp("prefix")
    install(root)
    return root


def test_install_puts_every_file_in_its_place(prefix):
    binary = prefix / "bin" / "eventrouter"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert (prefix / UNIT).is_file()
    assert "u eventrouter " in (prefix / "lib/sysusers.d/eventrouter.conf").read_text()
    etc = prefix / "etc" / "eventrouter"
    assert (etc / "eventrouter.yaml").is_file()
    shipped_rules = sorted(p.name for p in (SOURCE_DIR / "config" / "rules.d").iterdir())
    assert sorted(p.name for p in (etc / "rules.d").iterdir()) == shipped_rules
    # Every runbook, with its executable bit.
    source_runbooks = SOURCE_DIR / "config" / "runbooks"
    for src in source_runbooks.rglob("*"):
        if src.is_file():
            dest = etc / "runbooks" / src.relative_to(source_runbooks)
            assert dest.read_bytes() == src.read_bytes(), dest
            assert bool(dest.stat().st_mode & stat.S_IXUSR) == bool(src.stat().st_mode & stat.S_IXUSR)
    docs = prefix / "share" / "doc" / "eventrouter"
    assert (docs / "operations.md").is_file() and (docs / "security.md").is_file()
    assert (docs / "README.md").is_file()


def test_installed_config_uses_the_system_state_dir(prefix):
    text = (prefix / "etc/eventrouter/eventrouter.yaml").read_text()
    assert re.findall(r"(?m)^state_dir:.*$", text) == ["state_dir: /var/lib/eventrouter"]
    assert "../.state" not in text
    # Everything else is the shipped file's.
    source = (SOURCE_DIR / "config/eventrouter.yaml").read_text()
    assert re.findall(r"(?m)^listen:.*$", text) == re.findall(r"(?m)^listen:.*$", source)


def test_installed_binary_validates_the_installed_config(prefix):
    config = prefix / "etc/eventrouter/eventrouter.yaml"
    proc = subprocess.run([str(prefix / "bin/eventrouter"), "validate", "-c", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unit_points_at_the_install_prefix(prefix):
    unit = (prefix / UNIT).read_text()
    assert not re.search(r"@[A-Z_]+@", unit), "unsubstituted placeholder"
    exec_start = re.search(r"(?m)^ExecStart=(.*)$", unit).group(1).split()
    assert exec_start == [str(prefix / "bin/eventrouter"), "serve", "-c",
                          str(prefix / "etc/eventrouter/eventrouter.yaml")]
    settings = dict(re.findall(r"(?m)^(\w+)=(.*)$", unit))
    assert settings["Type"] == "notify"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert settings["Restart"] == "on-failure"
    assert settings["WatchdogSec"]
    assert settings["User"] == "eventrouter"
    assert settings["StateDirectory"] == "eventrouter"
    assert settings["ConfigurationDirectory"] == "eventrouter"
    assert settings["CapabilityBoundingSet"] == ""
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "NoNewPrivileges",
                "RestrictAddressFamilies", "SystemCallFilter"):
        assert key in settings, key
    assert settings["ProtectSystem"] == "strict"
    assert "@system-service" in unit


def test_systemd_analyze_verify_passes(prefix):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed: the unit was not verified")
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(prefix / UNIT)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Unknown keys and bad values are only warnings: there must be none.
    assert proc.stdout.strip() == "" and proc.stderr.strip() == "", proc.stdout + proc.stderr


def test_systemd_analyze_security_rates_the_unit_ok(prefix):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed: the unit was not rated")
    proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(prefix / UNIT)],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 and "offline" in proc.stderr:
        pytest.skip("this systemd-analyze cannot rate unit files offline")
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", proc.stdout)
    assert score, proc.stdout + proc.stderr
    # docs/operations.md and docs/security.md quote this score.
    assert float(score.group(1)) <= 2.0
    documented = re.search(r"exposure score is \*\*([\d.]+) ",
                           (SOURCE_DIR / "docs/operations.md").read_text())
    assert documented and documented.group(1) == score.group(1)


def test_sysusers_entry_creates_the_service_user(tmp_path):
    tool = shutil.which("systemd-sysusers")
    if not tool:
        pytest.skip("systemd-sysusers is not installed")
    (tmp_path / "etc").mkdir()
    proc = subprocess.run([tool, f"--root={tmp_path}",
                           str(SOURCE_DIR / "systemd/eventrouter.sysusers")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    passwd = (tmp_path / "etc/passwd").read_text()
    entry = next(line for line in passwd.splitlines() if line.startswith("eventrouter:"))
    fields = entry.split(":")
    assert int(fields[2]) < 1000 and fields[5] == "/var/lib/eventrouter"
    assert fields[6] == "/usr/sbin/nologin"


def test_reinstall_keeps_changed_config_files(tmp_path):
    install(tmp_path)
    config = tmp_path / "etc/eventrouter/eventrouter.yaml"
    shipped = config.read_text()
    config.write_text(shipped.replace("level: info", "level: debug"))
    rule = sorted((tmp_path / "etc/eventrouter/rules.d").iterdir())[0]
    out = install(tmp_path)
    assert "level: debug" in config.read_text()
    assert (tmp_path / "etc/eventrouter/eventrouter.yaml.dist").read_text() == shipped
    assert "Keeping changed" in out
    # Files nobody changed are simply up to date, with no .dist beside them.
    assert not Path(str(rule) + ".dist").exists()


def test_system_install_with_destdir(tmp_path):
    """The packaging / Dockerfile layout: --prefix /usr keeps the config in /etc."""
    install("/usr", destdir=tmp_path)
    assert (tmp_path / "usr/bin/eventrouter").is_file()
    assert (tmp_path / "etc/eventrouter/eventrouter.yaml").is_file()
    assert not (tmp_path / "usr/etc").exists()
    unit = (tmp_path / "usr" / UNIT).read_text()
    assert ("ExecStart=/usr/bin/eventrouter serve -c /etc/eventrouter/eventrouter.yaml"
            in unit.splitlines())
    assert "EnvironmentFile=-/etc/eventrouter/environment" in unit.splitlines()


# --- Dockerfile -----------------------------------------------------------------------------


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, with continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in (SOURCE_DIR / "Dockerfile").read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "the Dockerfile ends in a line continuation"
    result = []
    for line in lines:
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def stages():
    """The instructions of each build stage, in order."""
    result = []
    for word, args in dockerfile_instructions():
        if word == "FROM":
            result.append([])
        elif not result:
            assert word == "ARG", f"{word} before the first FROM"
            continue
        result[-1].append((word, args))
    return result


KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def test_dockerfile_syntax():
    instructions = dockerfile_instructions()
    for word, args in instructions:
        assert word in KNOWN, f"unknown instruction {word}"
        assert args, f"{word} without arguments"
    froms = [args for word, args in instructions if word == "FROM"]
    assert len(froms) == 2
    assert re.fullmatch(r"debian:12\S* AS build", froms[0], re.IGNORECASE)
    assert froms[1] == "debian:12-slim"
    # Every COPY --from names an earlier stage.
    for word, args in instructions:
        m = re.match(r"--from=(\S+)", args)
        if word == "COPY" and m:
            assert m.group(1) == "build"


def test_dockerfile_runtime_stage():
    runtime = dict(stages()[-1])
    user = runtime["USER"].split(":")[0]
    assert user not in ("root", "0"), "the runtime image must not run as root"
    assert "/healthz" in runtime["HEALTHCHECK"] and runtime["HEALTHCHECK"].split()[0] != "NONE"
    assert "/var/lib/eventrouter" in runtime["VOLUME"]
    assert runtime["EXPOSE"].split() == ["8088"]
    assert "/etc/eventrouter/eventrouter.yaml" in runtime["CMD"]
    assert "serve" in runtime["CMD"]


def test_dockerfile_builds_the_way_the_readme_says():
    build = stages()[0]
    runs = " && ".join(args for word, args in build if word == "RUN")
    # The README's steps (scripts/run.sh, scripts/test.sh): deps.sh, then build.sh.
    readme_steps = (SOURCE_DIR / "scripts/run.sh").read_text()
    for step in ("scripts/deps.sh", "scripts/build.sh"):
        assert step in readme_steps
        assert re.search(rf"(^|\s){re.escape(step)}(\s|$)", runs), f"the build stage skips {step}"
        assert os.access(SOURCE_DIR / step, os.X_OK)
    assert runs.index("scripts/deps.sh") < runs.index("scripts/build.sh")
    assert "cmake --install build --prefix /usr" in runs
    # The stage installs with DESTDIR=/out; the runtime stage copies from where that puts things.
    assert "DESTDIR=/out" in runs


def test_dockerfile_copies_what_the_install_produces(tmp_path):
    install("/usr", destdir=tmp_path)
    runtime = stages()[-1]
    copies = [args.split() for word, args in runtime if word == "COPY" and "--from=" in args]
    assert copies
    for _, src, _dest in copies:
        if src == "/out/runtime-packages":
            continue
        assert src.startswith("/out/")
        assert (tmp_path / src[len("/out/"):]).exists(), f"COPY --from=build {src}: not installed"
    # The build stage makes the container listen on all its interfaces; the installed config
    # has exactly the one listen line its sed rewrites.
    config = (tmp_path / "etc/eventrouter/eventrouter.yaml").read_text()
    assert len(re.findall(r"(?m)^listen: .*$", config)) == 1
    runs = " ".join(args for word, args in stages()[0] if word == "RUN")
    assert "s/^listen: .*/listen: 0.0.0.0:8088/" in runs
    # ...and says, with the one flag, that it may serve without auth there: the container's
    # config passes validate, and the same config without the flag does not.
    assert "'allow_unauthenticated: true' >> /out/etc/eventrouter/eventrouter.yaml" in runs
    exposed = re.sub(r"(?m)^listen: .*$", "listen: 0.0.0.0:8088", config)
    (tmp_path / "etc/eventrouter/eventrouter.yaml").write_text(exposed)
    refused = subprocess.run([BINARY, "validate", "-c", str(tmp_path / "etc/eventrouter")],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "allow_unauthenticated: true" in refused.stdout + refused.stderr
    (tmp_path / "etc/eventrouter/eventrouter.yaml").write_text(
        exposed + "\nallow_unauthenticated: true\n")
    accepted = subprocess.run([BINARY, "validate", "-c", str(tmp_path / "etc/eventrouter")],
                              capture_output=True, text=True)
    assert "allow_unauthenticated" not in accepted.stdout + accepted.stderr, accepted


def test_dockerignore_keeps_build_trees_out_but_sources_in():
    patterns = [line.strip() for line in (SOURCE_DIR / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for needed in (".git", "build*", ".state"):
        assert needed in patterns
    # Nothing the build needs is ignored.
    for kept in ("src", "include", "config", "scripts", "cmake", "systemd", "CMakeLists.txt",
                 "docs", "README.md"):
        assert not any(Path(kept).match(p) for p in patterns if not p.startswith("!")), kept


# --- systemd notify protocol of the real daemon ----------------------------------------------


def notify_socket(path):
    import socket
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    return sock


def receive_until(sock, wanted, timeout=10):
    """Messages received until one equals `wanted` (or the time runs out)."""
    import time
    messages = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            messages.append(sock.recv(4096).decode())
        except OSError:
            continue
        if wanted in messages[-1].splitlines():
            break
    return messages


def test_daemon_speaks_the_notify_protocol(make_daemon, workdir, monkeypatch):
    """What Type=notify, ExecReload and WatchdogSec rely on."""
    import signal
    sock = notify_socket(workdir / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(workdir / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # WatchdogSec=400ms: pings every 200 ms
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    try:
        daemon = make_daemon()
        assert "READY=1" in "\n".join(receive_until(sock, "READY=1"))
        pings = [m for m in receive_until(sock, "never", timeout=1.5) if m == "WATCHDOG=1"]
        assert 3 <= len(pings) <= 12, pings
        daemon.signal(signal.SIGHUP)
        reload = receive_until(sock, "READY=1")
        assert any("RELOADING=1" in m for m in reload), reload
        daemon.signal(signal.SIGTERM)
        assert any("STOPPING=1" in m for m in receive_until(sock, "STOPPING=1")), "no STOPPING=1"
        assert daemon.proc.wait(15) == 0
    finally:
        sock.close()


# Spelled in pieces so that this file does not cite them itself.
OUTSIDE_THE_REPO = ("DESIGN" + ".md", "../" + "shared")


def test_the_repository_stands_alone():
    """Code and docs never cite files outside the repository (the design notes it was built
    from live elsewhere: what the project needs of them is in docs/)."""
    tracked = subprocess.run(["git", "-C", str(SOURCE_DIR), "ls-files"], capture_output=True,
                             text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    offenders = []
    for name in tracked.stdout.splitlines():
        path = SOURCE_DIR / name
        if path.suffix not in {".md", ".cpp", ".hpp", ".py", ".sh", ".yaml", ".txt", ".in"}:
            continue
        text = path.read_text(errors="replace")
        if any(outside in text for outside in OUTSIDE_THE_REPO):
            offenders.append(name)
    assert not offenders, offenders


def test_benchmarks_page_shows_current_figures_not_a_work_log():
    text = (SOURCE_DIR / "docs" / "benchmarks.md").read_text()
    assert not re.search(r"(?im)^#+ .*\bround\b", text), "round-by-round headings"
    headings = re.findall(r"(?m)^## (.+)$", text)
    assert headings.index("Pattern matching") < headings.index("Method")
    assert headings.index("Ingest over HTTP") < headings.index("Method")
    for script in set(re.findall(r"scripts/([\w-]+\.sh)", text)):
        assert (SOURCE_DIR / "scripts" / script).exists(), script
