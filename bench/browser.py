"""Headless Chromium for the map-open step: find the browser, open a page, time its first render."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def chromium() -> str | None:
    """The Chromium (or Chrome) executable on the PATH, if any."""
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


class Browser:
    """One headless Chromium tab over the DevTools protocol (as in tests/test_mapping.py)."""

    def __init__(self, exe: str) -> None:
        from urllib.request import urlopen

        from websockets.sync.client import connect

        self.profile = Path(tempfile.mkdtemp(prefix="hazards-bench-chromium-"))
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1000,750",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            [exe, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        self.ws = connect(url, max_size=None, open_timeout=10).__enter__()
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method: str, timeout: float = 120, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=timeout))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(str(msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def _navigate(self, url: str, timeout: float = 120) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the page did not load in {timeout:.0f} s")
            self.events.append(json.loads(self.ws.recv(timeout=timeout)))

    def open_seconds(self, url: str, count_js: str, expected: int) -> tuple[float, Any]:
        """Seconds from navigation to: load event, ``count_js`` reaching ``expected`` (the
        features are drawn), and two animation frames (the first render is on screen)."""
        self._navigate("about:blank")
        t0 = time.perf_counter()
        self._navigate(url)
        expr = (
            "new Promise(r => { const t0 = performance.now(); (function poll() {"
            " let n = 0; try { n = " + count_js + "; } catch (e) {}"
            " if (n >= " + str(int(expected)) + " || performance.now() - t0 > 60000)"
            " requestAnimationFrame(() => requestAnimationFrame(() => r(n)));"
            " else setTimeout(poll, 10); })(); })"
        )
        res = self.call("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True)
        return time.perf_counter() - t0, res.get("result", {}).get("value")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        self.proc.terminate()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)
