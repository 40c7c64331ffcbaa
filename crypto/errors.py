"""Failure modes of Probity's cryptography.

Callers need to tell three situations apart, because they answer them
differently: input that cannot be a valid object at all (reject with a 4xx,
nothing was decrypted), input that is well formed but does not authenticate
(wrong key, wrong passphrase or tampering — never say which), and a file stream
that stops early or runs on past its end. Every error is a ``CryptoError``, so
code that only needs "it did not work" catches that one class.
"""


class CryptoError(Exception):
    """Base class of every error raised by ``crypto``."""


class MalformedInput(CryptoError):
    """Wrong size, bad encoding or impossible structure; nothing was decrypted."""


class DecryptionFailed(CryptoError):
    """Authentication failed: wrong key, or the data was altered."""


class TruncatedStream(CryptoError):
    """A file stream lost its final chunk, or data follows its final chunk."""


class WrongPassphrase(DecryptionFailed):
    """A wrapped key did not open with the passphrase given.

    A tampered blob looks exactly the same; the two cannot be told apart.
    """


class MalformedReceipt(MalformedInput):
    """Text that cannot be a receipt code, even after forgiving normalisation."""
