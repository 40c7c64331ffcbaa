"""Print the current TOTP code for a secret: `python -m core.totp SECRET` (for trying Probity out
without an authenticator app; staff should use an app on a separate device)."""
from __future__ import annotations

import sys

import pyotp

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m core.totp SECRET")
    print(pyotp.TOTP(sys.argv[1].strip().replace(" ", "")).now())
