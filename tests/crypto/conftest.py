import pytest

from crypto.envelope import new_data_key
from crypto.keys import KeyPair, generate_keypair


@pytest.fixture
def data_key() -> bytes:
    return new_data_key()


@pytest.fixture
def recipient() -> KeyPair:
    return generate_keypair()
