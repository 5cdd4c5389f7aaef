"""HTTPS on the API, with and without client certificates (a throw-away CA made here)."""
import json
import subprocess

import pytest

from conftest import base_config, curl


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def pki(workdir):
    d = workdir / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", "/CN=test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                 "extendedKeyUsage=serverAuth\n"),
                      ("client", "extendedKeyUsage=clientAuth\n")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(ext)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                "-out", f"{name}.pem", cwd=d)
    return d


def https(daemon):
    return f"https://127.0.0.1:{daemon.port}"


def test_https_serves_the_api(make_daemon, pki):
    daemon = make_daemon(base_config(extra=f"tls:\n  cert_file: {pki}/server.pem\n"
                                           f"  key_file: {pki}/server.key\n"))
    assert daemon.wait_for_log(r"\(https\)")
    status, _, body = curl("--cacert", str(pki / "ca.pem"), https(daemon) + "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, _, body = curl("--cacert", str(pki / "ca.pem"), "-X", "POST",
                           "-H", "Content-Type: application/json", "--data-binary",
                           '{"source":"s","detail-type":"d","detail":{}}', https(daemon) + "/events")
    assert status == 200 and json.loads(body)["FailedEntryCount"] == 0
    # Plain HTTP to the TLS port gets nothing it can use, and the daemon carries on.
    proc = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://127.0.0.1:{daemon.port}/healthz"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 or "ok" not in proc.stdout
    status, _, _ = curl("--cacert", str(pki / "ca.pem"), https(daemon) + "/healthz")
    assert status == 200


def test_client_certificates_when_a_client_ca_is_set(make_daemon, pki):
    daemon = make_daemon(base_config(extra=f"tls:\n  cert_file: {pki}/server.pem\n"
                                           f"  key_file: {pki}/server.key\n"
                                           f"  client_ca_file: {pki}/ca.pem\n"))
    proc = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", str(pki / "ca.pem"),
                           https(daemon) + "/healthz"], capture_output=True, text=True)
    assert proc.returncode != 0, "no client certificate must be refused"
    status, _, _ = curl("--cacert", str(pki / "ca.pem"), "--cert", str(pki / "client.pem"),
                        "--key", str(pki / "client.key"), https(daemon) + "/healthz")
    assert status == 200


def test_unreadable_tls_files_stop_the_start(make_daemon, pki):
    daemon = make_daemon(base_config(extra=f"tls:\n  cert_file: {pki}/server.pem\n"
                                           f"  key_file: {pki}/missing.key\n"), start=False)
    proc = subprocess.run([__import__("conftest").BINARY, "serve", "-c", str(daemon.config)],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 1
    assert "missing.key" in proc.stderr
