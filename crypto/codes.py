"""Human-friendly secret codes in Crockford base32.

Receipts and recovery keys are read off a screen, written on paper and typed
back, sometimes read aloud over a phone. Crockford's alphabet leaves out I, L,
O and U, so no two symbols look or sound alike, and each symbol carries exactly
five random bits. Typing is forgiven: case, spaces and dashes do not matter,
and O is read as 0, I and L as 1. Anything else is refused rather than guessed.
"""

from __future__ import annotations

import nacl.utils

from .errors import MalformedInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS_PER_SYMBOL = 5
SEPARATOR = "-"

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " \t\r\n-")


def new_code(symbols: int, group: int) -> str:
    """Return ``symbols`` random symbols, in dash-separated groups of ``group``."""
    bits = symbols * BITS_PER_SYMBOL
    randomness = nacl.utils.random((bits + 7) // 8)
    value = int.from_bytes(randomness, "big") >> (8 * len(randomness) - bits)
    text = "".join(
        ALPHABET[(value >> (BITS_PER_SYMBOL * (symbols - 1 - i))) & 0x1F] for i in range(symbols)
    )
    return format_code(text, group)


def normalise_code(
    text: str, symbols: int, group: int, error: type[MalformedInput] = MalformedInput
) -> str:
    """Return the canonical grouped form of a typed code, or raise ``error``."""
    compact = compact_code(text, symbols, error)
    return format_code(compact, group)


def compact_code(text: str, symbols: int, error: type[MalformedInput] = MalformedInput) -> str:
    """Return the code's symbols alone, upper case, without separators, or raise ``error``."""
    # Non-ASCII is refused before upper-casing: str.upper() maps some non-ASCII
    # letters (the Turkish dotless i, the long s) onto ASCII ones.
    if not isinstance(text, str) or not text.isascii():
        raise error("code contains characters outside the code alphabet")
    compact = text.translate(_IGNORED).upper().translate(_CONFUSABLE)
    if len(compact) != symbols:
        raise error(f"code must have {symbols} symbols, got {len(compact)}")
    if any(symbol not in _VALUE for symbol in compact):
        raise error("code contains characters outside the code alphabet")
    return compact


def format_code(compact: str, group: int) -> str:
    """Split a compact code into dash-separated groups of ``group`` symbols."""
    return SEPARATOR.join(compact[i : i + group] for i in range(0, len(compact), group))
