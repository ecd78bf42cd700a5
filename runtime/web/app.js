// app.js - the imagegen web page: the playground (generate, edit) and the gallery. It uses only
// the public API, by relative URLs (the page lives under API Gateway's stage), and keeps an API
// key, when the deployment asks for one, in this tab's session storage only.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORE = "imagegen.apiKey";
const POLL_MS = [500, 1000, 1000, 2000];

const state = {
  catalogue: null,        // GET /models
  models: new Map(),      // id -> model
  tasks: new Map(),       // task name -> task
  polling: null,          // {cancelled}
  countdown: null,        // interval id
  galleryNext: undefined, // undefined: not loaded; null: no more
  galleryLoading: false,
  galleryIds: new Set(),
  keyWaiters: [],
};

// ---- the API --------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || `the API answered ${status}`);
    this.status = status;
    this.code = e.code || "http_" + status;
    this.retryAfter = Number(headers.get("Retry-After")) || 0;
  }
}

function askKey() {
  return new Promise((resolve) => {
    state.keyWaiters.push(resolve);
    const d = $("key-dialog");
    if (!d.open) {
      $("key-input").value = "";
      d.showModal();
      $("key-input").focus();
    }
  });
}

// A JSON call. A 403 "forbidden" (API Gateway: no valid x-api-key) asks for the key once and
// tries again with it.
async function api(method, path, body, retried) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers["x-api-key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (_) { data = null; }
  if (r.status === 403 && data && data.error && data.error.code === "forbidden" && !retried) {
    if (key) sessionStorage.removeItem(KEY_STORE);
    if (!(await askKey())) {
      throw new ApiError(403, { error: { code: "forbidden", message: "This deployment needs an API key: press the API key button to give it" } }, r.headers);
    }
    return api(method, path, body, true);
  }
  if (!r.ok) throw new ApiError(r.status, data, r.headers);
  return data;
}

// ---- notices: errors where the user looks ------------------------------------------------

function clearNotice() {
  clearInterval(state.countdown);
  state.countdown = null;
  $("notice").hidden = true;
  $("notice").className = "notice";
  $("notice-actions").replaceChildren();
  for (const el of document.querySelectorAll("[aria-invalid=true]")) el.removeAttribute("aria-invalid");
}

function notice(text, kind) {
  clearNotice();
  $("notice").classList.add(kind || "error");
  $("notice-text").textContent = text;
  $("notice").hidden = false;
}

// Which control a message is about: the parameter it names first ("width x height 1000x700
// matches none of ...; give aspectRatio ..." is about the width).
const PARAM_CONTROLS = [
  ["negativePrompt", "negative"], ["numberOfImages", "count"], ["aspectRatio", "size"], ["outputFormat", "format"],
  ["width", "width"], ["height", "height"], ["seed", "seed"], ["prompt", "prompt"], ["model", "model"],
];

function controlFor(message) {
  let best = null;
  let at = Infinity;
  for (const [name, id] of PARAM_CONTROLS) {
    const m = new RegExp("\\b" + name + "\\b").exec(message);
    if (m && m.index < at) { at = m.index; best = $(id); }
  }
  return best;
}

// Shows an error in the notice above the forms (role alert), brought into view; a rate limit
// also counts down beside the button that was pressed (where: "edit", else the generate form).
function showError(err, where) {
  showErrorText(err, where);
  $("notice").scrollIntoView({ block: "nearest" });
}

