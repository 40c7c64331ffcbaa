/*
 * Talking to Probity's JSON API (docs/protocol.md) from the report page: keys, proofs of work,
 * the sealed report and the encrypted files. Every request goes to our own origin, without cookies.
 */
(function (root) {
  "use strict";

  /** A refusal from the server, with its machine code and human message. */
  function ServerRefused(status, code, message) {
    this.name = "ServerRefused";
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ServerRefused.prototype = Object.create(Error.prototype);

  function NetworkFailed() {
    this.name = "NetworkFailed";
    this.message = "the server could not be reached";
  }
  NetworkFailed.prototype = Object.create(Error.prototype);

  function refusal(status, text) {
    try {
      var answer = JSON.parse(text);
      return new ServerRefused(status, String(answer.error || status), String(answer.message || ""));
    } catch (ignored) {
      return new ServerRefused(status, String(status), "");
    }
  }

  async function request(url, options) {
    var response;
    try {
      response = await root.fetch(url, Object.assign({credentials: "omit", cache: "no-store",
                                                      redirect: "error"}, options));
    } catch (error) {
      throw new NetworkFailed();
    }
    var text = await response.text();
    if (!response.ok) throw refusal(response.status, text);
    return JSON.parse(text);
  }

  function getJSON(url) {
    return request(url, {method: "GET"});
  }

  function postJSON(url, document, headers) {
    return request(url, {method: "POST", body: JSON.stringify(document),
                         headers: Object.assign({"Content-Type": "application/json"}, headers || {})});
  }

  /** POST a Blob with upload progress (fetch reports none): onProgress(bytesSent). */
  function uploadBlob(url, blob, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (event) { if (onProgress) onProgress(event.loaded); };
      xhr.onload = function () {
        if (xhr.status === 201) resolve(JSON.parse(xhr.responseText));
        else reject(refusal(xhr.status, xhr.responseText));
      };
      xhr.onerror = function () { reject(new NetworkFailed()); };
      xhr.onabort = xhr.onerror;
      xhr.send(blob);
    });
  }

  function searchOnThisThread(challenge, bits, onProgress) {
    var BATCH = 8192;
    return new Promise(function (resolve) {
      var start = 0;
      function step() {
        var nonce = root.ProbityPow.search(challenge, bits, start, BATCH);
        if (nonce >= 0) return resolve(nonce);
        start += BATCH;
        if (onProgress) onProgress(start);
        root.setTimeout(step, 0);
      }
      step();
    });
  }

  // A phone has several cores: one worker per core (up to four) divides the waiting time.
  var MAX_WORKERS = 4;

  function searchInWorkers(workerUrl, challenge, bits, onProgress) {
    var lanes = Math.max(1, Math.min(MAX_WORKERS, root.navigator.hardwareConcurrency || 1));
    return new Promise(function (resolve, reject) {
      var workers = [];
      var tried = 0;
      function stopAll() { workers.forEach(function (worker) { worker.terminate(); }); }
      try {
        for (var lane = 0; lane < lanes; lane++) workers.push(new Worker(workerUrl));
      } catch (error) {
        stopAll();
        throw error;
      }
      workers.forEach(function (worker, lane) {
        worker.onmessage = function (event) {
          if (typeof event.data.nonce === "number") {
            stopAll();
            resolve(event.data.nonce);
          } else {
            tried += event.data.tried;
            if (onProgress) onProgress(tried);
          }
        };
        worker.onerror = function (event) {
          event.preventDefault();
          stopAll();
          reject(new Error("the proof-of-work worker failed"));
        };
        worker.postMessage({challenge: challenge, bits: bits, lane: lane, lanes: lanes});
      });
    });
  }

  /**
   * Fetch a challenge for `purpose` ("report" or "file") and solve it, in Web Workers when the
   * browser allows them (else on this thread, in slices). Resolves to the X-Probity-Proof header value. onProgress(tried, expected).
   */
  async function obtainProof(powUrl, workerUrl, purpose, onProgress) {
    var challenge = await getJSON(powUrl + "?purpose=" + encodeURIComponent(purpose));
    var bytes = root.ProbityCrypto.fromBase64(challenge.challenge);
    var bits = challenge.difficulty_bits;
    var expected = Math.pow(2, bits);
    var report = onProgress ? function (tried) { onProgress(tried, expected); } : null;
    var nonce;
    try {
      nonce = await searchInWorkers(workerUrl, bytes, bits, report);
    } catch (workerUnavailable) {
      nonce = await searchOnThisThread(bytes, bits, report);
    }
    return challenge.challenge + ":" + nonce;
  }

  root.ProbityApi = {
    ServerRefused: ServerRefused,
    NetworkFailed: NetworkFailed,
    getJSON: getJSON,
    postJSON: postJSON,
    uploadBlob: uploadBlob,
    obtainProof: obtainProof
  };
})(self);
