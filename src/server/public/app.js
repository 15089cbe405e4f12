// The genera web chat: plain ES modules, no framework, nothing from a CDN.
import { askAgent } from "./agent.js";
import { renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const state = { sessionId: null, busy: false, apiKey: localStorage.getItem("genera.apiKey") || "" };

function headers(extra = {}) {
  return state.apiKey ? { ...extra, Authorization: `Bearer ${state.apiKey}` } : extra;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 401) {
    const key = prompt("This server needs an API key:");
    if (key) {
      state.apiKey = key;
      localStorage.setItem("genera.apiKey", key);
      return api(path, options);
    }
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body?.error?.message) message = body.error.message;
    } catch {}
    throw new Error(message);
  }
  return response.status === 204 ? null : response.json();
}

function sourceLabel(s) {
  const where = [];
  if (s.page != null) where.push(`p. ${s.page}`);
  if (s.image != null) where.push(`image ${s.image}`);
  if (s.timeSpan) where.push(s.timeSpan);
  if (s.headings?.length) where.push(s.headings.join(" › "));
  return where.length ? `${s.source} (${where.join(" · ")})` : s.source;
}

/** Markdown, and the formats the loaders turn into Markdown; sessions saved before `format` existed go by the file name. */
function isMarkdown(source) {
  if (source.format) return ["markdown", "html", "docx"].includes(source.format);
  return /\.(md|markdown|mdx|html?|docx)$/i.test(source.source);
}

/**
 * What a cited source shows besides its text: the picture of an image chunk (a file, or an
 * image inside a PDF or DOCX), or a player for a recording that starts where the cited words
 * are said. `play`: start playing now (opening a citation of a recording plays it).
 */
function sourceMedia(source, { play = false } = {}) {
  const params = new URLSearchParams({ source: source.source });
  if (source.format === "image") {
    if (source.image != null) params.set("image", String(source.image));
    const img = document.createElement("img");
    img.className = "cited-image";
    img.src = `/api/images/file?${params}`;
    img.alt = source.text || sourceLabel(source);
    img.loading = "lazy";
    return img;
  }
  if (typeof source.timeStart === "number") {
    const audio = document.createElement("audio");
    audio.className = "cited-audio";
    audio.controls = true;
    audio.preload = "metadata";
    audio.dataset.start = String(source.timeStart);
    // The media fragment starts playback at the span; currentTime is set too, for players that ignore it.
    audio.src = `/api/audio/file?${params}#t=${source.timeStart}`;
    audio.addEventListener("loadedmetadata", () => {
      if (audio.currentTime < source.timeStart) audio.currentTime = source.timeStart;
      if (play) audio.play().catch(() => {});
    });
    return audio;
  }
  return null;
}

function openPassage(source) {
  $("passage-title").textContent = `[${source.index}] ${source.title || source.source}`;
  $("passage-where").textContent = sourceLabel(source);
  const media = sourceMedia(source, { play: true });
  $("passage-media").replaceChildren(...(media ? [media] : []));
  const body = $("passage-text");
  // Other text (code, CSV, PDF pages) keeps its lines as they are: a "# comment" is not a heading there.
  body.classList.toggle("plain", !isMarkdown(source));
  if (isMarkdown(source)) body.replaceChildren(renderMarkdown(source.text));
  else body.textContent = source.text;
  body.scrollTop = 0;
  $("passage").showModal();
}

/** What names a conversation: its first message, on one line, as the server names a session. */
function firstLine(message) {
  return message.replace(/\s+/g, " ").trim().slice(0, 80);
}

/** The header names the chat; the window title follows it. */
function setTitle(title) {
  $("chat-title").textContent = title;
  document.title = title === "New chat" ? "genera — chat with your documents" : `${title} — genera`;
}

