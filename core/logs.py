"""Logging that can never carry a client address, a receipt or report content.

Probity logs events by name with ids only. As a second line of defence a filter drops any record
whose message looks like it carries an IP address, and werkzeug's request log (which prints the
client address) is silenced.
"""
from __future__ import annotations

import logging
import re

IP_PATTERN = re.compile(
    r"\b(?:\d{1,3}\.){3}\d{1,3}\b"  # IPv4
    r"|\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b"  # IPv6, full form
    r"|\b[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}:?){0,6}\b",  # IPv6, compressed
    re.I,
)


class NoAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return False
        if IP_PATTERN.search(message):
            record.msg, record.args = "[log line withheld: it contained an address]", ()
        return True


def configure(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, NoAddresses) for f in root.filters):
        root.addFilter(NoAddresses())
    for handler in root.handlers:
        if not any(isinstance(f, NoAddresses) for f in handler.filters):
            handler.addFilter(NoAddresses())
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(NoAddresses())
        root.addHandler(handler)
    root.setLevel(level)
    # The development server's request log prints the client address: silence it entirely.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").disabled = True
    logging.getLogger("gunicorn.access").disabled = True