function showErrorText(err, where) {
  if (!(err instanceof ApiError)) {
    notice("The request did not reach the API: " + err.message);
    return;
  }
  if (err.code === "rate_limited" || err.status === 429) {
    let left = err.retryAfter || 1;
    notice("");
    $("notice").classList.replace("error", "warn");
    const tick = () => {
      const text = left > 0 ? `Rate limited: try again in ${left} second${left === 1 ? "" : "s"}.`
        : "You can try again now.";
      $("notice-text").textContent = text;
      $(where === "edit" ? "edit-progress" : "progress").textContent = text;
      $("generate").disabled = left > 0;
      $("run-edit").disabled = left > 0;
      if (left <= 0) { clearInterval(state.countdown); state.countdown = null; }
      left -= 1;
    };
    tick();
    state.countdown = setInterval(tick, 1000);
    return;
  }
  if (err.code === "content_filtered" || err.code === "prompt_rejected") {
    notice("Filtered: " + err.message + ". Change the prompt and try again.");
    return;
  }
  if (err.code === "model_retired" || err.code === "model_unavailable") {
    // The models the message names instead; a job's failure names none: then the catalogue's
    // other active models.
    const current = $("model").value;
    let ids = [...state.models.keys()].filter((id) => err.message.includes(id) && id !== current);
    if (!ids.length) ids = [...state.models.values()].filter((m) => m.status === "active" && m.id !== current).map((m) => m.id);
    notice(err.message.replace(/[.\s]+$/, "") + (ids.length ? ". Use another model instead:" : "."));
    for (const id of ids) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "Use " + state.models.get(id).name;
      b.addEventListener("click", () => { $("model").value = id; showModel(); clearNotice(); $("generate").focus(); });
      $("notice-actions").append(b);
    }
    return;
  }
  const control = (err.code === "invalid_parameter" || err.code === "unknown_parameter" ||
    err.code === "invalid_image") ? controlFor(err.message) : null;
  if (control && !control.closest("[hidden]")) {
    notice(`${labelOf(control)}: ${err.message}`);
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", "notice-text");
    control.focus();
    return;
  }
  notice(err.message + (where ? ` (${where})` : ""));
}

function labelOf(control) {
  const l = document.querySelector(`label[for="${control.id}"]`);
  return l ? l.firstChild.textContent.trim() : control.id;
}

// ---- the playground: models and their parameters --------------------------------------------

function option(value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
}

function currentModel() {
  return state.models.get($("model").value);
}

// Shows the chosen model's own parameters: its ratios or sizes, count, seed range, formats.
function showModel() {
  const m = currentModel();
  if (!m) return;
  const size = $("size");
  size.replaceChildren();
  if (m.aspectRatios) {
    const made = m.sizes || [];
    m.aspectRatios.forEach((r, i) => size.append(option("ratio:" + r, made[i] ? `${r} (${made[i]})` : r)));
  } else if (m.sizes) {
    for (const s of m.sizes) size.append(option("size:" + s, s));
  }
  size.append(option("custom", "Custom width x height"));
  const def = m.defaults || {};
  if (def.aspectRatio) size.value = "ratio:" + def.aspectRatio;
  else if (def.width && def.height) size.value = `size:${def.width}x${def.height}`;
  showCustom();
  const formats = m.outputFormats || ["png"];
  $("format").replaceChildren(...formats.map((f) => option(f, f.toUpperCase())));
  $("format").value = def.outputFormat || formats[0];
  const lim = m.limits || {};
  const n = lim.numberOfImages || { min: 1, max: 1 };
  $("count").min = n.min;
  $("count").max = n.max;
  if (Number($("count").value) > n.max) $("count").value = n.max;
  if (lim.seed) { $("seed").min = lim.seed.min; $("seed").max = lim.seed.max; }
  const note = [m.status === "legacy" ? "Legacy model" : null,
    m.endOfLife ? "end of life " + m.endOfLife : null].filter(Boolean).join(", ");
  $("model-note").textContent = note;
}

function showCustom() {
  $("custom-size").hidden = $("size").value !== "custom";
}

function generateBody() {
  const body = { prompt: $("prompt").value.trim(), model: $("model").value };
  const size = $("size").value;
  if (size.startsWith("ratio:")) body.aspectRatio = size.slice(6);
  else if (size.startsWith("size:")) {
    const [w, h] = size.slice(5).split("x").map(Number);
    body.width = w;
    body.height = h;
  } else {
    if ($("width").value !== "") body.width = Number($("width").value);
    if ($("height").value !== "") body.height = Number($("height").value);
  }
  body.numberOfImages = Number($("count").value) || 1;
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  if ($("negative").value.trim()) body.negativePrompt = $("negative").value.trim();
  body.outputFormat = $("format").value;
  return body;
}

// ---- results ------------------------------------------------------------------------------

