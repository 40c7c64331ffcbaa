"""What intake views need from the running app, looked up in one place."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app

from core.config import Settings
from core.redis import redis_connection
from intake.files import BlobStore
from intake.tickets import FormTickets
from triage.taxonomy import Taxonomy, load_taxonomy


def settings() -> Settings:
    return current_app.config["PROBITY"]  # type: ignore[no-any-return]


def tickets() -> FormTickets:
    cfg = settings()
    return FormTickets(redis_connection(), cfg.secret_key,
                       min_age_seconds=cfg.abuse.form_ticket_min_seconds)


def blob_store() -> BlobStore:
    return BlobStore(settings().files_path)


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def known_categories() -> frozenset[str]:
    return frozenset(taxonomy().primary_slugs)
