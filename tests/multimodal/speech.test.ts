import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadFile } from "../../loaders/loadFile.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { formatSourceLabel, toCitedSource } from "../../src/llms/citedSource.js";
import { decodeAudio, resample } from "../../src/multimodal/decodeAudio.js";
import {
  formatTimeSpan,
  TransformersJsTranscriber,
  transcribeTimed,
} from "../../src/multimodal/TransformersJsTranscriber.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { concat, tone, wav } from "./fixtures/audio.js";
import { flacBomb } from "./fixtures/flacBomb.js";
import { type TinyWhisperModel, writeTinyWhisperModel } from "./fixtures/tinyWhisperModel.js";

let root: string;
let tiny: TinyWhisperModel;
let transcriber: TransformersJsTranscriber;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-speech-"));
  tiny = writeTinyWhisperModel(join(root, "whisper"));
  transcriber = new TransformersJsTranscriber({ model: tiny.dir });
});
afterAll(async () => {
  await transcriber.close();
  rmSync(root, { recursive: true, force: true });
});

describe("speech transcription on a generated Whisper-style model", () => {
  it("transcribes what it hears through transformers.js's speech pipeline", async () => {
    expect(await transcriber.transcribe(tone(2, 16000, 0.8))).toBe("loud sound");
    expect(await transcriber.transcribe(tone(2, 16000, 0))).toBe("quiet sound");
    expect(await transcriber.transcribe(new Float32Array(0))).toBe("");
  });

  it("cuts long audio into timed windows at quiet moments", async () => {
    const audio = concat(tone(2.5, 16000, 0.8), tone(3.5, 16000, 0));
    const segments = await transcribeTimed(transcriber, audio, { windowSeconds: 3.2 });
    expect(segments.map((s) => s.text)).toEqual(["loud sound", "quiet sound", "quiet sound"]);
    expect(segments[0]?.start).toBe(0);
    expect(segments[0]?.end).toBeGreaterThanOrEqual(2.5);
    expect(segments[0]?.end).toBeLessThan(2.6);
    expect(segments[1]?.start).toBe(segments[0]?.end);
    expect(segments.at(-1)?.end).toBe(6);
  });

  it("fails fast with MODEL_NOT_FOUND, without the network", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const missing = new TransformersJsTranscriber({
      model: "Xenova/whisper-tiny.en",
      localModelPath: join(root, "none"),
    });
    await expect(missing.transcribe(tone(1, 16000, 0.5))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });
});

describe("audio files", () => {
  it("decode to mono at the model's rate, and name a corrupt file", async () => {
    const stereo = wav(tone(1, 8000, 0.5), 8000, 2);
    const samples = await decodeAudio(stereo, "stereo.wav", 16000);
    expect(samples.length).toBe(16000);
    expect(Math.max(...samples)).toBeCloseTo(0.5, 2);
    expect(resample(Float32Array.of(0, 1), 1, 2)).toEqual(Float32Array.of(0, 0.5, 1, 1));
    await expect(decodeAudio(Buffer.from("not audio at all"), "x.mp3", 16000)).rejects.toMatchObject({
      code: "FILE_UNREADABLE",
      details: { path: "x.mp3" },
    });
  });

  // Issue 13 item 1 for audio: compressed audio inflates far past its size (FLAC silence: ~12
  // bytes per 85 ms), and decoded audio is held whole, so a small file could fill the memory.
  it("stop decoding past the time limit (a FLAC bomb), and read a short FLAC whole", async () => {
    const short = await decodeAudio(flacBomb(200), "short.flac", 16000);
    expect(short.length / 16000).toBeCloseTo((200 * 4096) / 48000, 0);
    const bomb = flacBomb(3_000); // 36 KB, 256 s
    await expect(decodeAudio(bomb, "bomb.flac", 16000, 60)).rejects.toMatchObject({
      code: "TOO_LARGE",
      details: { path: "bomb.flac", reason: "decodes to more than 60 seconds of audio" },
    });
    await expect(decodeAudio(wav(tone(3, 8000, 0.5), 8000), "long.wav", 16000, 2)).rejects.toMatchObject({
      code: "TOO_LARGE",
    });
    // Through the loader: LoadLimits.maxAudioSeconds, that file alone failing.
    const path = join(root, "bomb.flac");
    writeFileSync(path, bomb);
    await expect(loadFile(path, { audio: { transcriber }, limits: { maxAudioSeconds: 60 } })).rejects.toMatchObject({
      code: "TOO_LARGE",
    });
  });

  it("load as timed chunks whose citations point at the span", async () => {
    const path = join(root, "talk.wav");
    writeFileSync(path, wav(concat(tone(2.5, 16000, 0.8), tone(1.5, 16000, 0)), 16000));
    const docs = await loadFile(path, { audio: { transcriber, windowSeconds: 3.2 } });
    expect(docs.map((d) => d.pageContent)).toEqual(["loud sound", "quiet sound"]);
    expect(docs[0]?.metadata).toMatchObject({
      source: "talk.wav",
      format: "audio",
      timeStart: 0,
      timeSpan: "t=00:00–00:02",
    });
    expect(formatSourceLabel(toCitedSource(docs[1] as never, 2))).toBe("talk.wav (t=00:02–00:04)");
    await expect(loadFile(path)).rejects.toMatchObject({ code: "UNSUPPORTED_FILE" });
  });

  it("index into a knowledge base; a corrupt recording is reported and the run goes on", async () => {
    const folder = join(root, "recordings");
    mkdirSync(folder);
    writeFileSync(join(folder, "alarm.wav"), wav(tone(2, 16000, 0.8), 16000));
    writeFileSync(join(folder, "broken.mp3"), "ID3 but nothing after it");
    writeFileSync(join(folder, "notes.md"), "# Notes\n\nThe alarm recording is loud.\n");
    const kb = await KnowledgeBase.open({
      dir: join(root, "kb"),
      embeddings: new HashEmbeddings(),
      audio: { transcriber },
      onRepair: () => {},
    });
    try {
      const summary = await kb.index([folder]);
      expect(summary.added).toBe(2);
      expect(summary.failures.map((f) => f.path)).toEqual(["broken.mp3"]);
      const hits = await kb.asRetriever({ k: 5, mode: "keyword" }).invoke("loud sound");
      const audio = hits.find((d) => d.metadata.format === "audio");
      expect(audio?.metadata).toMatchObject({ source: "alarm.wav", timeSpan: "t=00:00–00:02" });
    } finally {
      await kb.close();
    }
  });

  it("formats spans as t=mm:ss–mm:ss, with hours when needed", () => {
    expect(formatTimeSpan(83, 101.9)).toBe("t=01:23–01:41");
    expect(formatTimeSpan(3599, 3725)).toBe("t=59:59–1:02:05");
  });
});