function imageCard(img, extra) {
  const li = document.createElement("li");
  li.className = "card";
  if (img.id) li.dataset.id = img.id;
  const fig = document.createElement("figure");
  const pic = document.createElement("img");
  pic.src = img.url;
  pic.alt = extra.alt;
  pic.width = img.width || 512;
  pic.height = img.height || 512;
  pic.loading = "lazy";
  fig.append(pic);
  const cap = document.createElement("figcaption");
  const facts = [`${img.width}x${img.height}`, (img.format || "").toUpperCase()];
  if (img.seed !== undefined) facts.push("seed " + img.seed);
  cap.textContent = facts.filter(Boolean).join(" · ");
  fig.append(cap);
  li.append(fig);
  const links = document.createElement("div");
  links.className = "actions";
  const open = document.createElement("a");
  open.href = img.url;
  open.target = "_blank";
  open.rel = "noopener noreferrer";
  open.textContent = "Open";
  open.setAttribute("aria-label", "Open " + extra.alt);
  // A cross-origin link's download attribute is ignored: the record's downloadUrl has the bucket
  // answer with Content-Disposition: attachment, so the browser saves the file.
  const dl = document.createElement("a");
  dl.className = "download";
  dl.href = img.downloadUrl || img.url;
  dl.download = (img.id || "image") + "." + (img.format || "png");
  dl.textContent = "Download";
  dl.setAttribute("aria-label", "Download " + extra.alt);
  if (!img.downloadUrl && img.id) {
    dl.addEventListener("click", (ev) => {
      ev.preventDefault();
      api("GET", "images/" + encodeURIComponent(img.id))
        .then((r) => { dl.href = r.downloadUrl || r.url; window.location.assign(dl.href); })
        .catch(() => window.open(img.url, "_blank", "noopener"));
    }, { once: true });
  }
  links.append(open, dl);
  li.append(links);
  return li;
}

function showResult(answer, label) {
  const list = $("results");
  answer.images.forEach((img, i) => {
    list.prepend(imageCard(img, { alt: `${label}, image ${i + 1} of ${answer.images.length}` }));
  });
  if (answer.missing && answer.missing.length) {
    notice(`${answer.missing.length} image${answer.missing.length === 1 ? " was" : "s were"} not made` +
      (answer.filtered ? ` (${answer.filtered} filtered by the content filter)` : "") + ".", "warn");
  }
  state.galleryNext = undefined; // the gallery reloads when shown
}

// ---- generate: a job, polled, or the synchronous call when jobs are off ----------------------

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function busy(on) {
  $("generate").disabled = on;
  $("cancel").hidden = !on;
}

async function pollJob(job, poll) {
  const started = Date.now();
  for (let i = 0; ; i++) {
    if (poll.cancelled) return null;
    const secs = Math.round((Date.now() - started) / 1000);
    $("progress").textContent = `Job ${job.status === "running" ? "running" : "queued"}… ${secs} s`;
    await sleep(POLL_MS[Math.min(i, POLL_MS.length - 1)]);
    if (poll.cancelled) return null;
    job = await api("GET", "jobs/" + encodeURIComponent(job.id));
    if (job.status === "succeeded") return job.result;
    if (job.status === "failed") {
      const e = job.error || {};
      throw new ApiError(200, { error: { code: e.code, message: e.message } }, new Headers());
    }
  }
}

async function generate(ev) {
  ev.preventDefault();
  clearNotice();
  if (!$("prompt").value.trim()) {
    showError(new ApiError(400, { error: { code: "invalid_parameter", message: "prompt is required" } }, new Headers()));
    return;
  }
  const body = generateBody();
  const poll = { cancelled: false };
  state.polling = poll;
  busy(true);
  $("progress").textContent = "Sending…";
  try {
    let answer;
    try {
      const job = await api("POST", "jobs", body);
      answer = await pollJob(job, poll);
      if (!answer) {
        $("progress").textContent = "Stopped waiting. The job goes on: its images will be in the gallery.";
        return;
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "jobs_unavailable")) throw err;
      $("progress").textContent = "Generating…";
      answer = await api("POST", "generate-image", body);
    }
    showResult(answer, body.prompt);
    $("progress").textContent = `Done: ${answer.images.length} image${answer.images.length === 1 ? "" : "s"}.`;
  } catch (err) {
    $("progress").textContent = "";
    showError(err);
  } finally {
    busy(false);
    if (state.countdown) $("generate").disabled = true;
    state.polling = null;
  }
}

// ---- edits: upload, mask, run --------------------------------------------------------------

const EDIT_TASKS = [
  ["remove-background", "Remove background"],
  ["upscale-fast", "Upscale 4x"],
  ["inpaint", "Inpaint (paint a mask)"],
];

function showTask() {
  const inpaint = $("task").value === "inpaint";
  $("edit-prompt-row").hidden = !inpaint;
  $("mask-area").hidden = !inpaint || !$("edit-preview").getAttribute("src");
}

function loadPreview() {
  const file = $("edit-file").files[0];
  const img = $("edit-preview");
  if (img.src) URL.revokeObjectURL(img.src);
  if (!file) { img.removeAttribute("src"); showTask(); return; }
  img.onload = () => {
    const c = $("mask");
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    maskClear();
    showTask();
  };
  img.src = URL.createObjectURL(file);
}

