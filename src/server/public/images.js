// The "draw digits" page: POST /api/images with the form's values, show the PNG grid it answers.
const form = document.getElementById("draw");
const errorBox = document.getElementById("error");
const grid = document.getElementById("grid");
const caption = document.getElementById("caption");
const button = document.getElementById("draw-button");

function headers() {
  const key = localStorage.getItem("genera.apiKey");
  return key
    ? { "Content-Type": "application/json", Authorization: `Bearer ${key}` }
    : { "Content-Type": "application/json" };
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function readAsDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const body = { model: form.model.value, n: Number(form.n.value) };
  if (form.prompt.value.trim()) body.prompt = form.prompt.value.trim();
  if (form.digit.value !== "") body.digit = Number(form.digit.value);
  if (form.seed.value !== "") body.seed = Number(form.seed.value);
  button.disabled = true;
  try {
    const response = await fetch("/api/images", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    if (!response.ok) {
      const json = await response.json().catch(() => null);
      showError(json?.error?.message ?? `The server answered ${response.status}`);
      return;
    }
    grid.src = await readAsDataUrl(await response.blob());
    grid.alt = `${body.n} digits drawn by ${body.model}`;
    grid.hidden = false;
    caption.textContent = `${body.n} samples from ${body.model}, seed ${response.headers.get("X-Seed")}`;
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
});
