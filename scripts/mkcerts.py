#!/usr/bin/python3
"""Makes the TLS certificates of mercuryctl's tests (python3-cryptography).

    mkcerts.py DIR

Writes into DIR a CA (ca.pem, ca.key; valid 10 years) and, signed by it,
leaf certificates with their keys (EC P-256):

  ok.pem/ok.key                SAN IP:127.0.0.1, DNS:localhost; valid from
                               yesterday to +400 days
  soon.pem/soon.key            same SAN; expires 10 days + 1 hour from now
                               (whole days left: 10)
  expired.pem/expired.key      same SAN; valid from -30 days to -1 day
  wronghost.pem/wronghost.key  SAN DNS:wrong.example only; valid as ok

Run with Debian's /usr/bin/python3 (the first python3 on PATH may lack
python3-cryptography). Every run makes new keys and serial numbers.
"""

import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)
LOOPBACK_SAN = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("localhost")]


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mercuryctl tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def write(path, data, mode):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_pair(d, stem, cert, key):
    write(os.path.join(d, stem + ".key"),
          key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()), 0o600)
    write(os.path.join(d, stem + ".pem"),
          cert.public_bytes(serialization.Encoding.PEM), 0o644)


def make_ca(now):
    key = new_key()
    subject = name("mercuryctl test CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Covers the expired leaf's whole validity too.
        .not_valid_before(now - 60 * DAY)
        .not_valid_after(now + 3650 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                       critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(
            key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(ca_cert, ca_key, cn, san, not_before, not_after):
    key = new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                       critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(
            key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: mkcerts.py DIR\n")
        return 64
    d = argv[1]
    os.makedirs(d, exist_ok=True)
    # Whole seconds: X.509 times carry no fractions.
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    ca_cert, ca_key = make_ca(now)
    write_pair(d, "ca", ca_cert, ca_key)

    leaves = [
        ("ok", "localhost", LOOPBACK_SAN, now - DAY, now + 400 * DAY),
        ("soon", "localhost", LOOPBACK_SAN, now - DAY,
         now + 10 * DAY + datetime.timedelta(hours=1)),
        ("expired", "localhost", LOOPBACK_SAN, now - 30 * DAY, now - DAY),
        ("wronghost", "wrong.example", [x509.DNSName("wrong.example")],
         now - DAY, now + 400 * DAY),
    ]
    for stem, cn, san, nb, na in leaves:
        cert, key = make_leaf(ca_cert, ca_key, cn, san, nb, na)
        write_pair(d, stem, cert, key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
