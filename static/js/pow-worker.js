/*
 * Solves the proof of work off the page's thread, so the page stays responsive while it runs.
 * Several workers share the search: worker `lane` of `lanes` tries the batches lane, lane + lanes, ...
 * In:  {challenge: Uint8Array, bits: number, lane: number, lanes: number}
 * Out: {tried: number} after each batch, then {nonce: number} once found.
 */
"use strict";
importScripts("../vendor/tweetnacl/nacl-fast.min.js", "pow.js");

var BATCH = 16384;

self.onmessage = function (event) {
  var challenge = event.data.challenge;
  var bits = event.data.bits;
  var lanes = event.data.lanes || 1;
  for (var batch = event.data.lane || 0; ; batch += lanes) {
    var nonce = self.ProbityPow.search(challenge, bits, batch * BATCH, BATCH);
    if (nonce >= 0) {
      self.postMessage({nonce: nonce});
      return;
    }
    self.postMessage({tried: BATCH});
  }
};
