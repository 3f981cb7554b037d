"""SNS message signatures: the signing key, its certificate, and the canonical strings AWS signs.

Subscribers verify SNS messages the way AWS documents ("Verifying the signatures of Amazon SNS
messages"): fetch the certificate at ``SigningCertURL``, rebuild the canonical string from the
message's fields and check ``Signature`` with the certificate's public key. So the emulator signs
for real: an RSA-2048 key and a self-signed X.509 certificate, served at
``/SimpleNotificationService-<id>.pem`` on this server (``emulator/admin.py`` routes that path to
``SnsProvider.certificate_pem``).

Generating an RSA key takes tens of milliseconds, so it happens on first use, on a delivery worker
(message bodies are built there), never at import, start-up or on the request thread. The key lives
as long as the provider: a reset forgets state, not the key, so certificates already fetched by a
subscriber stay valid.

``SignatureVersion`` "1" is SHA1withRSA, "2" SHA256withRSA (PKCS#1 v1.5), base64-encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# The fields each message type signs, in the order AWS documents (each as "Name\nvalue\n").
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
_lock = threading.Lock()


def canonical_string(document: dict[str, Any]) -> str:
    """The string a message of ``document["Type"]`` is signed over.

    A Notification signs Subject only when it has one; confirmations sign their SubscribeURL and Token.
    """
    names = NOTIFICATION_FIELDS if document.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{document[name]}\n" for name in names if document.get(name) is not None)


@dataclass(frozen=True)
class Signer:
    """The key and certificate one provider signs with; ``name`` is the certificate's file name."""

    key: rsa.RSAPrivateKey
    pem: bytes
    name: str

    def sign(self, text: str, version: str = "1") -> str:
        """Base64 of the RSA PKCS#1 v1.5 signature of ``text`` with SHA1 ("1") or SHA256 ("2")."""
        digest = _HASHES.get(version, hashes.SHA1)()
        return base64.b64encode(self.key.sign(text.encode("utf-8"), padding.PKCS1v15(), digest)).decode("ascii")

    def sign_document(self, document: dict[str, Any], base_url: str) -> None:
        """Adds Signature and SigningCertURL to a document that already holds its SignatureVersion."""
        document["Signature"] = self.sign(canonical_string(document), str(document.get("SignatureVersion", "1")))
        document["SigningCertURL"] = self.url(base_url)

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.name}"


def _create() -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
        x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
    ])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    # AWS names its certificates by 32 hex digits; ours are the certificate's own digest.
    name = f"SimpleNotificationService-{hashlib.md5(pem, usedforsecurity=False).hexdigest()}.pem"
    return Signer(key=key, pem=pem, name=name)


def signer(provider: Any) -> Signer:
    """The provider's signer, created on first use (on a delivery worker: it costs an RSA key)."""
    existing: Signer | None = getattr(provider, "_signer", None)
    if existing is not None:
        return existing
    with _lock:
        existing = getattr(provider, "_signer", None)
        if existing is None:
            existing = _create()
            provider._signer = existing
    return existing


def certificate_pem(provider: Any, name: str) -> bytes | None:
    """The PEM served at ``/<name>``, if ``name`` is the certificate the provider signs with.

    Never creates the key (this runs on the event loop): before the first signed message there is
    no SigningCertURL to fetch.
    """
    existing: Signer | None = getattr(provider, "_signer", None)
    return existing.pem if existing is not None and existing.name == name else None
