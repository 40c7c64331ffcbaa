"""Triage tests submit many reports quickly: cheap proofs of work and quotas out of the way."""
from __future__ import annotations

import pytest

from core.config import AbuseLimits


@pytest.fixture
def test_config(test_config: dict[str, object]) -> dict[str, object]:
    return {**test_config, "abuse": AbuseLimits(form_ticket_min_seconds=0, pow_difficulty_bits=8,
                                                 submissions_per_hour="100000 per hour",
                                                 global_submissions="100000 per hour")}
