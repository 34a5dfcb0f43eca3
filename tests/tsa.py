"""A time-stamping authority on the loopback for the tests: OpenSSL's own `ts -reply`, so the
tokens the product keeps and checks are made by an implementation other than its own.

It answers RFC 3161 requests over HTTP at `url`. `refusing` makes it answer HTTP 503;
`replaying` makes it answer every request with the first response it gave (an old token for
another document and nonce).
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {folder}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def make_authority_certificate(
    folder: Path, name: str, *, time_stamping: bool = True, rsa_key: bool = False
) -> Path:
    """A self-signed certificate (and its key beside it) for an authority called `name`, with
    an EC key or an RSA one; returns the certificate's PEM path."""
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    usage = [
        ExtendedKeyUsageOID.TIME_STAMPING if time_stamping else ExtendedKeyUsageOID.CODE_SIGNING
    ]
    builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=True)
    certificate = builder.sign(key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tsa.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = folder / "tsa.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


@dataclass
class Authority:
    folder: Path
    name: str = "Whistle Test TSA"
    time_stamping: bool = True
    rsa_key: bool = False
    refusing: bool = False
    replaying: bool = False
    requests: int = 0
    first_response: bytes | None = None
    server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def certificate(self) -> Path:
        return self.folder / "tsa.pem"

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def reply(self, query: bytes) -> bytes:
        if self.replaying and self.first_response is not None:
            return self.first_response
        self.requests += 1
        request = self.folder / f"request-{self.requests}.tsq"
        response = self.folder / f"response-{self.requests}.tsr"
        request.write_bytes(query)
        subprocess.run(
            [
                "openssl", "ts", "-reply", "-config", str(self.folder / "ts.cnf"),
                "-queryfile", str(request), "-signer", str(self.certificate),
                "-inkey", str(self.folder / "tsa.key"), "-out", str(response),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        answer = response.read_bytes()
        if self.first_response is None:
            self.first_response = answer
        return answer

    def reissued_without_time_stamping(self, path: Path) -> Path:
        """The authority's certificate made again with the same key, name and serial number
        but certified for signing code: a token's signature still verifies with it."""
        original = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        key = serialization.load_pem_private_key((self.folder / "tsa.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(original.subject)
            .issuer_name(original.issuer)
            .public_key(original.public_key())
            .serial_number(original.serial_number)
            .not_valid_before(original.not_valid_before_utc)
            .not_valid_after(original.not_valid_after_utc)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=True)
        )
        path.write_bytes(
            builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        )
        return path

    def start(self) -> Authority:
        make_authority_certificate(
            self.folder, self.name, time_stamping=self.time_stamping, rsa_key=self.rsa_key
        )
        (self.folder / "serial").write_text("01\n")
        (self.folder / "ts.cnf").write_text(CONFIG.format(folder=self.folder))
        authority = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if authority.refusing:
                    self.send_response(503)
                    self.end_headers()
                    return
                answer = authority.reply(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
