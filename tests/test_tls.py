"""HTTPS: the real Synapse behind a TLS-terminating proxy (tests/faultproxy.py) on 127.0.0.1, whose
certificate is signed by a CA made for the test run (cryptography, which Synapse brings)."""

import datetime
import ipaddress
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from faultproxy import FaultProxy


def make_ca(name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key, ca_cert):
    """A certificate for 127.0.0.1 signed by the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The test CA, another CA, and a TLS server context with the CA's certificate for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = make_ca("matrix-user test CA")
    key, cert = make_server_cert(ca_key, ca_cert)
    (folder / "ca.pem").write_bytes(pem(ca_cert))
    (folder / "other-ca.pem").write_bytes(pem(make_ca("another CA")[1]))
    (folder / "server.pem").write_bytes(pem(cert) + pem(ca_cert))
    (folder / "server.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder, context


@pytest.fixture
def https(synapse, pki):
    with FaultProxy(synapse.url, tls=pki[1]).start() as proxy:
        yield proxy


def ensure(run, https, name, password, **params):
    full = run.connection(homeserver_url=https.url, username=name, password=password, wait_timeout=20, **params)
    started = time.monotonic()
    result = run.module(full, secrets=[password])
    return result, time.monotonic() - started


def test_an_untrusted_certificate_is_refused_at_once(synapse, run, https, name):
    password = "tls-Password-1"
    result, took = ensure(run, https, name, password)
    assert result["failed"] is True and result["changed"] is False
    msg = result["msg"]
    assert f"cannot connect to {https.url} over HTTPS" in msg and "certificate" in msg.lower(), msg
    assert "ca_path" in msg and "validate_certs" in msg, msg
    # Not retried until wait_timeout (20 s): a certificate does not mend by waiting.
    assert took < 3, took
    # The proxy's thread counts the failed handshake on its own time, maybe after the tool has exited.
    deadline = time.monotonic() + 5
    while https.handshake_failures < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert https.handshake_failures >= 1 and https.log == []
    assert synapse.user(name) is None


def test_a_certificate_of_another_ca_is_refused(synapse, run, https, pki, name):
    password = "tls-Password-2"
    result, took = ensure(run, https, name, password, ca_path=str(pki[0] / "other-ca.pem"))
    assert result["failed"] is True and "certificate" in result["msg"].lower(), result["msg"]
    assert took < 3, took
    assert synapse.user(name) is None


def test_ca_path_makes_the_certificate_trusted(synapse, run, https, pki, name):
    password = "tls-Password-3"
    result, _ = ensure(run, https, name, password, ca_path=str(pki[0] / "ca.pem"), admin=True)
    assert result.get("failed") is not True, result["msg"]
    assert result["changed"] is True and result["created"] is True
    assert "warnings" not in result
    assert synapse.is_admin(name) and synapse.can_log_in(name, password)
    again, _ = ensure(run, https, name, password, ca_path=str(pki[0] / "ca.pem"), admin=True)
    assert again["changed"] is False


def test_validate_certs_false_works_and_warns(synapse, run, https, name):
    password = "tls-Password-4"
    result, _ = ensure(run, https, name, password, validate_certs=False)
    assert result.get("failed") is not True, result["msg"]
    assert result["changed"] is True and result["created"] is True
    assert any("validate_certs" in w for w in result["warnings"]), result
    assert synapse.can_log_in(name, password)


def test_the_command_line_tool_warns_too(synapse, run, https, pki, name, tmp_path):
    password = "tls-Password-5"
    secret = tmp_path / "password"
    secret.write_text(password)
    flags = [f"--homeserver-url={https.url}", f"--password-file={secret}"]
    connection = [f for f in run.cli_connection() if not f.startswith("--homeserver-url")]

    r = run.cli("register", name, *flags, *connection, secrets=[password])
    assert r.returncode == 1, r.output
    assert "certificate" in r.stderr.lower() and "ca_path" in r.stderr, r.stderr

    r = run.cli("register", name, *flags, *connection, "--validate-certs=no", secrets=[password])
    assert r.returncode == 0, r.output
    assert "warning: validate_certs" in r.stderr, r.stderr
    assert synapse.can_log_in(name, password)


def test_https_to_a_server_speaking_plain_http_fails_at_once(synapse, run, name):
    """An https:// URL for a plain-HTTP server, which answers the TLS greeting with an HTTP error
    (as nginx and most servers do)."""
    password = "tls-Password-6"
    stop = threading.Event()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.1)

        def answer():
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except OSError:
                    continue
                with client:
                    client.recv(4096)
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        try:
            url = f"https://127.0.0.1:{server.getsockname()[1]}"
            full = run.connection(homeserver_url=url, username=name, password=password, wait_timeout=20)
            started = time.monotonic()
            result = run.module(full, secrets=[password])
        finally:
            stop.set()
            thread.join()
    msg = result["msg"]
    assert result["failed"] is True and f"cannot connect to {url} over HTTPS" in msg and "http://" in msg, msg
    assert time.monotonic() - started < 3
    assert synapse.user(name) is None
