import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePng } from "../../src/images/png.js";
import { errorHandler } from "../../src/server/httpErrors.js";
import { imageGenerationRouter } from "../../src/server/routes/imageGeneration.js";

// The router behind POST /api/images, served for real over loopback with the app's error handler.
let base = "";
let close: () => Promise<void>;
beforeAll(async () => {
  const app = express();
  app.use(express.json());
  app.use("/api", imageGenerationRouter());
  app.use(errorHandler(() => {}));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => server.close(() => resolve()));
});
afterAll(() => close());

const post = (body: unknown) =>
  fetch(`${base}/api/images`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("POST /api/images", () => {
  it("answers a PNG grid from the shipped VAE, the same for the same seed", async () => {
    const a = await post({ model: "vae", n: 4, seed: 5 });
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toBe("image/png");
    expect(a.headers.get("x-seed")).toBe("5");
    const bytes = Buffer.from(await a.arrayBuffer());
    expect(decodePng(bytes).width).toBeGreaterThan(56);
    const b = Buffer.from(await (await post({ model: "vae", n: 4, seed: 5 })).arrayBuffer());
    expect(b.equals(bytes)).toBe(true);
  });

  it("refuses bad requests with a JSON error naming the field", async () => {
    for (const [body, status, pattern] of [
      [{ n: 65 }, 400, /n:/],
      [{ n: 2, digit: 12 }, 400, /digit/],
      [{ model: "../../etc" }, 400, /model/],
      [{ model: "nosuchmodel" }, 404, /no image model/],
      [{ model: "classifier" }, 400, /classifier/],
      [{ model: "vae", digit: 3 }, 400, /unconditional/],
      [{ model: "vae", extra: true }, 400, /extra/],
      [{ model: "text2image", digit: 3 }, 400, /prompt/],
      [{ model: "text2image", prompt: "" }, 400, /prompt/],
      [{ model: "text2image", prompt: "x".repeat(301) }, 400, /prompt/],
    ] as const) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      const json = (await response.json()) as { error: { code: string; message: string } };
      expect(json.error.message).toMatch(pattern);
    }
  });
});
