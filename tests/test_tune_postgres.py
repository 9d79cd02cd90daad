"""ffnn tune on PostgreSQL: two processes started at the same moment on one study of an empty database.

The test starts a throw-away server of its own (initdb in a temporary
directory, listening on 127.0.0.1 at a free port, its socket in that
directory, run as the ``postgres`` user when the tests run as root) and stops
it afterwards. Without Debian's ``postgresql`` package it skips.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="ffnn tune needs optuna: pip install 'ffnn[tune]'")
psycopg = pytest.importorskip("psycopg", reason="PostgreSQL storage needs psycopg: pip install 'ffnn[tune]'")
from optuna.trial import TrialState  # noqa: E402

from helpers.cli import FFNN, env  # noqa: E402

# One epoch: the pruner never stops a trial after its last epoch, so every trial must end COMPLETE.
SMALL = ["--backend", "numpy", "--n-train", "2000", "--epochs", "1", "--hidden", "32",
         "--lr-range", "0.3,3", "--batch-sizes", "32,64"]


def _server_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def _owner():
    """The user that runs the server: ``postgres`` when we are root (initdb refuses root), else us."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return False


BIN, OWNER = _server_bin(), _owner()
pytestmark = [
    pytest.mark.skipif(BIN is None, reason="needs the PostgreSQL server: apt-get install postgresql"),
    pytest.mark.skipif(OWNER is False, reason="runs as root but there is no postgres user "
                                              "(apt-get install postgresql creates it)"),
]


def _as_owner(*cmd):
    cmd = [str(c) for c in cmd]
    return ["runuser", "-u", "postgres", "--", *cmd] if OWNER else cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    """URL of an empty database on a fresh server, stopped and deleted after the test."""
    home = Path(tempfile.mkdtemp(prefix="ffnn-pg-"))
    if OWNER:
        os.chown(home, OWNER.pw_uid, OWNER.pw_gid)
    data, port = home / "data", _free_port()
    subprocess.run(_as_owner(BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"),
                   check=True, capture_output=True, timeout=120)
    subprocess.run(_as_owner(BIN / "pg_ctl", "-D", data, "-l", home / "server.log", "-w", "-t", "60", "-o",
                             f"-c listen_addresses=127.0.0.1 -p {port} -k {home}", "start"),
                   check=True, capture_output=True, timeout=120)
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE tune")
        yield f"postgresql://postgres@127.0.0.1:{port}/tune"
    finally:
        subprocess.run(_as_owner(BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"),
                       capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def test_two_processes_share_one_study(postgres, tmp_path):
    # Both start at once against an empty database: both create the schema and the study.
    procs = [subprocess.Popen([*FFNN, "tune", *SMALL, "--storage", postgres, "--study", "shared", "--trials", "3",
                               "--out", str(tmp_path / f"worker{i}")],
                              env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
    trials = optuna.load_study(study_name="shared", storage=postgres).get_trials()
    assert sorted(t.number for t in trials) == list(range(6))
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6  # none pruned, failed or left running
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    for i in range(2):
        best = (tmp_path / f"worker{i}" / "best.json").read_text()
        assert "postgresql://postgres@127.0.0.1" in best and '"study": "shared"' in best