/** Renders answer text with its [n] markers as buttons that open the cited passage. */
function renderAnswer(target, text, sources) {
  target.replaceChildren();
  const byIndex = new Map((sources || []).map((s) => [s.index, s]));
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    target.append(text.slice(last, match.index));
    const source = byIndex.get(Number(match[1]));
    if (source) {
      const cite = document.createElement("button");
      cite.className = "cite";
      cite.type = "button";
      cite.textContent = match[1];
      cite.title = sourceLabel(source);
      cite.addEventListener("click", () => openPassage(source));
      target.append(cite);
    } else {
      target.append(match[0]);
    }
    last = match.index + match[0].length;
  }
  target.append(text.slice(last));
}

function renderSources(list, sources) {
  list.replaceChildren();
  for (const source of sources || []) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.innerHTML = `<span class="cite"></span> <span class="label"></span>`;
    button.querySelector(".cite").textContent = source.index;
    button.querySelector(".label").textContent = sourceLabel(source);
    button.addEventListener("click", () => openPassage(source));
    item.append(button);
    const media = sourceMedia(source);
    if (media) item.append(media);
    list.append(item);
  }
  list.hidden = !sources?.length;
}

/**
 * Images whose picture matches the question (the image index), as thumbnails with their
 * caption and OCR text. Only close matches are shown: the server drops weaker ones (minScore).
 */
async function showImages(box, question) {
  const params = new URLSearchParams({ q: question, modality: "image", k: "6", minScore: "0.7" });
  const { results } = await api(`/api/search?${params}`);
  if (!results?.length) return;
  const strip = document.createElement("div");
  strip.className = "thumbnails";
  strip.setAttribute("aria-label", "Matching images");
  for (const hit of results) {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = hit.url;
    img.alt = hit.caption || hit.ocrText || hit.source;
    img.loading = "lazy";
    const caption = document.createElement("figcaption");
    caption.textContent = [hit.source, hit.caption, hit.ocrText].filter(Boolean).join(" · ");
    caption.title = `${caption.textContent} (score ${hit.score.toFixed(2)})`;
    figure.append(img, caption);
    strip.append(figure);
  }
  box.insertBefore(strip, box.querySelector(".sources"));
}

function addMessage(role, text = "", sources = []) {
  $("empty").hidden = true;
  const box = document.createElement("div");
  box.className = `message ${role}`;
  const answer = document.createElement("div");
  answer.className = "answer";
  box.append(answer);
  if (role === "assistant") {
    const list = document.createElement("ol");
    list.className = "sources";
    box.append(list);
    renderAnswer(answer, text, sources);
    renderSources(list, sources);
  } else {
    answer.textContent = text;
  }
  $("messages").append(box);
  box.scrollIntoView({ block: "end" });
  return box;
}

/** Reads a POST response as Server-Sent Events (EventSource cannot POST). */
async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      yield { event, data: data ? JSON.parse(data) : null };
    }
  }
}

async function ask(message) {
  showError("");
  // A new chat is named after its first question (as the server names the session), from the moment it is asked.
  if (!state.sessionId) setTitle(firstLine(message));
  addMessage("user", message);
  const box = addMessage("assistant");
  box.classList.add("streaming");
  const answerEl = box.querySelector(".answer");
  const list = box.querySelector(".sources");
  // Matching images come beside the streamed answer; a failed image search leaves the answer alone.
  showImages(box, message).catch(() => {});
  let text = "";
  let sources = [];
  try {
    const response = await fetch("/api/chat/stream", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(state.sessionId ? { message, sessionId: state.sessionId } : { message }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.error?.message || `${response.status} ${response.statusText}`);
    }
    for await (const { event, data } of readEvents(response)) {
      if (event === "token") {
        text += data.text;
        renderAnswer(answerEl, text, sources);
      } else if (event === "sources") {
        sources = data.sources;
        renderSources(list, sources);
        renderAnswer(answerEl, text, sources);
      } else if (event === "done") {
        state.sessionId = data.sessionId;
      } else if (event === "error") {
        throw new Error(data.message);
      }
      box.scrollIntoView({ block: "end" });
    }
  } catch (error) {
    showError(error.message);
    if (!text) box.remove();
    if (!state.sessionId) setTitle("New chat");
  } finally {
    box.classList.remove("streaming");
    await loadSessions().catch((error) => showError(error.message));
  }
}

