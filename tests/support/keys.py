"""Throwaway signing keys for fake providers: an App Store Connect `.p8` key (EC P-256) and
a Google service account key file (RSA), made once per test session, never real."""

from __future__ import annotations

import json
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def ec_key(name: str = "default") -> tuple[str, str]:
    """(private PEM as in a .p8 file, public PEM) of an EC P-256 key, one per `name`."""
    return _key("ec", name)


def rsa_key(name: str = "default") -> tuple[str, str]:
    """(private PEM, public PEM) of an RSA 2048 key, one per `name`."""
    return _key("rsa", name)


@cache
def _key(kind: str, name: str) -> tuple[str, str]:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pem(key), _public(key)


def service_account(token_uri: str, name: str = "default") -> str:
    """A service account key file (JSON) as Google Cloud hands it out, with a fresh key."""
    private, _ = rsa_key(name)
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-play",
            "private_key_id": f"0f1e2d3c4b5a69788796a5b4c3d2e1f0{name}",
            "private_key": private,
            "client_email": "heard@acme-play.iam.gserviceaccount.com",
            "client_id": "104040404040404040404",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/heard",
            "universe_domain": "googleapis.com",
        },
        indent=2,
    )
