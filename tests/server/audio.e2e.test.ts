import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { TransformersJsTranscriber } from "../../src/multimodal/TransformersJsTranscriber.js";
import { type RunningServer, startServer } from "../../src/server/startServer.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { tone, wav } from "../multimodal/fixtures/audio.js";
import { writeTinyWhisperModel } from "../multimodal/fixtures/tinyWhisperModel.js";

let dir: string;
let kb: KnowledgeBase;
let transcriber: TransformersJsTranscriber;
let heard: RunningServer;
let deaf: RunningServer;

// Two real servers over one knowledge base: one with a (generated, tiny) speech model, one without.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-audio-server-"));
  const docs = join(dir, "docs");
  mkdirSync(docs);
  writeFileSync(join(docs, "bell.wav"), wav(tone(2, 16000, 0.8), 16000));
  writeFileSync(join(docs, "notes.md"), "# Notes\n\nThe loud sound rings from the bell at noon every day.\n");
  const whisper = writeTinyWhisperModel(join(dir, "whisper"), { tail: ["rings", "from", "the", "bell"] });
  transcriber = new TransformersJsTranscriber({ model: whisper.dir });
  kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings(), audio: { transcriber } });
  await kb.index([docs]);
  const config = (speechModel?: string) =>
    loadConfig({
      env: {},
      cwd: dir,
      overrides: { dataDir: dir, server: { port: 0, folders: [] }, multimodal: { speechModel } },
    });
  heard = await startServer({ config: config(whisper.dir), kb, log: () => {} });
  deaf = await startServer({ config: config(), kb, log: () => {} });
});
afterAll(async () => {
  await heard?.close();
  await deaf?.close();
  await kb?.close();
  await transcriber?.close();
  rmSync(dir, { recursive: true, force: true });
});

const question = wav(tone(1.5, 44100, 0.8), 44100);

describe("recorded questions over HTTP", () => {
  it("POST /api/transcribe hears a recording; without a speech model it is a 501 naming the setting", async () => {
    const ok = await fetch(`${heard.url}/api/transcribe`, {
      method: "POST",
      headers: { "Content-Type": "audio/wav" },
      body: new Uint8Array(question),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ text: "loud sound rings from the bell" });

    const broken = await fetch(`${heard.url}/api/transcribe`, {
      method: "POST",
      headers: { "Content-Type": "audio/wav" },
      body: "not audio at all",
    });
    expect(broken.status).toBe(422);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe("FILE_UNREADABLE");

    const none = await fetch(`${deaf.url}/api/transcribe`, {
      method: "POST",
      headers: { "Content-Type": "audio/wav" },
      body: new Uint8Array(question),
    });
    expect(none.status).toBe(501);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/speechModel/);
  });

  it("answers input_audio parts on /api/chat and /v1/chat/completions", async () => {
    const content = [{ type: "input_audio", input_audio: { data: question.toString("base64"), format: "wav" } }];
    const chat = await fetch(`${heard.url}/api/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: content }),
    });
    expect(chat.status).toBe(200);
    const body = (await chat.json()) as { answer: string; sources: Array<{ source: string }>; sessionId: string };
    expect(body.answer).toMatch(/rings from the bell/);
    expect(body.sources.length).toBeGreaterThan(0);
    // The session keeps what was heard as the question.
    const session = (await (await fetch(`${heard.url}/api/sessions/${body.sessionId}`)).json()) as {
      history: Array<{ role: string; content: string }>;
    };
    expect(session.history[0]).toMatchObject({ role: "user", content: "loud sound rings from the bell" });

    const completion = await fetch(`${heard.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "genera-rag", messages: [{ role: "user", content }] }),
    });
    expect(completion.status).toBe(200);
  });

  it("serves indexed recordings only", async () => {
    const bell = await fetch(`${heard.url}/api/audio/file?source=bell.wav`);
    expect(bell.status).toBe(200);
    expect(bell.headers.get("content-type")).toBe("audio/wav");
    for (const source of ["notes.md", "../../etc/passwd", "nothing.wav"]) {
      const response = await fetch(`${heard.url}/api/audio/file?source=${encodeURIComponent(source)}`);
      expect(response.status).toBe(404);
    }
  });
});
