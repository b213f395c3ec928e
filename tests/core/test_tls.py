"""Transport security (issue 15.7): every engine to a server other than this computer is encrypted
unless the administrator turned it off; a CA file means verify-full; TLS failures in Chinese."""
from __future__ import annotations

import os
import socket
import threading

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from shell.db.engine import check_connection, make_engine, tls_choice, with_tls
from shell.errors import DatabaseError
from tests import tls_cluster

REQUIRE_PG = os.environ.get("JIEDAO_REQUIRE_PG") == "1"


@pytest.fixture(autouse=True)
def no_pgsslmode(monkeypatch):
    monkeypatch.delenv("PGSSLMODE", raising=False)


class _Stop(Exception):
    pass


def connect_params(url: str) -> dict:
    """What make_engine hands to psycopg.connect for ``url`` (caught before any network traffic)."""
    engine = make_engine(url)
    seen = {}

    @event.listens_for(engine, "do_connect")
    def capture(_dialect, _rec, _cargs, cparams):
        seen.update(cparams)
        raise _Stop

    try:
        with pytest.raises(_Stop):
            engine.connect()
    finally:
        engine.dispose()
    return seen


CA = "/etc/jiedao/street-ca.crt"


@pytest.mark.parametrize("url, sslmode, rootcert", [
    # this computer: libpq's default, nothing forced
    ("postgresql://u@localhost/jd", None, None),
    ("postgresql://u@127.0.0.1:5432/jd", None, None),
    ("postgresql://u@127.8.9.1/jd", None, None),
    ("postgresql://u@[::1]:5432/jd", None, None),
    ("postgresql://u@/jd", None, None),                                  # Unix socket, default folder
    ("postgresql://u@/jd?host=/var/run/postgresql", None, None),         # Unix socket folder
    # a server on the LAN (or anywhere else): encrypted
    ("postgresql://u@192.168.1.10/jd", "require", None),
    ("postgresql://u@db.street.local:5433/jd", "require", None),
    ("postgresql://u@[fd00::5]/jd", "require", None),
    ("postgresql://u@/jd?host=192.168.1.10", "require", None),
    ("postgresql://u@localhost,192.168.1.10/jd", "require", None),    # any remote host in the list
    # the administrator's explicit choice is kept
    ("postgresql://u@192.168.1.10/jd?sslmode=disable", "disable", None),
    ("postgresql://u@192.168.1.10/jd?sslmode=verify-ca&sslrootcert=" + CA, "verify-ca", CA),
    ("postgresql://u@localhost/jd?sslmode=require", "require", None),
    # a CA file chosen: the certificate must be that CA's and name the host
    ("postgresql://u@192.168.1.10/jd?sslrootcert=" + CA, "verify-full", CA),
    ("postgresql://u@localhost/jd?sslrootcert=" + CA, "verify-full", CA),
])
def test_connect_args_follow_the_rule(url, sslmode, rootcert):
    params = connect_params(url)
    assert params.get("sslmode") == sslmode
    assert params.get("sslrootcert") == rootcert
    assert params["application_name"] == "jiedao"


def test_pgsslmode_is_an_explicit_choice_too(monkeypatch):
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    assert "sslmode" not in connect_params("postgresql://u@192.168.1.10/jd")  # libpq reads the variable


def test_settings_page_choices_round_trip_through_the_url():
    base = "postgresql+psycopg://grid@192.168.1.10:5432/street"
    assert tls_choice(base) == ("auto", "")
    off = with_tls(base, "off")
    assert make_url(off).query == {"sslmode": "disable"} and tls_choice(off) == ("off", "")
    verify = with_tls(off, "verify", CA)
    assert make_url(verify).query == {"sslmode": "verify-full", "sslrootcert": CA}
    assert tls_choice(verify) == ("verify", CA)
    assert connect_params(verify)["sslmode"] == "verify-full"
    assert make_url(with_tls(verify, "auto")).query == {}
    with pytest.raises(DatabaseError, match="CA 文件"):
        with_tls(base, "verify", "")


# -- real connections ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_server():
    why = tls_cluster.unavailable()
    if why is not None:
        if REQUIRE_PG:
            pytest.fail(f"JIEDAO_REQUIRE_PG=1 but the TLS test cluster cannot be made: {why}")
        pytest.skip(f"TLS test cluster cannot be made: {why} (JIEDAO_REQUIRE_PG=1 makes this fail)")
    cluster = tls_cluster.start()
    yield cluster
    cluster.stop()


def _url(cluster, host=tls_cluster.SERVER_NAME, **query) -> str:
    # The server's name in the certificate, reached at 127.0.0.1: libpq checks the certificate
    # against ``host`` and connects to ``hostaddr``.
    query = {"hostaddr": "127.0.0.1", **query}
    return make_url(f"postgresql+psycopg://postgres@{host}:{cluster.port}/postgres").set(
        query=query).render_as_string(hide_password=False)


def _encrypted(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
    finally:
        engine.dispose()


def test_verify_full_against_the_servers_ca_connects_encrypted(tls_server):
    url = _url(tls_server, sslrootcert=str(tls_server.ca_file))
    assert check_connection(url).startswith("PostgreSQL")
    assert _encrypted(url) is True


def test_a_certificate_from_another_ca_is_not_trusted(tls_server):
    with pytest.raises(DatabaseError) as err:
        check_connection(_url(tls_server, sslrootcert=str(tls_server.other_ca_file)))
    assert "证书不受信任" in err.value.message and str(tls_server.other_ca_file) in err.value.message


def test_a_wrong_host_name_is_a_mismatch(tls_server):
    with pytest.raises(DatabaseError) as err:
        check_connection(_url(tls_server, host="files.jiedao.test", sslrootcert=str(tls_server.ca_file)))
    msg = err.value.message
    assert "与填写的服务器地址“files.jiedao.test”不符" in msg and "db.jiedao.test" in msg, msg


def test_a_missing_ca_file_is_named(tls_server, tmp_path):
    missing = tmp_path / "没有这个.crt"
    with pytest.raises(DatabaseError) as err:
        check_connection(_url(tls_server, sslrootcert=str(missing)))
    assert f"CA 文件“{missing}”" in err.value.message


def test_explicit_off_is_honoured(tls_server):
    # The server accepts only hostssl: a connection that really is unencrypted is refused, and says why.
    with pytest.raises(DatabaseError) as err:
        check_connection(_url(tls_server, sslmode="disable"))
    assert "只接受加密连接" in err.value.message and "不加密" in err.value.message


@pytest.fixture
def plain_server():
    """A port that answers PostgreSQL's SSLRequest with 'N', as a server with ssl = off does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                try:
                    if len(conn.recv(8)) == 8:   # SSLRequest: length 8, code 80877103
                        conn.sendall(b"N")
                    conn.recv(1024)              # a startup packet in clear text: never answered
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    yield port
    listener.close()


def test_a_lan_server_without_ssl_is_refused_in_chinese(plain_server):
    url = f"postgresql+psycopg://postgres@db.jiedao.test:{plain_server}/postgres?hostaddr=127.0.0.1&connect_timeout=2"
    with pytest.raises(DatabaseError) as err:
        check_connection(url)
    assert "没有开启加密连接" in err.value.message and "docs/lan-server.md" in err.value.message
