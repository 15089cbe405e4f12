// Agent mode of the web chat: the task goes to /api/agent/stream; each step (thought,
// tool call, tool result) is listed as it happens in a folded "steps" box under the answer.

function stepText(step) {
  if (step.type === "thought") return step.text;
  if (step.type === "tool_call") return `${step.tool}(${JSON.stringify(step.args)})`;
  const text = step.content.length > 600 ? `${step.content.slice(0, 600)}…` : step.content;
  return `${step.error ? "failed: " : ""}${text}`;
}

function renderStep(list, step) {
  const item = document.createElement("li");
  item.className = `step ${step.type}${step.error ? " error" : ""}`;
  const kind = document.createElement("span");
  kind.className = "step-kind";
  kind.textContent = step.type === "thought" ? "thought" : step.type === "tool_call" ? "→ call" : `← ${step.tool}`;
  const body = document.createElement("span");
  body.className = "step-text";
  body.textContent = stepText(step);
  item.append(kind, " ", body);
  list.append(item);
}

/**
 * The pictures a run drew (generate_image), under its answer. Fetched with the chat's
 * headers (an API key cannot ride on a plain <img src>) and shown from a blob URL.
 */
async function renderImages(box, images, ui) {
  const strip = document.createElement("div");
  strip.className = "agent-images";
  box.querySelector(".answer").after(strip);
  for (const image of images) {
    const response = await fetch(image.url, { headers: ui.headers() });
    if (!response.ok) continue;
    const img = document.createElement("img");
    img.className = "agent-image";
    img.src = URL.createObjectURL(await response.blob());
    img.alt = `${image.count} image${image.count === 1 ? "" : "s"} drawn by ${image.model}`;
    strip.append(img);
  }
}

/** Runs `task` as an agent; `ui` holds the chat's own helpers (addMessage, renderAnswer, …). */
export async function askAgent(task, ui) {
  ui.showError("");
  ui.addMessage("user", task);
  const box = ui.addMessage("assistant");
  box.classList.add("streaming", "agent");
  const answerEl = box.querySelector(".answer");
  const sourcesEl = box.querySelector(".sources");
  const details = document.createElement("details");
  details.className = "steps";
  const summary = document.createElement("summary");
  const list = document.createElement("ol");
  details.append(summary, list);
  box.append(details);
  let count = 0;
  let text = "";
  const setSummary = (done) => {
    summary.textContent = `${count} step${count === 1 ? "" : "s"}${done ? "" : "…"}`;
  };
  setSummary(false);
  try {
    const response = await fetch("/api/agent/stream", {
      method: "POST",
      headers: ui.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ task }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.error?.message || `${response.status} ${response.statusText}`);
    }
    for await (const { event, data } of ui.readEvents(response)) {
      if (event === "step") {
        count++;
        renderStep(list, data);
        setSummary(false);
      } else if (event === "token") {
        text += data.text;
        ui.renderAnswer(answerEl, text, []);
      } else if (event === "done") {
        ui.renderAnswer(answerEl, data.answer, data.sources);
        ui.renderSources(sourcesEl, data.sources);
        if (data.images?.length) await renderImages(box, data.images, ui);
      } else if (event === "error") {
        throw new Error(data.message);
      }
      box.scrollIntoView({ block: "end" });
    }
  } catch (error) {
    ui.showError(error.message);
  } finally {
    setSummary(true);
    box.classList.remove("streaming");
  }
}
