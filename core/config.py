"""Configuration, parsed once into a frozen object.

`load_settings` is a pure function of the environment mapping and the instance folder, so it is
trivially testable. Secrets that are not given in the environment are generated into the instance
folder on first use (mode 0600) and read back afterwards, so a fresh clone needs no set-up.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from crypto.receipts import RECEIPT_LIMITS
from crypto.wrapping import STAFF_LIMITS, TEST_LIMITS, KdfLimits

MiB = 1024 * 1024


class ConfigError(Exception):
    """A setting is present but unusable; the message names the variable."""


@dataclass(frozen=True)
class Deadlines:
    """Legal deadlines after the EU Whistleblower Directive, art. 9(1)(b) and (f)."""

    acknowledge_days: int = 7
    feedback_months: int = 3
    due_soon_hours: int = 48


@dataclass(frozen=True)
class AbuseLimits:
    """Every anti-abuse threshold is a named, documented setting (see docs/deployment.md)."""

    submissions_per_hour: str = "30 per hour"
    global_submissions: str = "600 per hour"
    receipt_attempts_per_report: int = 10
    receipt_attempts_window_seconds: int = 3600
    global_receipt_attempts: str = "300 per hour"
    # Behind an onion service every client shares one address: keep this generous there.
    receipt_attempts_per_client: str = "60 per hour"
    staff_logins: str = "10 per 15 minutes"
    pow_difficulty_bits: int = 16
    pow_ticket_seconds: int = 1800
    form_ticket_min_seconds: int = 3


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: bytes
    receipt_pepper: bytes
    service_key_file: Path
    files_path: Path
    secure_cookies: bool = True
    max_report_bytes: int = 100 * MiB
    max_text_bytes: int = 256 * 1024
    receipt_limits: KdfLimits = RECEIPT_LIMITS
    staff_limits: KdfLimits = STAFF_LIMITS
    deadlines: Deadlines = field(default_factory=Deadlines)
    abuse: AbuseLimits = field(default_factory=AbuseLimits)
    triage_min_confidence: float = 0.55
    staff_idle_minutes: int = 30
    staff_absolute_hours: int = 10
    mailbox_idle_minutes: int = 15
    testing: bool = False

    @property
    def embedded_redis_path(self) -> Path:
        return self.instance_path / "redis" / "redis.db"

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Settings":
        return replace(self, **dict(overrides))


def _instance_secret(instance_path: Path, name: str, size: int = 32) -> bytes:
    """Read a secret from instance/secrets/NAME, creating it (0600) the first time."""
    folder = instance_path / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(size))
    return bytes.fromhex(path.read_text().strip())


def _env_secret(environ: Mapping[str, str], name: str) -> bytes | None:
    value = environ.get(name)
    if value is None:
        return None
    try:
        decoded = bytes.fromhex(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be hex (64 characters for 32 bytes)") from exc
    if len(decoded) < 32:
        raise ConfigError(f"{name} must be at least 32 bytes (64 hex characters)")
    return decoded


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number") from exc
    if number <= 0:
        raise ConfigError(f"{name} must be positive")
    return number


def sqlalchemy_url(database_url: str) -> str:
    """A plain `postgresql://` URL means psycopg 3 (SQLAlchemy would otherwise pick psycopg2)."""
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url


def load_settings(environ: Mapping[str, str], instance_path: Path) -> Settings:
    """Build the settings from environment variables, with safe defaults."""
    instance_path = Path(environ.get("PROBITY_INSTANCE", instance_path)).resolve()
    instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    database_url = sqlalchemy_url(environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'probity.sqlite3'}")
    fast_kdf = _flag(environ, "PROBITY_INSECURE_FAST_KDF", False)
    settings = Settings(
        instance_path=instance_path,
        database_url=database_url,
        redis_url=environ.get("REDIS_URL") or None,
        secret_key=_env_secret(environ, "PROBITY_SECRET_KEY") or _instance_secret(instance_path, "secret_key"),
        receipt_pepper=_env_secret(environ, "PROBITY_RECEIPT_PEPPER")
        or _instance_secret(instance_path, "receipt_pepper"),
        service_key_file=Path(
            environ.get("PROBITY_SERVICE_KEY_FILE", instance_path / "keys" / "intake-service.key")
        ),
        files_path=Path(environ.get("PROBITY_FILES", instance_path / "files")),
        secure_cookies=_flag(environ, "PROBITY_SECURE_COOKIES", True),
        max_report_bytes=_int(environ, "PROBITY_MAX_REPORT_MB", 100) * MiB,
        receipt_limits=TEST_LIMITS if fast_kdf else RECEIPT_LIMITS,
        staff_limits=TEST_LIMITS if fast_kdf else STAFF_LIMITS,
        deadlines=Deadlines(
            acknowledge_days=_int(environ, "PROBITY_ACK_DAYS", 7),
            feedback_months=_int(environ, "PROBITY_FEEDBACK_MONTHS", 3),
        ),
        abuse=AbuseLimits(pow_difficulty_bits=_int(environ, "PROBITY_POW_BITS", 16)),
    )
    return settings
