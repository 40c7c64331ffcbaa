/*
 * The report form with JavaScript on: the report and every file are encrypted on this device
 * before anything is sent, then the receipt is shown in the page (never in a URL).
 *
 * Fail closed: the native submit is cancelled before anything else happens, and any error ends
 * with a message in #script-error. Nothing is ever sent unencrypted from here. With JavaScript off
 * (or if this file never loads) the form posts to the server as designed and the server encrypts.
 */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form) return;
  var errorBox = document.getElementById("script-error");
  var progressBox = document.getElementById("progress");
  var progressBar = document.getElementById("progress-bar");
  var progressLabel = document.getElementById("progress-label");
  var fileInput = document.getElementById("files");
  var submitButton = form.querySelector("button[type=submit]");
  var busy = false;

  /** A text from the page (translated on the server), with {placeholders} filled in. */
  function text(name, values) {
    var template = form.getAttribute("data-msg-" + name) || name;
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && key in values ? String(values[key]) : whole;
    });
  }

  function UserMistake(message) {
    this.name = "UserMistake";
    this.message = message;
  }
  UserMistake.prototype = Object.create(Error.prototype);

  function showError(message) {
    var paragraph = document.createElement("p");
    paragraph.textContent = message;
    errorBox.replaceChildren(paragraph);
    errorBox.hidden = false;
    errorBox.scrollIntoView({block: "center"});
  }

  function showProgress(label, fraction) {
    progressBox.hidden = false;
    if (label !== null) progressLabel.textContent = label;
    if (fraction !== null) progressBar.value = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  }

  function failureMessage(error) {
    if (error instanceof UserMistake) return error.message;
    // A library that failed to load must still leave the reporter a clear message.
    if (!self.ProbityCrypto || !self.ProbityApi) return text("no-crypto");
    if (error instanceof self.ProbityCrypto.CryptoUnavailable) return text("no-crypto");
    if (error instanceof self.ProbityApi.ServerRefused) return text("refused", {reason: error.message || error.code});
    if (error instanceof self.ProbityApi.NetworkFailed) return text("offline");
    return text("failed");
  }

  function readFields() {
    var values = {};
    ["summary", "details", "when", "where", "who", "how_known"].forEach(function (name) {
      values[name] = form.elements[name] ? form.elements[name].value : "";
    });
    var hint = form.querySelector("input[name=category_hint]:checked");
    return {values: values, categoryHint: hint ? hint.value : ""};
  }

  function chosenFiles() {
    var files = fileInput ? Array.prototype.slice.call(fileInput.files) : [];
    var limit = Number(fileInput && fileInput.getAttribute("data-max-bytes")) || Infinity;
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    if (total > limit) throw new UserMistake(text("too-large", {mb: Math.floor(limit / 1048576)}));
    return files;
  }

  /** Progress over the whole job: encrypting counts for the first half, sending for the second. */
  function Tracker(files) {
    var plainTotal = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    var sendTotal = files.reduce(function (sum, file) {
      return sum + self.ProbityCrypto.encryptedSize(file.size);
    }, 0);
    var encrypted = 0;
    var sent = 0;
    function fraction() {
      if (plainTotal === 0) return sent > 0 ? 1 : 0;
      return 0.5 * encrypted / plainTotal + 0.5 * sent / Math.max(1, sendTotal);
    }
    return {
      encrypted: function (name, bytes) {
        encrypted = bytes;
        showProgress(text("encrypting", {name: name}), fraction());
      },
      sent: function (name, bytes) {
        sent = bytes;
        showProgress(text("uploading", {name: name}), fraction());
      },
      done: function () { sent = Math.max(sent, 1); showProgress(null, fraction()); }
    };
  }

  async function encryptAll(files, dataKey, tracker) {
    var sealed = [];
    var before = 0;
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var blob = await self.ProbityCrypto.encryptFile(file, dataKey, function (done) {
        tracker.encrypted(file.name, before + done);
      });
      before += file.size;
      sealed.push({name: file.name, blob: blob, meta: self.ProbityCrypto.sealFileMeta(dataKey, file)});
    }
    return sealed;
  }

  function proof(purpose, onProgress) {
    return self.ProbityApi.obtainProof(form.getAttribute("data-pow-url"), form.getAttribute("data-worker-url"),
                                       purpose, onProgress);
  }

  /** Upload each sealed file with its own proof of work; return the names of those that failed. */
  async function uploadAll(sealedFiles, created, tracker) {
    var failed = [];
    var before = 0;
    var url = form.getAttribute("data-files-url").replace("REPORT_ID", encodeURIComponent(created.report));
    for (var i = 0; i < sealedFiles.length; i++) {
      var item = sealedFiles[i];
      try {
        showProgress(text("checking"), null);
        var fileProof = await proof("file", null);
        await self.ProbityApi.uploadBlob(url, item.blob, {
          "X-Probity-Upload-Token": created.upload_token,
          "X-Probity-File-Meta": item.meta,
          "X-Probity-Proof": fileProof
        }, function (loaded) { tracker.sent(item.name, before + loaded); });
      } catch (error) {
        failed.push(item.name);
      }
      before += item.blob.size;
      tracker.sent(item.name, before);
    }
    return failed;
  }

  function showReceipt(receipt, failedFiles) {
    var view = document.getElementById("receipt-view").content.cloneNode(true);
    var code = view.querySelector("[data-receipt-code]");
    code.textContent = receipt;
    code.id = "receipt-code";
    if (failedFiles.length) {
      var warning = view.querySelector("[data-files-failed]");
      var paragraph = document.createElement("p");
      paragraph.textContent = text("files-failed", {names: failedFiles.join(", ")});
      warning.replaceChildren(paragraph);
      warning.hidden = false;
    }
    var main = document.getElementById("main");
    main.replaceChildren(view);
    document.title = form.getAttribute("data-receipt-title") || document.title;
    var heading = main.querySelector("h1");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  /** POST the envelope; if the proof went stale meanwhile (difficulty raised, expired), solve anew once. */
  async function sendReport(envelope, reportProof) {
    var url = form.getAttribute("data-submit-url");
    try {
      return await self.ProbityApi.postJSON(url, envelope, {"X-Probity-Proof": reportProof});
    } catch (error) {
      if (!(error instanceof self.ProbityApi.ServerRefused) || error.code !== "pow_expired") throw error;
      showProgress(text("checking"), null);
      return self.ProbityApi.postJSON(url, envelope, {"X-Probity-Proof": await proof("report", null)});
    }
  }

  async function sendEncrypted() {
    self.ProbityCrypto.requireLibraries();
    var typed = readFields();
    if (!typed.values.summary.trim()) throw new UserMistake(text("summary"));
    var files = chosenFiles();
    var tracker = new Tracker(files);
    showProgress(text("preparing"), 0);

    var keys = await self.ProbityApi.getJSON(form.getAttribute("data-keys-url"));
    var plaintext = self.ProbityCrypto.reportPlaintext(form.getAttribute("data-lang"), typed.values,
                                                        typed.categoryHint);
    var sealed = self.ProbityCrypto.sealReport(keys.recipients, plaintext);
    plaintext.fill(0);
    var checking = files.length === 0 ? function (tried, expected) {
      showProgress(text("checking"), Math.min(0.95, tried / (2 * expected)));
    } : null;
    // The proof of work runs in its worker while this thread encrypts the files.
    var results = await Promise.all([proof("report", checking), encryptAll(files, sealed.dataKey, tracker)]);
    showProgress(text("sending"), null);
    var created = await sendReport(sealed.envelope, results[0]);
    var failed = [];
    try {
      failed = await uploadAll(results[1], created, tracker);
    } finally {
      sealed.dataKey.fill(0);
    }
    tracker.done();
    showReceipt(created.receipt, failed);
  }

  form.addEventListener("submit", function (event) {
    // First and unconditionally: this form never goes out unencrypted once this script runs.
    event.preventDefault();
    if (busy) return;
    busy = true;
    errorBox.hidden = true;
    submitButton.disabled = true;
    sendEncrypted().catch(function (error) {
      progressBox.hidden = true;
      showError(failureMessage(error));
      submitButton.disabled = false;
      busy = false;
    });
  });

  form.setAttribute("data-encrypts", "browser");
})();
