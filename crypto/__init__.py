"""Probity's cryptography: pure functions on bytes and streams, built on PyNaCl.

No web framework, database or configuration is imported here; every key and
limit is passed in by the caller.

The scheme in one page:

* ``keys``: every recipient (each investigator, and the intake service key
  held by triage workers) has an X25519 key pair, named on the wire by
  ``key_id``, 16 hex characters of BLAKE2b-64 of the public key.
* ``envelope``: each report gets a random 32-byte data key (DK). Everything
  the reporter writes is SecretBox-encrypted under DK (random 24-byte nonce
  first); DK is SealedBox-sealed to each recipient (80 bytes each). The
  browser builds the same envelope with tweetnacl, so the server never needs
  to see plaintext.
* ``filestream``: files are encrypted under DK in 64 KiB chunks whose nonces
  carry a random per-file prefix, the chunk counter and a final flag (STREAM
  over SecretBox), so reordering, truncation and splicing are detected and
  memory stays bounded.
* ``receipts``: a reporter's 80-bit receipt code goes through one slow
  Argon2id call, salted by a hash of a pepper kept outside the database, to a
  lookup value and the reporter's own X25519 key pair; DK is sealed to that
  key so a returning reporter can read the conversation.
* ``wrapping``: investigator private keys are stored SecretBox-encrypted under
  Argon2id of the passphrase, and again under a 160-bit recovery key.
* ``kdf``: Argon2id with explicit limits and a ceiling on limits read back
  from storage; ``codes``: Crockford base32 for codes humans copy by hand.
* ``proofofwork``: SHA-512 leading-zero puzzles to slow down floods.

Failures raise subclasses of ``errors.CryptoError``.
"""
