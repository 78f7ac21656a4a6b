"""A private Mosquitto broker for the demo plant and tests (apt package ``mosquitto``).

Runs the ``mosquitto`` binary on a loopback port with a generated configuration
(anonymous, no persistence) in a temporary directory; stop and start it again
on the same port to show a broker restart.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["MosquittoBroker", "MosquittoMissing"]


class MosquittoMissing(RuntimeError):
    """The mosquitto binary is not installed."""


class MosquittoBroker:
    """A mosquitto process on ``host:port``; ``with`` starts and stops it.

    Parameters
    ----------
    port : int
        0 picks a free port.
    host : str
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if binary is None:
            raise MosquittoMissing("mosquitto is not installed (apt-get install -y mosquitto)")
        self.binary = binary
        self.host = host
        if not port:
            with socket.socket() as sock:
                sock.bind((host, 0))
                port = sock.getsockname()[1]
        self.port = port
        self._dir = tempfile.TemporaryDirectory(prefix="wattdesk-mosquitto-")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 5.0) -> None:
        """Start the broker and wait until it accepts connections.

        Raises
        ------
        RuntimeError
            It exited or did not listen within ``timeout_s`` (its output in the message).
        """
        config = Path(self._dir.name) / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {self.host}\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\nlog_type error\n"
        )
        self._proc = subprocess.Popen([self.binary, "-c", str(config)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self._proc.returncode}: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout_s:g} s")

    def stop(self) -> None:
        """Stop the broker (clients see their connections drop); idempotent."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()
