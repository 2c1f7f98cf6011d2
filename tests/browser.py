"""One shared headless Chromium for the tests: found on the PATH, driven over the DevTools
protocol (CDP, through ``websockets``), with a module-scoped ``browser`` fixture.

A test module imports ``browser_fixture`` (pytest finds fixtures in the module's namespace)
and takes a ``browser: Page`` argument. Without Chromium the browser tests are skipped, or fail
under ``CI=true``. :func:`page_hazards` reads a map page's hazards back from its JSON blocks,
as the page's script decodes them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest


def chromium() -> str:
    """The Chromium executable; skips the test (fails under ``CI=true``) when there is none."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        message = "Chromium is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI=true, so this fails)")
        pytest.skip(message)
    return exe


class Page:
    """One Chromium tab driven over the DevTools protocol; events are kept in ``events``."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._id = 0
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == self._id:
                assert "error" not in msg, msg
                return msg.get("result", {})
            self.events.append(msg)

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            assert time.monotonic() < deadline, "the page did not load"
            self.events.append(json.loads(self.ws.recv(timeout=30)))

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def drawn(self, expected: int, timeout: float = 30) -> int:
        """``HazardsMap.featureCount()`` once it reaches ``expected`` (the page counts hazards
        after drawing them, on an animation frame) or ``timeout`` seconds have passed."""
        result = self.call(
            "Runtime.evaluate",
            awaitPromise=True,
            returnByValue=True,
            expression=(
                "new Promise(r => { const t0 = performance.now(); (function poll() {"
                " const n = HazardsMap.featureCount();"
                f" if (n >= {int(expected)} || performance.now() - t0 > {timeout * 1000})"
                " r(n); else setTimeout(poll, 10); })(); })"
            ),
        )
        return result["result"]["value"]

    def errors(self) -> list[Any]:
        """Uncaught exceptions, dialogs (alert), console errors and error log entries."""
        fatal = ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
        bad = [e["params"] for e in self.events if e.get("method") in fatal]
        bad += [
            e["params"]
            for e in self.events
            if e.get("method") == "Runtime.consoleAPICalled"
            and e["params"]["type"] in ("error", "assert")
        ]
        bad += [
            e["params"]["entry"]
            for e in self.events
            if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
        ]
        return bad

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]


@pytest.fixture(scope="module", name="browser")
def browser_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A headless Chromium tab for the tests of one module, closed after them."""
    exe = chromium()
    pytest.importorskip("websockets", reason="the browser tests need the websockets package")
    profile = tmp_path_factory.mktemp("chromium-profile")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1000,750",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    proc = subprocess.Popen([exe, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline and proc.poll() is None, "Chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        from urllib.request import urlopen

        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        from websockets.sync.client import connect

        with connect(url, max_size=None, open_timeout=10) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def distinct_colours(png: bytes) -> int:
    """Distinct RGB colours of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    width, height, depth, ctype = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and ctype in (2, 6)
    bpp = 3 if ctype == 2 else 4
    chunks, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            chunks.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    prev, colours = bytearray(stride), set()
    for y in range(height):
        kind, row = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(row[i : i + 3]) for i in range(0, stride, bpp))
        prev = row
    return len(colours)


def page_hazards(page: str) -> list[dict[str, Any]]:
    """The hazards encoded in a page's JSON blocks, decoded back to one dict per hazard."""
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page))
    out = []
    for key in [k for k in blocks if k.endswith("-points")]:
        pts, att = json.loads(blocks[key]), json.loads(blocks[key[: -len("points")] + "attrs"])
        cfg = json.loads(
            page.split(f', "{key[: -len("-points")]}");')[0]
            .rsplit("HazardsMap.draw(", 1)[1]
            .split(", ", 1)[1]
        )
        x = y = num = route = 0
        for i in range(pts["n"]):
            x, y, num = x + pts["x"][i], y + pts["y"][i], num + att["id"]["n"][i]
            route += att["route"]["c"][i]
            k = att["id"]["c"][i]
            width = att["id"]["w"][k]
            group = cfg["groups"][pts["g"][i]]
            out.append(
                {
                    "id": att["id"]["p"][k] + (str(num).zfill(width) if width else ""),
                    "lon": x / 1e6,
                    "lat": y / 1e6,
                    "tier": group["tier"],
                    "status": group["status"],
                    "route": att["route"]["t"][route],
                    "ch": att["ch"][i],
                    "cat": att["cat"]["t"][att["cat"]["c"][i]],
                    "desc": att["desc"]["t"][att["desc"]["c"][i]],
                    "batch": att["batch"]["t"][att["batch"]["c"][i]],
                    "event": " ".join(
                        v for col in att["event"] if (v := col["t"][col["c"][i]]) is not None
                    )
                    or None,
                    "cost": att["cost"][i],
                    "cost_src": att["costSrc"]["t"][att["costSrc"]["c"][i]],
                }
            )
    return out
