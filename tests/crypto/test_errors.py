from crypto import errors


def test_every_error_is_a_crypto_error():
    for cls in (
        errors.MalformedInput,
        errors.DecryptionFailed,
        errors.TruncatedStream,
        errors.WrongPassphrase,
        errors.MalformedReceipt,
    ):
        assert issubclass(cls, errors.CryptoError)


def test_specialised_errors_keep_their_family():
    assert issubclass(errors.WrongPassphrase, errors.DecryptionFailed)
    assert issubclass(errors.MalformedReceipt, errors.MalformedInput)
    assert not issubclass(errors.TruncatedStream, errors.DecryptionFailed)
    assert not issubclass(errors.MalformedInput, errors.DecryptionFailed)
