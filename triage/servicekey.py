"""The intake service key: created once, private half in a 0600 file only the workers read."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import KeyPair, generate_keypair, key_id, keypair_from_seed
from store.models import ServiceKey


class ServiceKeyError(RuntimeError):
    """The service key file is missing, unreadable or does not match the database."""


def write_private_key(path: Path, keypair: KeyPair) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        # The file holds the 32-byte X25519 seed; the public half is derived from it.
        handle.write(keypair.private_key.hex() + "\n")


def load_service_keypair(path: Path) -> KeyPair:
    try:
        seed = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise ServiceKeyError(f"cannot read the intake service key at {path}: {exc}") from exc
    return keypair_from_seed(seed)


def init_service_key(session: Session, path: Path) -> tuple[ServiceKey, bool]:
    """Create the key pair unless it exists; return (row, created). Idempotent."""
    if path.exists():
        keypair = load_service_keypair(path)
        existing = session.scalar(select(ServiceKey).where(ServiceKey.key_id == key_id(keypair.public_key)))
        if existing is None:
            existing = ServiceKey(key_id=key_id(keypair.public_key), public_key=keypair.public_key)
            session.add(existing)
            session.commit()
        return existing, False
    keypair = generate_keypair()
    write_private_key(path, keypair)
    row = ServiceKey(key_id=key_id(keypair.public_key), public_key=keypair.public_key)
    session.add(row)
    session.commit()
    return row, True
