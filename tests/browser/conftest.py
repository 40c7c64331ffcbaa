"""Real-browser fixtures: Debian's headless Chromium (never a downloaded browser) driving the app
served for real on 127.0.0.1, on the suite's own database and Redis fixtures.

Every request body that reaches the server is recorded by a WSGI layer in front of the app, so a
test can prove what left the browser whatever kind of body it was (JSON, multipart, a Blob).
"""
from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.backends import SqliteTemplate

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# Tor Browser's "Safer" level turns off both the JIT and WebAssembly. This Chromium ignores
# --noexpose_wasm on its own; --jitless removes WebAssembly too, and is the closer match anyway.
NO_WASM_ARGS = [*CHROMIUM_ARGS, "--js-flags=--jitless --noexpose_wasm"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install -y chromium)"
    elif not (ROOT / "node_modules" / "tweetnacl").is_dir():
        reason = "node_modules is absent: run 'npm ci' in the project root"
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: SqliteTemplate) -> str:
    # The browser tests are about the page; the storage layer runs on both databases in tests/intake.
    return sqlite_template.clone(tmp_path)


@dataclass
class Recorder:
    """Raw bodies of the requests the server received, in order."""

    bodies: list[tuple[str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
        def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length:
                body = environ["wsgi.input"].read(length)
                environ["wsgi.input"] = io.BytesIO(body)
                with self.lock:
                    self.bodies.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body))
            return wsgi_app(environ, start_response)
        return recording

    def total_bytes(self) -> int:
        return sum(len(body) for _m, _p, body in self.bodies)

    def paths(self) -> list[str]:
        return [path for _m, path, _b in self.bodies]


@dataclass
class LiveServer:
    app: Flask
    url: str
    recorder: Recorder


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    recorder = Recorder()
    app.wsgi_app = recorder.wrap(app.wsgi_app)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", recorder)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_without_wasm(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=NO_WASM_ARGS)
    yield browser
    browser.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
