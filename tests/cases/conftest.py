"""Staff of every role, on the suite's real database and Redis."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import StaffLogin, add_staff


@pytest.fixture
def colleague(app: Flask) -> StaffLogin:
    return add_staff(app, "carl.colleague@example.org")


@pytest.fixture
def auditor(app: Flask) -> StaffLogin:
    return add_staff(app, "audrey.auditor@example.org", "auditor")


@pytest.fixture
def admin(app: Flask) -> StaffLogin:
    return add_staff(app, "ada.admin@example.org", "admin")
