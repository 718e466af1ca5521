// The upload page: choose or drop files, then upload them one at a time. The server
// checks everything again; the checks here only spare sending a file it would refuse.
"use strict";
(function () {
  const app = document.getElementById("app");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const maxBytes = Number(app.dataset.maxBytes);
  const maxSize = app.dataset.maxSize;
  const accept = app.dataset.accept ? app.dataset.accept.split(",") : [];
  const form = document.getElementById("form");
  const input = document.getElementById("file");
  const drop = document.getElementById("drop");
  const queueList = document.getElementById("queue");
  const button = document.getElementById("upload");
  const results = document.getElementById("results");
  let queue = [];

  function setQueue(files) {
    queue = Array.from(files);
    queueList.replaceChildren(...queue.map((f) => {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + human(f.size) + ")";
      return li;
    }));
    button.disabled = queue.length === 0;
  }

  function human(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  // refusal says why the server would refuse a file, in the server's own words.
  function refusal(f) {
    const lower = f.name.toLowerCase();
    if (accept.length && !accept.some((e) => lower.endsWith(e) && lower.length > e.length)) {
      return { error: 'files like "' + f.name + '" are not accepted here', fix: "accepted extensions: " + accept.join(" ") };
    }
    if (f.size > maxBytes) {
      return { error: "the file is larger than the limit of " + maxSize, fix: "upload a smaller file" };
    }
    return null;
  }

  function resultItem(name) {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = name;
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = "uploading…";
    const bar = document.createElement("progress");
    bar.max = 1; bar.value = 0;
    li.append(title, status, bar);
    results.prepend(li);
    return { li, status, bar };
  }

  function show(item, ok, body) {
    item.bar.remove();
    item.li.className = ok ? "ok" : "bad";
    if (ok) {
      item.status.textContent = "stored as ";
      const key = document.createElement("code");
      key.className = "key";
      key.textContent = body.key;
      item.status.append(key, " in bucket " + body.bucket + " (" + human(body.size) + ")");
      return;
    }
    item.status.textContent = "refused: " + body.error;
    if (body.fix) {
      const fix = document.createElement("span");
      fix.className = "fix";
      fix.textContent = body.fix;
      item.li.append(fix);
    }
  }

  function send(f) {
    const item = resultItem(f.name);
    const refused = refusal(f);
    if (refused) { show(item, false, refused); return Promise.resolve(); }
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/upload");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) item.bar.value = e.loaded / e.total; };
      xhr.onload = () => {
        let body;
        try { body = JSON.parse(xhr.responseText); } catch (_) { body = { error: "the server answered " + xhr.status }; }
        show(item, xhr.status === 200, body);
        resolve();
      };
      xhr.onerror = () => { show(item, false, { error: "the connection to the server failed", fix: "check that iamwizard serve is still running" }); resolve(); };
      const data = new FormData();
      data.append("file", f, f.name);
      xhr.send(data);
    });
  }

  input.addEventListener("change", () => setQueue(input.files));
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => { e.preventDefault(); setQueue(e.dataTransfer.files); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const files = queue;
    setQueue([]);
    input.value = "";
    for (const f of files) { await send(f); }
  });
})();
