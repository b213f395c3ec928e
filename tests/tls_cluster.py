"""A throwaway PostgreSQL cluster with TLS for the transport tests: its own CA and server certificate
(made with openssl), its own port, ``ssl = on``, only ``hostssl`` lines in pg_hba.conf. It never
touches the machine's own server. Started as the ``postgres`` user with ``runuser`` when the tests
run as root (CI), directly when they run as ``postgres``."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "db.jiedao.test"  # resolved by nobody: the tests connect with hostaddr=127.0.0.1


def pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    cands = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    return cands[-1] if cands else None


def unavailable() -> str | None:
    """Why the cluster cannot be made here, or None."""
    for tool in ("initdb", "pg_ctl"):
        if pg_bin(tool) is None:
            return f"{tool} not found (install postgresql)"
    if shutil.which("openssl") is None:
        return "openssl not found"
    if os.geteuid() != 0:
        import pwd

        if pwd.getpwuid(os.geteuid()).pw_name != "postgres":
            return "needs root (runuser -u postgres) or the postgres user to run initdb"
    return None


def _run(*argv, cwd=None):
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, crt = folder / f"{name}.key", folder / f"{name}.crt"
    _run("openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", f"/CN={name}",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, crt


def make_server_cert(folder: Path, ca_key: Path, ca_crt: Path, names: list[str]) -> tuple[Path, Path]:
    key, csr, crt, ext = folder / "server.key", folder / "server.csr", folder / "server.crt", folder / "server.ext"
    _run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={names[0]}")
    ext.write_text("subjectAltName=" + ",".join(n if ":" in n else f"DNS:{n}" for n in names) + "\n"
                   "extendedKeyUsage=serverAuth\n", encoding="utf-8")
    _run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return key, crt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    ca_file: Path        # the CA that signed the server's certificate
    other_ca_file: Path  # a CA that did not

    def stop(self) -> None:
        _as_postgres(pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _as_postgres(*argv, check=True):
    if os.geteuid() == 0:
        argv = ("runuser", "-u", "postgres", "--") + argv
    return subprocess.run(argv, check=check, capture_output=True, timeout=60, cwd="/")


def start(max_connections: int = 20, extra_conf: str = "") -> Cluster:
    # /tmp, not $TMPDIR: the postgres user must be able to reach the folder (a root-only TMPDIR is not)
    folder = Path(tempfile.mkdtemp(prefix="jiedao-tls-", dir="/tmp" if os.path.isdir("/tmp") else None))
    certs = folder / "certs"
    certs.mkdir()
    ca_key, ca_crt = make_ca(certs, "jiedao-test-ca")
    _other_key, other_crt = make_ca(certs, "some-other-ca")
    key, crt = make_server_cert(certs, ca_key, ca_crt, [SERVER_NAME, "IP:192.0.2.10"])
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        for p in [certs, *certs.iterdir()]:
            shutil.chown(p, "postgres")
    key.chmod(0o600)
    port = free_port()
    try:
        _as_postgres(pg_bin("initdb"), "-D", str(folder / "data"), "-N", "-A", "trust", "-U", "postgres",
                     "--no-instructions")
        with open(folder / "data" / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write(f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
                     f"ssl = on\nssl_cert_file = '{crt}'\nssl_key_file = '{key}'\nfsync = off\n"
                     f"shared_buffers = 16MB\nmax_connections = {max_connections}\n{extra_conf}\n")
        (folder / "data" / "pg_hba.conf").write_text(
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            encoding="utf-8")
        _as_postgres(pg_bin("pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-t", "20", "start")
    except BaseException as exc:  # remove the folder whatever stopped the start
        log = (folder / "log").read_text(errors="replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"the throwaway TLS cluster did not start: {log[-2000:]}") from exc
    return Cluster(folder, port, ca_crt, other_crt)