const mask = { drawing: false, x: 0.5, y: 0.5 };

function maskCtx() {
  return $("mask").getContext("2d");
}

function maskClear() {
  const c = $("mask");
  maskCtx().clearRect(0, 0, c.width, c.height);
  mask.painted = false;
}

function maskDot(x, y) {
  const c = $("mask");
  const ctx = maskCtx();
  ctx.fillStyle = "rgba(255, 0, 128, 0.55)";
  ctx.beginPath();
  ctx.arc(x * c.width, y * c.height, Math.max(c.width, c.height) / 20, 0, Math.PI * 2);
  ctx.fill();
  mask.painted = true;
}

function maskPoint(ev) {
  const r = $("mask").getBoundingClientRect();
  return [(ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height];
}

function maskKeys(ev) {
  const step = 0.05;
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  if (moves[ev.key]) {
    mask.x = Math.min(1, Math.max(0, mask.x + moves[ev.key][0]));
    mask.y = Math.min(1, Math.max(0, mask.y + moves[ev.key][1]));
    if (ev.shiftKey) maskDot(mask.x, mask.y);
    ev.preventDefault();
  } else if (ev.key === " ") {
    maskDot(mask.x, mask.y);
    ev.preventDefault();
  }
}

// The mask Bedrock takes: white where painted (to change), black elsewhere, the image's size.
function maskPng() {
  const src = $("mask");
  const out = document.createElement("canvas");
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  const data = src.getContext("2d").getImageData(0, 0, src.width, src.height);
  const px = ctx.getImageData(0, 0, out.width, out.height);
  for (let i = 3; i < data.data.length; i += 4) {
    if (data.data[i] > 0) px.data[i - 3] = px.data[i - 2] = px.data[i - 1] = 255;
  }
  ctx.putImageData(px, 0, 0);
  return out.toDataURL("image/png");
}

// POST /uploads, then the presigned form straight to the bucket. The form is a "simple"
// cross-origin request (multipart/form-data), sent without reading the answer: a refused
// upload shows as the edit's 404 for the key.
async function upload(file) {
  const form = await api("POST", "uploads", { contentType: file.type });
  const data = new FormData();
  for (const [k, v] of Object.entries(form.upload.fields)) data.append(k, v);
  data.append("file", file);
  await fetch(form.upload.url, { method: "POST", body: data, mode: "no-cors", credentials: "omit" });
  return form.upload.key;
}

async function runEdit(ev) {
  ev.preventDefault();
  clearNotice();
  const file = $("edit-file").files[0];
  if (!file) {
    notice("Image: choose an image to edit first.");
    $("edit-file").setAttribute("aria-invalid", "true");
    $("edit-file").focus();
    return;
  }
  const task = $("task").value;
  $("run-edit").disabled = true;
  try {
    $("edit-progress").textContent = "Uploading…";
    const key = await upload(file);
    const body = { task, image: { upload: key } };
    if (task === "inpaint") {
      body.prompt = $("edit-prompt").value.trim();
      if (!mask.painted) {
        throw new ApiError(400, { error: { code: "invalid_parameter", message: "paint the area to change on the picture first" } }, new Headers());
      }
      body.mask = maskPng();
    }
    $("edit-progress").textContent = "Editing…";
    const answer = await api("POST", "edit-image", body);
    showResult(answer, `${task} of ${file.name}`);
    $("edit-progress").textContent = "Done.";
  } catch (err) {
    $("edit-progress").textContent = "";
    if (err instanceof ApiError && err.code === "not_found") {
      notice("The upload did not reach the storage (too large, or refused); try a smaller image.");
    } else {
      showError(err, "edit");
    }
  } finally {
    $("run-edit").disabled = Boolean(state.countdown);
  }
}

// ---- the gallery --------------------------------------------------------------------------

// A model's name from GET /models: a text-to-image model, or an edit task's (by id or the
// inference profile it is invoked as); the id itself when the catalogue no longer has it.
function modelName(id) {
  if (state.models.has(id)) return state.models.get(id).name;
  for (const t of state.tasks.values()) {
    for (const m of t.models || []) if (m.id === id || m.invokedAs === id) return m.name;
  }
  return id;
}

const PARAM_LABELS = {
  aspectRatio: "Aspect ratio", outputFormat: "Format", numberOfImages: "Images", cfgScale: "CFG scale",
  quality: "Quality", growMask: "Grow mask", strength: "Strength", creativity: "Creativity",
};

function paramList(rec) {
  const dl = document.createElement("dl");
  const add = (k, v) => {
    if (v === undefined || v === null || v === "") return;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = String(v);
    dl.append(dt, dd);
  };
  add("Model", modelName(rec.model));
  if (rec.task) add("Task", rec.task);
  add("Seed", rec.seed);
  add("Size", `${rec.width}x${rec.height}`);
  for (const [k, v] of Object.entries(rec.parameters || {})) {
    if (k !== "width" && k !== "height") add(PARAM_LABELS[k] || k, v);
  }
  add("Created", (rec.createdAt || "").replace("T", " ").replace("Z", " UTC"));
  return dl;
}

async function freshUrl(rec, card) {
  const r = await api("GET", "images/" + encodeURIComponent(rec.id));
  for (const el of card.querySelectorAll("img")) el.src = r.url;
  for (const a of card.querySelectorAll("a")) a.href = a.classList.contains("download") && r.downloadUrl ? r.downloadUrl : r.url;
  return r;
}

function regenerate(rec) {
  const p = rec.parameters || {};
  if (state.models.has(rec.model)) $("model").value = rec.model;
  showModel();
  if (p.aspectRatio) $("size").value = "ratio:" + p.aspectRatio;
  else if (p.width && p.height) {
    $("size").value = "custom";
    $("width").value = p.width;
    $("height").value = p.height;
  }
  showCustom();
  if (p.outputFormat) $("format").value = p.outputFormat;
  $("count").value = rec.batchSize || 1;
  $("seed").value = rec.seed === undefined ? "" : rec.seed;
  if (rec.prompt) $("prompt").value = rec.prompt;
  showTab("play");
  notice(rec.prompt ? "Settings and seed filled in: press Generate."
    : "Settings and seed filled in. The prompt is not stored: type the same prompt, then press Generate.", "info");
  $("prompt").focus();
}

function galleryCard(rec) {
  const li = imageCard(rec, { alt: `${rec.task || "generated"} image, ${rec.width}x${rec.height}, seed ${rec.seed}` });
  li.dataset.id = rec.id;
  li.append(paramList(rec));
  const actions = document.createElement("div");
  actions.className = "actions";
  const fresh = document.createElement("button");
  fresh.type = "button";
  fresh.textContent = "Fresh link";
  fresh.addEventListener("click", () => freshUrl(rec, li).catch((e) => showError(e)));
  actions.append(fresh);
  if (!rec.task) {
    const again = document.createElement("button");
    again.type = "button";
    again.textContent = "Generate again";
    again.className = "again";
    again.addEventListener("click", () => regenerate(rec));
    actions.append(again);
  }
  li.append(actions);
  // an expired link is renewed once, on demand of the browser
  li.querySelector("img").addEventListener("error", () => {
    if (!li.dataset.renewed) { li.dataset.renewed = "1"; freshUrl(rec, li).catch(() => {}); }
  });
  return li;
}

async function loadGallery(reset) {
  if (state.galleryLoading) return;
  if (reset) {
    state.galleryNext = undefined;
    state.galleryIds.clear();
    $("gallery-list").replaceChildren();
  }
  if (state.galleryNext === null) return;
  state.galleryLoading = true;
  $("gallery-status").textContent = "Loading…";
  try {
    const q = "images?limit=12" + (state.galleryNext ? "&next=" + encodeURIComponent(state.galleryNext) : "");
    const page = await api("GET", q);
    for (const rec of page.images) {
      if (state.galleryIds.has(rec.id)) continue;
      state.galleryIds.add(rec.id);
      $("gallery-list").append(galleryCard(rec));
    }
    state.galleryNext = page.next || null;
    const n = state.galleryIds.size;
    $("gallery-status").textContent = n === 0 ? "No images yet: generate one in the playground."
      : `${n} image${n === 1 ? "" : "s"}${state.galleryNext ? "" : ", all shown"}.`;
    $("gallery-more").hidden = !state.galleryNext;
  } catch (err) {
    $("gallery-status").textContent = "";
    if (err instanceof ApiError && err.code === "images_unavailable") {
      $("gallery-status").textContent = "This deployment keeps no image records, so there is no gallery.";
      state.galleryNext = null;
    } else {
      showError(err, "gallery");
    }
  } finally {
    state.galleryLoading = false;
  }
  // keep filling while the end of the list is on screen
  if (state.galleryNext && endVisible()) loadGallery(false);
}

function endVisible() {
  const r = $("gallery-end").getBoundingClientRect();
  return !$("gallery").hidden && r.top < window.innerHeight + 200;
}

// ---- tabs, key, start-up --------------------------------------------------------------------

function showTab(which) {
  const gallery = which === "gallery";
  if ($("notice").classList.contains("info")) clearNotice();
  $("playground").hidden = gallery;
  $("gallery").hidden = !gallery;
  $("tab-play").toggleAttribute("aria-current", !gallery);
  $("tab-gallery").toggleAttribute("aria-current", gallery);
  if (gallery) $("tab-gallery").setAttribute("aria-current", "page");
  else $("tab-play").setAttribute("aria-current", "page");
  if (gallery && state.galleryNext === undefined) loadGallery(true);
}

function saveKey(ev) {
  ev.preventDefault();
  const v = $("key-input").value.trim();
  if (!v) { $("key-input").setAttribute("aria-invalid", "true"); return; }
  sessionStorage.setItem(KEY_STORE, v);
  $("key-button").hidden = false;
  $("key-dialog").close();
  const waiters = state.keyWaiters.splice(0);
  for (const w of waiters) w(true);
}

// Wires the controls once, then loads the catalogue.
function start() {
  $("tab-play").addEventListener("click", () => showTab("play"));
  $("tab-gallery").addEventListener("click", () => showTab("gallery"));
  $("key-form").addEventListener("submit", saveKey);
  // Escape closes the dialog: the calls waiting for the key fail with a notice, and the API key
  // button asks again.
  $("key-dialog").addEventListener("cancel", () => {
    $("key-button").hidden = false;
    const waiters = state.keyWaiters.splice(0);
    for (const w of waiters) w(false);
  });
  $("key-button").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    askKey().then((given) => {
      if (!given) return;
      if (!state.catalogue) { clearNotice(); loadCatalogue(); return; }
      state.galleryNext = undefined;
      if (!$("gallery").hidden) loadGallery(true);
    });
  });
  if (sessionStorage.getItem(KEY_STORE)) $("key-button").hidden = false;
  $("generate-form").addEventListener("submit", generate);
  $("cancel").addEventListener("click", () => { if (state.polling) state.polling.cancelled = true; });
  $("model").addEventListener("change", () => { clearNotice(); showModel(); });
  $("size").addEventListener("change", showCustom);
  $("edit-form").addEventListener("submit", runEdit);
  $("edit-file").addEventListener("change", loadPreview);
  $("task").addEventListener("change", showTask);
  $("mask-all").addEventListener("click", () => {
    const c = $("mask");
    const ctx = maskCtx();
    ctx.fillStyle = "rgba(255, 0, 128, 0.55)";
    ctx.fillRect(0, 0, c.width, c.height);
    mask.painted = true;
  });
  $("mask-clear").addEventListener("click", maskClear);
  $("mask").addEventListener("pointerdown", (ev) => { mask.drawing = true; maskDot(...maskPoint(ev)); });
  $("mask").addEventListener("pointermove", (ev) => { if (mask.drawing) maskDot(...maskPoint(ev)); });
  window.addEventListener("pointerup", () => { mask.drawing = false; });
  $("mask").addEventListener("keydown", maskKeys);
  $("gallery-more").addEventListener("click", () => loadGallery(false));
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.galleryNext) loadGallery(false);
  }, { rootMargin: "200px" }).observe($("gallery-end"));
  loadCatalogue();
}

// GET /models: the model picker, its parameters and the edit tasks. Again after a key is given
// when the first try was refused.
async function loadCatalogue() {
  try {
    state.catalogue = await api("GET", "models");
  } catch (err) {
    showError(err, "loading the models");
    return;
  }
  $("key-button").hidden = !sessionStorage.getItem(KEY_STORE);
  for (const m of state.catalogue.models) {
    state.models.set(m.id, m);
    $("model").append(option(m.id, m.name + (m.status === "legacy" ? " (legacy)" : "")));
  }
  $("model").value = state.catalogue.defaultModel;
  showModel();
  for (const t of state.catalogue.tasks || []) state.tasks.set(t.task, t);
  for (const [name, label] of EDIT_TASKS) {
    if (state.tasks.has(name)) $("task").append(option(name, label));
  }
  if (!$("task").options.length) {
    $("edit-form").querySelector("h3").textContent = "Edit an image: not offered by this deployment";
    $("run-edit").disabled = true;
  }
  showTask();
  document.body.dataset.ready = "1";
}

start();