async function loadSessions() {
  const { sessions } = await api("/api/sessions");
  const list = $("sessions");
  list.replaceChildren();
  for (const s of sessions) {
    const item = document.createElement("li");
    item.classList.toggle("active", s.id === state.sessionId);
    const open = document.createElement("button");
    open.className = "open";
    open.textContent = s.title;
    open.title = `${s.messages} messages`;
    open.addEventListener("click", () => openSession(s.id));
    const del = document.createElement("button");
    del.className = "delete";
    del.textContent = "🗑";
    del.title = "Delete chat";
    del.addEventListener("click", async () => {
      await api(`/api/sessions/${s.id}`, { method: "DELETE" });
      if (s.id === state.sessionId) newChat();
      await loadSessions();
    });
    item.append(open, del);
    list.append(item);
  }
  const current = sessions.find((s) => s.id === state.sessionId);
  if (current) setTitle(current.title);
  else if (!state.busy) setTitle("New chat");
}

async function openSession(id) {
  const session = await api(`/api/sessions/${id}`);
  state.sessionId = id;
  clearMessages();
  for (const m of session.history) addMessage(m.role, m.content, m.sources);
  if (!session.history.length) $("empty").hidden = false;
  setDrawer(false);
  await loadSessions();
}

function clearMessages() {
  for (const m of $("messages").querySelectorAll(".message")) m.remove();
}

function newChat() {
  state.sessionId = null;
  clearMessages();
  $("empty").hidden = false;
  setTitle("New chat");
  setDrawer(false);
}

async function loadDocuments() {
  const { documents } = await api("/api/documents");
  $("doc-count").textContent = `(${documents.length})`;
  const list = $("documents");
  list.replaceChildren();
  for (const d of documents) {
    const item = document.createElement("li");
    item.textContent = d.title ? `${d.title} — ${d.source}` : d.source;
    item.title = `${d.chunks} chunks`;
    list.append(item);
  }
}

/** Upload with byte progress (XHR), then poll the indexing job until it is done. */
function upload(files) {
  if (!files.length) return;
  const item = document.createElement("li");
  const label = document.createElement("div");
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  item.append(label, bar);
  $("uploads").prepend(item);
  const names = [...files].map((f) => f.name).join(", ");
  label.textContent = `Uploading ${names}…`;
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/documents");
  if (state.apiKey) xhr.setRequestHeader("Authorization", `Bearer ${state.apiKey}`);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 50);
  };
  xhr.onload = async () => {
    let body;
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      body = null;
    }
    if (xhr.status >= 400) {
      label.textContent = `Upload failed: ${body?.error?.message || xhr.status}`;
      showError(label.textContent);
      bar.remove();
      return;
    }
    label.textContent = `Indexing ${names}…`;
    let job = body;
    while (job.status === "queued" || job.status === "indexing") {
      bar.value = 50 + Math.round((job.filesDone / Math.max(1, job.files.length)) * 50);
      await new Promise((r) => setTimeout(r, 300));
      job = await api(`/api/documents/jobs/${job.id}`);
    }
    bar.value = 100;
    if (job.status === "failed" || job.error) {
      label.textContent = `Indexing problem: ${job.error?.message || "failed"}`;
      showError(label.textContent);
    } else {
      label.textContent = `Indexed ${names} (${job.summary.chunksAdded} chunks)`;
      item.dataset.done = "true";
    }
    await loadDocuments();
  };
  xhr.onerror = () => showError("Upload failed: the server could not be reached");
  xhr.send(form);
}

