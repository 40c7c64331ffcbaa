/*
 * Probity's cryptography in the reporter's browser: the v1 report envelope and the encrypted file
 * stream, byte for byte as docs/protocol.md and crypto/filestream.py define them.
 *
 * Pure JavaScript on top of tweetnacl (`nacl`) and tweetnacl-sealedbox-js (`sealedBox`, libsodium's
 * crypto_box_seal), both installed from npm and served from our own origin. No WebAssembly, no eval:
 * it runs at Tor Browser's "Safer" level and under a CSP without 'unsafe-eval'.
 */
(function (root) {
  "use strict";

  var DATA_KEY_SIZE = 32;
  var PUBLIC_KEY_SIZE = 32;
  var NONCE_SIZE = 24;
  var MAC_SIZE = 16;
  var CHUNK_SIZE = 65536;
  // File.slice reads one MiB at a time: bounded memory, and few enough promises to stay fast.
  var READ_SIZE = 16 * CHUNK_SIZE;
  var STREAM_HEADER = [0x50, 0x52, 0x42, 0x46, 0x53, 0x00, 0x01, 0x00]; // "PRBFS" 0 | version 1 | 0
  var PREFIX_SIZE = 16;
  var COUNTER_SIZE = 7;
  var FIELDS = ["summary", "details", "when", "where", "who", "how_known"];
  var encoder = new TextEncoder();

  function CryptoUnavailable(message) {
    this.name = "CryptoUnavailable";
    this.message = message;
  }
  CryptoUnavailable.prototype = Object.create(Error.prototype);

  /** Throw unless the NaCl libraries loaded and the browser has a secure random source. */
  function requireLibraries() {
    var nacl = root.nacl;
    if (!nacl || typeof nacl.secretbox !== "function" || typeof nacl.hash !== "function" ||
        !root.sealedBox || typeof root.sealedBox.seal !== "function") {
      throw new CryptoUnavailable("the encryption libraries did not load");
    }
    nacl.randomBytes(1); // throws "no PRNG" when the browser offers no crypto.getRandomValues
  }

  function toBase64(bytes) {
    var parts = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return root.btoa(parts.join(""));
  }

  function fromBase64(text) {
    var binary = root.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function concat(first, second) {
    var out = new Uint8Array(first.length + second.length);
    out.set(first, 0);
    out.set(second, first.length);
    return out;
  }

  /**
   * The report's plaintext, exactly as intake/content.py encode_content writes it: compact JSON,
   * fields in their fixed order, empty fields left out, the category hint last (null if none).
   */
  function reportPlaintext(lang, values, categoryHint) {
    var fields = {};
    FIELDS.forEach(function (name) {
      var value = String(values[name] || "").trim();
      if (value) fields[name] = value;
    });
    fields.category_hint = categoryHint || null;
    var tag = String(lang || "und").trim().slice(0, 35) || "und";
    return encoder.encode(JSON.stringify({lang: tag, fields: fields}));
  }

  /** SecretBox(dataKey).encrypt(plaintext) as PyNaCl returns it: a fresh 24-byte nonce first. */
  function sealBody(dataKey, plaintext) {
    var nonce = root.nacl.randomBytes(NONCE_SIZE);
    return concat(nonce, root.nacl.secretbox(plaintext, nonce, dataKey));
  }

  /**
   * Build the POST /api/v1/reports body for `recipients` (GET /api/v1/keys). Returns the envelope
   * and the data key, which the caller needs for the files and must wipe afterwards.
   */
  function sealReport(recipients, plaintext) {
    if (!Array.isArray(recipients) || recipients.length === 0) {
      throw new Error("the server listed no recipient keys");
    }
    var dataKey = root.nacl.randomBytes(DATA_KEY_SIZE);
    var keys = {};
    recipients.forEach(function (recipient) {
      var publicKey = fromBase64(recipient.public_key);
      if (publicKey.length !== PUBLIC_KEY_SIZE || typeof recipient.id !== "string") {
        throw new Error("the server sent a malformed recipient key");
      }
      keys[recipient.id] = toBase64(root.sealedBox.seal(dataKey, publicKey));
    });
    return {envelope: {version: 1, body: toBase64(sealBody(dataKey, plaintext)), keys: keys}, dataKey: dataKey};
  }

  /** Base64 of SecretBox(dataKey) over the file's {"name", "type", "size"} JSON (intake/files.py seal_meta). */
  function sealFileMeta(dataKey, file) {
    var meta = {name: String(file.name || "file").trim().slice(0, 255) || "file",
                type: String(file.type || "application/octet-stream").slice(0, 100), size: file.size};
    return toBase64(sealBody(dataKey, encoder.encode(JSON.stringify(meta))));
  }

  /** nonce_i = prefix (16) || i as 7-byte big-endian || final flag (1). */
  function chunkNonce(prefix, index, final) {
    var nonce = new Uint8Array(NONCE_SIZE);
    nonce.set(prefix, 0);
    var rest = index;
    for (var at = PREFIX_SIZE + COUNTER_SIZE - 1; at >= PREFIX_SIZE; at--) {
      nonce[at] = rest % 256;
      rest = Math.floor(rest / 256);
    }
    nonce[NONCE_SIZE - 1] = final ? 1 : 0;
    return nonce;
  }

  function chunkCount(size) {
    return Math.max(1, Math.ceil(size / CHUNK_SIZE));
  }

  function encryptedSize(size) {
    return STREAM_HEADER.length + PREFIX_SIZE + size + chunkCount(size) * MAC_SIZE;
  }

  function readSlice(blob, start, end) {
    var part = blob.slice(start, end);
    if (typeof part.arrayBuffer === "function") return part.arrayBuffer();
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error || new Error("the file could not be read")); };
      reader.readAsArrayBuffer(part);
    });
  }

  /**
   * Encrypt a File (or Blob) into the stream format of crypto/filestream.py, one slice at a time:
   * the plaintext is never whole in memory. Resolves to a Blob of ciphertext for the upload.
   * `onProgress(bytesDone, bytesTotal)` is called after every slice.
   */
  async function encryptFile(file, dataKey, onProgress) {
    var total = file.size;
    var lastIndex = chunkCount(total) - 1;
    var prefix = root.nacl.randomBytes(PREFIX_SIZE);
    var parts = [new Uint8Array(STREAM_HEADER), prefix];
    var index = 0;
    if (total === 0) {
      parts.push(root.nacl.secretbox(new Uint8Array(0), chunkNonce(prefix, 0, true), dataKey));
      index = 1;
    }
    for (var offset = 0; offset < total; offset += READ_SIZE) {
      var end = Math.min(offset + READ_SIZE, total);
      var piece = new Uint8Array(await readSlice(file, offset, end));
      if (piece.length !== end - offset) throw new Error("the file changed while it was being read");
      for (var at = 0; at < piece.length; at += CHUNK_SIZE) {
        var chunk = piece.subarray(at, at + CHUNK_SIZE);
        parts.push(root.nacl.secretbox(chunk, chunkNonce(prefix, index, index === lastIndex), dataKey));
        index++;
      }
      piece.fill(0);
      if (onProgress) onProgress(end, total);
    }
    if (index !== lastIndex + 1) throw new Error("the file changed while it was being read");
    return new Blob(parts, {type: "application/octet-stream"});
  }

  root.ProbityCrypto = {
    CHUNK_SIZE: CHUNK_SIZE,
    CryptoUnavailable: CryptoUnavailable,
    requireLibraries: requireLibraries,
    toBase64: toBase64,
    fromBase64: fromBase64,
    reportPlaintext: reportPlaintext,
    sealBody: sealBody,
    sealReport: sealReport,
    sealFileMeta: sealFileMeta,
    chunkNonce: chunkNonce,
    encryptedSize: encryptedSize,
    encryptFile: encryptFile
  };
})(self);
