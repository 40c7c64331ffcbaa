"""Storage: SQLAlchemy 2 models, the engine and sessions, and Alembic migrations."""