function setupUploads() {
  const zone = $("dropzone");
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    upload(e.dataTransfer.files);
  });
  $("file-input").addEventListener("change", (e) => {
    upload(e.target.files);
    e.target.value = "";
  });
}

function setupComposer() {
  const input = $("question");
  const send = $("send");
  const submit = async () => {
    const message = input.value.trim();
    if (!message || state.busy) return;
    state.busy = true;
    send.disabled = true;
    input.value = "";
    input.style.height = "";
    try {
      if ($("agent-mode")?.checked) {
        // An agent run is not a saved chat, but the page now holds a conversation: name it by its
        // first task, as a chat is named by its first question.
        if (!state.sessionId && $("messages")?.querySelector(".message") === null) setTitle(firstLine(message));
        await askAgent(message, { addMessage, renderAnswer, renderSources, readEvents, headers, showError });
      } else await ask(message);
    } finally {
      state.busy = false;
      send.disabled = false;
      input.focus();
    }
  };
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight}px`;
  });
}

/** 16-bit mono PCM WAV of recorded samples: what the server's speech model reads. */
function wavFile(chunks, sampleRate) {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const view = new DataView(new ArrayBuffer(44 + length * 2));
  const text = (at, s) => {
    for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, "RIFF");
  view.setUint32(4, 36 + length * 2, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, length * 2, true);
  let at = 44;
  for (const chunk of chunks) {
    for (const v of chunk) {
      view.setInt16(at, Math.max(-1, Math.min(1, v)) * 0x7fff, true);
      at += 2;
    }
  }
  return new Blob([view], { type: "audio/wav" });
}

/**
 * Ask by voice: the first click records from the microphone, the second stops, sends the
 * recording to /api/transcribe (the server's speech model) and asks what it heard.
 */
function setupRecorder() {
  const button = $("record");
  let recording = null;
  const stop = async () => {
    const { stream, context, chunks } = recording;
    recording = null;
    button.classList.remove("recording");
    button.setAttribute("aria-pressed", "false");
    for (const track of stream.getTracks()) track.stop();
    await context.close();
    const response = await fetch("/api/transcribe", {
      method: "POST",
      headers: headers({ "Content-Type": "audio/wav" }),
      body: wavFile(chunks, context.sampleRate),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error?.message || `${response.status} ${response.statusText}`);
    return body.text;
  };
  button.addEventListener("click", async () => {
    showError("");
    try {
      if (recording) {
        const question = await stop();
        // Asked like a typed question: it shows as the user's message, and the answer streams.
        $("question").value = question;
        $("composer").requestSubmit();
        return;
      }
      if (state.busy) return;
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const context = new AudioContext();
      const input = context.createMediaStreamSource(stream);
      // ScriptProcessor hands over raw samples with no extra module file; a question is short.
      const tap = context.createScriptProcessor(4096, 1, 1);
      const chunks = [];
      tap.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
      input.connect(tap);
      tap.connect(context.destination);
      recording = { stream, context, chunks };
      button.classList.add("recording");
      button.setAttribute("aria-pressed", "true");
    } catch (error) {
      recording = null;
      button.classList.remove("recording");
      showError(`Voice question: ${error.message}`);
    }
  });
}

/** The sidebar as a drawer on narrow screens: the page behind it is dimmed, and a tap there or Escape closes it. */
function setDrawer(open) {
  $("sidebar").classList.toggle("open", open);
  $("scrim").hidden = !open;
  $("open-sidebar").setAttribute("aria-expanded", String(open));
}

$("new-chat").addEventListener("click", newChat);
$("open-sidebar").addEventListener("click", () => setDrawer(true));
$("close-sidebar").addEventListener("click", () => setDrawer(false));
$("scrim").addEventListener("click", () => setDrawer(false));
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && $("sidebar").classList.contains("open")) setDrawer(false);
});
setupUploads();
setupComposer();
setupRecorder();
Promise.all([loadSessions(), loadDocuments()]).catch((error) => showError(error.message));
