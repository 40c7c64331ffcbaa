"""Browser libraries from npm, served from Probity's own origin under /static/vendor/.

`npm ci` installs the exact versions that package-lock.json pins (with their integrity hashes) into
node_modules/, and this blueprint serves a short whitelist of files straight from there. There is
no copy step, so what the browser runs is always what the lockfile names, and nothing else in
node_modules (sources, tests, tooling, axe-core for the accessibility tests) is reachable.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, send_from_directory

log = logging.getLogger("probity.intake")

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

# URL name -> file under node_modules. Pure JavaScript only: no WebAssembly build may be listed.
ASSETS = {
    "tweetnacl/nacl-fast.min.js": "tweetnacl/nacl-fast.min.js",
    "tweetnacl-sealedbox-js/sealedbox.web.js": "tweetnacl-sealedbox-js/sealedbox.web.js",
}

vendor = Blueprint("vendor", __name__, url_prefix="/static/vendor")


@vendor.get("/<path:name>")
def asset(name: str) -> Response:
    relative = ASSETS.get(name)
    if relative is None:
        abort(404)
    return send_from_directory(NODE_MODULES, relative, mimetype="text/javascript")


def missing_assets(root: Path = NODE_MODULES) -> list[str]:
    return [relative for relative in ASSETS.values() if not (root / relative).is_file()]


def register(app: Flask) -> None:
    app.register_blueprint(vendor)
    missing = missing_assets()
    if missing:
        # The report form still works without them: its script refuses to send and says why,
        # and with JavaScript off the server encrypts. Installing is one command.
        log.warning("browser libraries missing (run 'npm ci'): %s", ", ".join(missing))
