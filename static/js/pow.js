/*
 * The anti-spam proof of work (intake/antiabuse.py, crypto/proofofwork.py): find a nonce such that
 * SHA-512(challenge || nonce as 8 bytes big-endian) starts with `bits` zero bits. SHA-512 is
 * tweetnacl's nacl.hash, so nothing else is needed. Loaded both in the page and in pow-worker.js.
 */
(function (root) {
  "use strict";

  var NONCE_SIZE = 8;
  var TWO_TO_32 = 4294967296;

  function hasLeadingZeroBits(digest, bits) {
    var whole = bits >> 3;
    for (var i = 0; i < whole; i++) {
      if (digest[i] !== 0) return false;
    }
    var rest = bits & 7;
    return rest === 0 || (digest[whole] >> (8 - rest)) === 0;
  }

  /** Try `count` nonces from `start`; return the first that solves the challenge, or -1. */
  function search(challenge, bits, start, count) {
    var message = new Uint8Array(challenge.length + NONCE_SIZE);
    message.set(challenge, 0);
    var at = challenge.length;
    for (var nonce = start; nonce < start + count; nonce++) {
      var high = Math.floor(nonce / TWO_TO_32);
      var low = nonce >>> 0;
      message[at] = high >>> 24; message[at + 1] = (high >>> 16) & 255;
      message[at + 2] = (high >>> 8) & 255; message[at + 3] = high & 255;
      message[at + 4] = low >>> 24; message[at + 5] = (low >>> 16) & 255;
      message[at + 6] = (low >>> 8) & 255; message[at + 7] = low & 255;
      if (hasLeadingZeroBits(root.nacl.hash(message), bits)) return nonce;
    }
    return -1;
  }

  root.ProbityPow = {search: search, hasLeadingZeroBits: hasLeadingZeroBits};
})(self);
