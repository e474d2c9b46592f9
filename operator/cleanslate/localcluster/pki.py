"""Throwaway PKI for a local control plane.

kube-apiserver insists on TLS and, for RBAC to mean anything, on authenticated
users. Client certificates are the one authenticator that needs no extra
component: the CN is the user name and each O is a group, so ``system:masters``
makes an all-powerful admin and a certificate with no group makes a user that
RBAC denies everything until a test grants it a role. ECDSA P-256 keys keep
generation in the milliseconds, which matters for the start-time budget.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ADMIN_USER = "cleanslate-admin"
ADMIN_GROUP = "system:masters"
RESTRICTED_USER = "cleanslate-restricted"

_VALIDITY = datetime.timedelta(days=7)
# The in-cluster names and the first service IP are listed so that a pod-style
# client (kubernetes.default.svc) would also verify, as in a real cluster.
_SERVING_DNS = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
_SERVING_IPS = ("127.0.0.1", "::1", "10.0.0.1")


@dataclass(frozen=True)
class KeyPair:
    """PEM-encoded certificate and private key, plus where they were written."""

    cert_pem: bytes
    key_pem: bytes
    cert_path: Path
    key_path: Path


@dataclass(frozen=True)
class Pki:
    """Every credential the API server and its clients need, all under one directory."""

    ca: KeyPair
    serving: KeyPair
    admin: KeyPair
    restricted: KeyPair
    sa_key_path: Path
    sa_pub_path: Path


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str, groups: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    # Backdated a little so that clock skew between processes can never make a
    # fresh certificate "not yet valid".
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + _VALIDITY)
    )


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> KeyPair:
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = _key_pem(key)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    key_path.chmod(0o600)
    return KeyPair(cert_pem, key_pem, cert_path, key_path)


class _Authority:
    """A CA that signs leaf certificates; kept private because only generate() needs it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = _new_key()
        self.name = _name("cleanslate-local-ca")
        cert = (
            _builder(self.name, self.name, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.pair = _write(directory, "ca", cert, self.key)

    def issue(
        self,
        stem: str,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        san: x509.SubjectAlternativeName | None = None,
    ) -> KeyPair:
        key = _new_key()
        builder = (
            _builder(subject, self.name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        return _write(self.directory, stem, builder.sign(self.key, hashes.SHA256()), key)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _serving_san() -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in _SERVING_DNS]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _SERVING_IPS]
    return x509.SubjectAlternativeName(names)


def _write_service_account_keys(directory: Path) -> tuple[Path, Path]:
    key = _new_key()
    key_path, pub_path = directory / "sa.key", directory / "sa.pub"
    key_path.write_bytes(_key_pem(key))
    key_path.chmod(0o600)
    pub_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key_path, pub_path


def generate(directory: Path) -> Pki:
    """Create a CA, the serving certificate, two client identities and the SA signing key."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _Authority(directory)
    client = ExtendedKeyUsageOID.CLIENT_AUTH
    sa_key, sa_pub = _write_service_account_keys(directory)
    return Pki(
        ca=ca.pair,
        serving=ca.issue(
            "apiserver", _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, _serving_san()
        ),
        admin=ca.issue("admin", _name(ADMIN_USER, (ADMIN_GROUP,)), client),
        restricted=ca.issue("restricted", _name(RESTRICTED_USER), client),
        sa_key_path=sa_key,
        sa_pub_path=sa_pub,
    )
