"""Looking at everything at rest, for the canary and row-count tests."""
from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask
from sqlalchemy import func, select, text

from store.models import Base


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        return {name: session.scalar(select(func.count()).select_from(table)) or 0
                for name, table in Base.metadata.tables.items()}


def files_on_disk(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def database_dump(app: Flask) -> bytes:
    """Every value of every row of every table, as bytes (binary columns raw, others as text)."""
    chunks: list[bytes] = []
    with app.app_context(), app.extensions["probity.db"].session_scope() as session:
        for name in Base.metadata.tables:
            for row in session.execute(text(f'SELECT * FROM "{name}"')):
                for value in row:
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode("utf-8"))
    return b"\n".join(chunks)


def redis_dump(connection: redis.Redis) -> bytes:
    """Every key and every value in the Redis database, whatever its type."""
    chunks: list[bytes] = []
    for key in connection.scan_iter(count=1000):
        chunks.append(key)
        kind = connection.type(key)
        if kind == b"string":
            chunks.append(connection.get(key) or b"")
        elif kind == b"hash":
            for field, value in connection.hgetall(key).items():
                chunks += [field, value]
        elif kind == b"list":
            chunks += connection.lrange(key, 0, -1)
        elif kind == b"set":
            chunks += list(connection.smembers(key))
        elif kind == b"zset":
            chunks += [member for member, _score in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == b"stream":
            for _id, fields in connection.xrange(key):
                for field, value in fields.items():
                    chunks += [field, value]
    return b"\n".join(chunks)


def folder_dump(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in files_on_disk(folder))
