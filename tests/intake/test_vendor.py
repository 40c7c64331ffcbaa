"""The npm libraries are served from our own origin, and only the whitelisted files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake.vendor import ASSETS, NODE_MODULES, missing_assets

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not NODE_MODULES.is_dir(), reason="node_modules is absent: run 'npm ci'")


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_whitelisted_library_is_served_as_javascript(client, name: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/static/vendor/{name}")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data == (NODE_MODULES / ASSETS[name]).read_bytes()
    assert b"WebAssembly" not in response.data


@pytest.mark.parametrize("path", ["tweetnacl/package.json", "tweetnacl/nacl.js", "axe-core/axe.min.js",
                                  "../package.json", "tweetnacl/../../intake/api.py", "blakejs/index.js"])
def test_nothing_else_in_node_modules_is_reachable(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"/static/vendor/{path}").status_code == 404


def test_the_lockfile_pins_the_versions_that_are_served() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/tweetnacl"]["version"] == "1.0.3"
    assert lock["node_modules/tweetnacl-sealedbox-js"]["version"] == "1.2.0"
    for package in ("tweetnacl", "tweetnacl-sealedbox-js"):
        installed = json.loads((NODE_MODULES / package / "package.json").read_text())["version"]
        assert installed == lock[f"node_modules/{package}"]["version"]
        assert lock[f"node_modules/{package}"]["integrity"].startswith("sha512-")
    assert missing_assets() == []


def test_missing_libraries_are_named(tmp_path: Path) -> None:
    assert sorted(missing_assets(tmp_path)) == sorted(ASSETS.values())
