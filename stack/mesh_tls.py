"""A local mesh CA and certificate (openssl), for trying mutual TLS between Envoy and the
services on one machine and for the tests. A deployment brings its own (cert-manager, a PKI)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runtime.settings import MeshTls

#: Where the local certificate may be used: loopback, as the local stack and `make cluster` use it.
SUBJECT_ALT_NAMES = "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3,IP:127.0.0.4"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make(folder: Path) -> MeshTls:
    """A CA and one certificate it signed (server and client use) in `folder`, unless there."""
    folder.mkdir(parents=True, exist_ok=True)
    tls = MeshTls(str(folder / "ca.pem"), str(folder / "mesh.pem"), str(folder / "mesh.key"))
    if all(Path(p).exists() for p in (tls.ca_file, tls.cert_file, tls.key_file)):
        return tls
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *key, "-keyout", str(folder / "ca.key"), "-out", tls.ca_file,
             "-days", "3650", "-subj", "/CN=parley-mesh-ca")
    _openssl("req", *key, "-keyout", tls.key_file, "-out", str(folder / "mesh.csr"),
             "-subj", "/CN=parley-mesh")
    extensions = folder / "mesh.ext"
    extensions.write_text(f"subjectAltName={SUBJECT_ALT_NAMES}\n"
                          "extendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", str(folder / "mesh.csr"), "-CA", tls.ca_file,
             "-CAkey", str(folder / "ca.key"), "-CAcreateserial", "-out", tls.cert_file,
             "-days", "825", "-extfile", str(extensions))
    (folder / "ca.key").chmod(0o600)
    Path(tls.key_file).chmod(0o600)
    return tls
