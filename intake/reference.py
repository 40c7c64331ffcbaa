"""The two UN texts the taxonomy comes from, shipped with the product so reporters can read them."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEXTS = Path(__file__).resolve().parent / "texts"


@lru_cache(maxsize=2)
def _read(name: str) -> str:
    return (TEXTS / name).read_text(encoding="utf-8")


def code_of_conduct() -> str:
    """The International Code of Conduct for Public Officials (annex to A/RES/51/59)."""
    return _read("code-of-conduct.txt")


def declaration() -> str:
    """The United Nations Declaration on Crime and Public Security (annex to A/RES/51/60)."""
    return _read("declaration.txt")
