"""Bad command-line values are input errors (exit 2) with a message naming the option, never
exit 3 or silently ignored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, Result


def test_import_into_an_unwritable_place_is_an_input_error(cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    src = ROOT / "tests" / "fixtures" / "real" / "promptfoo" / "run1" / "output.json"
    assert src.is_file()
    res = cli("import", "promptfoo", str(src), "--out", "/proc/gatekeeper-bundle")
    assert res.code == 2, res.err
    assert "cannot write the bundle" in res.err and "Traceback" not in res.err


def test_negative_seed_and_missing_template_dir_are_input_errors(
        cli: Callable[..., Result]) -> None:
    res = cli("compare", "examples/bundles/pass", "examples/bundles/warn", "--seed", "-1")
    assert res.code == 2 and "--seed" in res.err
    res = cli("check", "examples/bundles/pass", "--policy", "policies/default.yaml",
              "--template-dir", "/nonexistent-templates")
    assert res.code == 2 and "--template-dir" in res.err


def test_ctrl_c_exits_130_without_a_traceback() -> None:
    """A real SIGINT to a real process, as a shell sends it: exit 130 as shells expect."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    # A registry that accepts the connection and never answers: the gate waits mid-way.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(60)  # a gate that never calls the registry fails the test, not hangs
        port = server.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "gatekeeper", "check", "examples/bundles/pass", "--policy",
             "policies/default.yaml", "--registry", f"mlflow+http://127.0.0.1:{port}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            conn, _ = server.accept()  # the gate has started and is waiting for the registry
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
            conn.close()
        finally:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
