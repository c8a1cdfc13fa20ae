"""Helpers for flow-file tests: the demo flows and a FIFO that feeds whoever opens it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.support.app import ROOT

DEMO_FLOWS = ROOT / "campaigns" / "demo" / "flows"
RADIO = (DEMO_FLOWS / "radio.yaml").read_text(encoding="utf-8")


class FifoWriter:
    """Writes a valid flow into a FIFO once a reader opens it (as a blocking reader would).

    Code that refuses the FIFO never gets the flow; code that reads it would get a valid one,
    so a test expecting a refusal fails (rather than hangs) on code that reads FIFOs.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def _write(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY)  # blocks until some reader opens the FIFO
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(RADIO)
        except OSError:
            pass  # the reader closed without reading (the refusal this test wants)

    def close(self) -> None:
        # Release a writer still waiting for a reader, then wait for it to finish.
        reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.thread.join(timeout=30)
        finally:
            os.close(reader)
        assert not self.thread.is_alive()
