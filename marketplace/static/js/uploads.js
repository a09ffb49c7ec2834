// Uploads a draft version's files straight to storage with presigned links, showing progress per file and
// overall. Large files go up in parts; which parts storage already holds is asked from the server, so after a
// reload (or a dropped connection) selecting the same files again resumes where the upload stopped. The
// browser keeps a file -> upload session map in localStorage; the server stays the source of truth. A file whose
// SHA-256 the server computes in the background (cloud storage) shows "Verifying…" until the server is done.
(function () {
  "use strict";

  const root = document.getElementById("uploader");
  if (!root) return;

  const startUrl = root.dataset.startUrl;
  const sessionUrlTemplate = root.dataset.sessionUrl; // ".../upload-sessions/0"
  const csrfToken = root.dataset.csrf;
  const hashMax = Number(root.dataset.hashMax || "0");
  const scope = root.dataset.scope;
  const filesInput = document.getElementById("upload-files");
  const folderInput = document.getElementById("upload-folder");
  const startButton = document.getElementById("upload-start");
  const overallBar = document.getElementById("upload-overall");
  const overallText = document.getElementById("upload-overall-text");
  const list = document.getElementById("upload-list");
  const emptyBox = document.getElementById("upload-empty");
  const PARALLEL_PARTS = 3;
  const LINK_BATCH = 8;
  const VERIFY_POLL_MS = 1000;
  const VERIFY_POLL_MAX_MS = 10000;

  function sessionUrl(id, suffix) {
    return sessionUrlTemplate.replace(/\/0$/, "/" + id) + (suffix || "");
  }

  function storageKey(file, path) {
    return ["marketplace-upload", scope, path, file.size, file.lastModified].join("|");
  }

  function remember(file, path, id) {
    try { localStorage.setItem(storageKey(file, path), String(id)); } catch (e) { /* private mode: no resume */ }
  }

  function recall(file, path) {
    try { return localStorage.getItem(storageKey(file, path)); } catch (e) { return null; }
  }

  function forget(file, path) {
    try { localStorage.removeItem(storageKey(file, path)); } catch (e) { /* nothing to forget */ }
  }

  function formatBytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok && response.status !== 422) {
      const message = data && data.error ? data.error.message : "The server answered " + response.status + ".";
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return { status: response.status, data: data };
  }

  function put(url, blob, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      Object.keys(headers || {}).forEach(function (name) {
        if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, headers[name]);
      });
      xhr.upload.onprogress = function (event) { if (event.lengthComputable) onProgress(event.loaded); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(blob.size);
          resolve(xhr.getResponseHeader("ETag"));
        } else {
          reject(new Error("Storage refused the upload (" + xhr.status + "): " + (xhr.responseText || "").slice(0, 200)));
        }
      };
      xhr.onerror = function () { reject(new Error("The connection to storage was lost.")); };
      xhr.onabort = function () { reject(new Error("The upload was interrupted.")); };
      xhr.send(blob);
    });
  }

  async function sha256Hex(file) {
    if (!hashMax || file.size > hashMax || !window.crypto || !window.crypto.subtle) return null;
    const digest = await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function pathOf(file) {
    const relative = file.webkitRelativePath || "";
    if (relative) return relative.split("/").slice(1).join("/") || file.name;
    return file.name;
  }

  // --- progress --------------------------------------------------------------------------------------------

  const tracked = [];

  function updateOverall() {
    const total = tracked.reduce(function (sum, t) { return sum + t.file.size; }, 0);
    const done = tracked.reduce(function (sum, t) { return sum + t.doneBytes(); }, 0);
    const percent = total ? Math.floor((done / total) * 1000) / 10 : 100;
    overallBar.value = percent;
    overallText.textContent = formatBytes(done) + " of " + formatBytes(total) + " (" + percent + "%)";
  }

  function Tracker(file, path, index) {
    this.file = file;
    this.path = path;
    this.partBytes = {}; // part number -> bytes sent
    const item = document.createElement("li");
    item.className = "upload-item";
    item.dataset.testid = "upload-item-" + index;
    item.setAttribute("data-testid", "upload-item-" + index);
    const name = document.createElement("code");
    name.textContent = path;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Progress of " + path);
    bar.setAttribute("data-testid", "upload-progress-" + index);
    const status = document.createElement("span");
    status.className = "upload-status";
    status.setAttribute("data-testid", "upload-status-" + index);
    status.setAttribute("aria-live", "polite");
    item.append(name, " ", bar, " ", status);
    list.append(item);
    this.bar = bar;
    this.statusEl = status;
  }

  Tracker.prototype.doneBytes = function () {
    const parts = this.partBytes;
    return Object.keys(parts).reduce(function (sum, k) { return sum + parts[k]; }, 0);
  };
  Tracker.prototype.setPart = function (number, bytes) {
    this.partBytes[number] = bytes;
    const percent = this.file.size ? Math.floor((this.doneBytes() / this.file.size) * 1000) / 10 : 100;
    this.bar.value = percent;
    updateOverall();
  };
  Tracker.prototype.say = function (text, state) {
    this.statusEl.textContent = text;
    if (state) this.statusEl.dataset.state = state;
  };

  // --- one file --------------------------------------------------------------------------------------------

  async function resumeOrStart(tracker) {
    const file = tracker.file;
    const known = recall(file, tracker.path);
    if (known) {
      try {
        const answer = await api("GET", sessionUrl(known));
        const upload = answer.data;
        if (upload && upload.status === "uploading" && upload.size === file.size && upload.path === tracker.path) {
          return upload;
        }
      } catch (e) { /* gone or not ours: start afresh */ }
      forget(file, tracker.path);
    }
    tracker.say("hashing…");
    const sha256 = await sha256Hex(file);
    const answer = await api("POST", startUrl, {
      path: tracker.path, size: file.size, media_type: file.type || null, sha256: sha256,
      confirm_empty: Boolean(emptyBox && emptyBox.checked),
    });
    if (answer.status === 422) throw new RefusedError(answer.data.error.message);
    remember(file, tracker.path, answer.data.id);
    return answer.data;
  }

  async function uploadParts(tracker, upload) {
    const file = tracker.file;
    const done = new Set(upload.parts_done || []);
    done.forEach(function (n) {
      const start = (n - 1) * upload.part_size;
      tracker.setPart(n, Math.min(file.size, start + upload.part_size) - start);
    });
    if (done.size) {
      tracker.say("resuming: " + done.size + " of " + upload.part_count + " parts already uploaded", "resuming");
    }
    const queue = [];
    for (let n = 1; n <= upload.part_count; n += 1) if (!done.has(n)) queue.push(n);
    const links = {};
    async function linkFor(n) {
      if (!links[n]) {
        const batch = queue.filter(function (m) { return !links[m]; }).slice(0, LINK_BATCH);
        if (batch.indexOf(n) < 0) batch.unshift(n);
        const answer = await api("POST", sessionUrl(upload.id, "/links"), { parts: batch });
        Object.assign(links, answer.data.urls);
      }
      return links[n];
    }
    let stored = done.size;
    let failure = null;
    // After the first failure no worker starts another part, but parts already on their way may finish:
    // every part that reaches storage is one less to send when the upload resumes.
    async function worker() {
      while (queue.length && !failure) {
        const n = queue.shift();
        const start = (n - 1) * upload.part_size;
        const blob = file.slice(start, Math.min(file.size, start + upload.part_size));
        try {
          const url = await linkFor(n);
          await put(url, blob, {}, function (sent) { tracker.setPart(n, sent); });
        } catch (error) {
          tracker.setPart(n, 0);
          failure = failure || error;
          return;
        }
        stored += 1;
        tracker.say("part " + stored + " of " + upload.part_count + " uploaded", "uploading");
      }
    }
    const workers = [];
    for (let i = 0; i < Math.min(PARALLEL_PARTS, queue.length); i += 1) workers.push(worker());
    await Promise.all(workers);
    if (failure) throw failure;
  }

  async function uploadWhole(tracker, upload) {
    const answer = await api("POST", sessionUrl(upload.id, "/links"), { parts: [] });
    await put(answer.data.urls["0"], tracker.file, upload.headers, function (sent) { tracker.setPart(1, sent); });
  }

  // Rows of the page's file table still being verified (rendered before this script ran): ask the server until
  // each is done, then reload the page so the table shows the outcome.
  document.querySelectorAll("[data-poll-url]").forEach(function (badge) {
    let wait = VERIFY_POLL_MS;
    const ask = async function () {
      try {
        const answer = await api("GET", badge.dataset.pollUrl);
        if (answer.data && answer.data.status && answer.data.status !== "verifying") {
          window.location.reload();
          return;
        }
      } catch (e) { /* try again later */ }
      wait = Math.min(wait * 2, VERIFY_POLL_MAX_MS);
      setTimeout(ask, wait);
    };
    setTimeout(ask, wait);
  });

  // The server checks a large file in cloud storage after the upload, in the background: ask until it is done.
  async function awaitVerification(tracker, id) {
    tracker.say("Verifying… the server is computing the file's SHA-256; this page shows the result when done.", "verifying");
    let wait = VERIFY_POLL_MS;
    for (;;) {
      await new Promise(function (resolve) { setTimeout(resolve, wait); });
      wait = Math.min(wait * 2, VERIFY_POLL_MAX_MS);
      const answer = await api("GET", sessionUrl(id));
      if (answer.data && answer.data.status !== "verifying") return answer.data;
    }
  }

  function RefusedError(message) { this.message = message; }

  async function uploadOne(tracker) {
    if (tracker.file.size === 0 && !(emptyBox && emptyBox.checked)) {
      tracker.say("not uploaded: the file is empty. Tick “Upload an empty file” to upload it anyway.", "failed");
      return false;
    }
    try {
      const upload = await resumeOrStart(tracker);
      tracker.say(upload.multipart ? "uploading in " + upload.part_count + " parts…" : "uploading…", "uploading");
      if (upload.multipart) await uploadParts(tracker, upload);
      else await uploadWhole(tracker, upload);
      tracker.say("verifying size and SHA-256…", "verifying");
      const answer = await api("POST", sessionUrl(upload.id, "/complete"));
      forget(tracker.file, tracker.path);
      if (answer.status === 422) {
        tracker.say("failed: " + answer.data.error.message, "failed");
        return false;
      }
      const result = answer.data.status === "verifying" ? await awaitVerification(tracker, upload.id) : answer.data;
      if (result.status !== "verified") {
        tracker.say("failed: " + (result.error || "the file could not be verified."), "failed");
        return false;
      }
      tracker.say("verified · SHA-256 " + result.sha256, "verified");
      return true;
    } catch (error) {
      if (error instanceof RefusedError) {
        tracker.say("refused: " + error.message, "failed");
        return false;
      }
      tracker.say("interrupted: " + error.message + " Select the file again and press Upload to resume.", "interrupted");
      return false;
    }
  }

  startButton.addEventListener("click", async function () {
    const files = Array.from(filesInput.files || []).concat(Array.from(folderInput.files || []));
    if (!files.length) {
      overallText.textContent = "Choose files first.";
      return;
    }
    startButton.disabled = true;
    list.textContent = "";
    tracked.length = 0;
    files.forEach(function (file, index) { tracked.push(new Tracker(file, pathOf(file), index)); });
    updateOverall();
    let allGood = true;
    for (const tracker of tracked) {
      const ok = await uploadOne(tracker);
      allGood = allGood && ok;
    }
    startButton.disabled = false;
    overallText.textContent += allGood ? " · all files verified" : " · some files need attention";
    root.dataset.state = allGood ? "done" : "attention";
    if (allGood) {
      const reload = document.createElement("a");
      reload.href = window.location.pathname;
      reload.textContent = "Show the verified files";
      reload.setAttribute("data-testid", "upload-refresh");
      overallText.append(" · ", reload);
    }
  });
})();
