import { mkdirSync, rmSync } from "node:fs";
import { extname, join } from "node:path";
import { type Request, type Response, Router } from "express";
import multer from "multer";
import { z } from "zod";
import { supportedExtensions } from "../../../loaders/loadFile.js";
import { GeneraError } from "../../errors.js";
import type { KnowledgeBase } from "../../knowledge/KnowledgeBase.js";
import type { ImageIndex } from "../../multimodal/ImageIndex.js";
import { type DescribeImage, type MessageReaders, messageParts, messageText } from "../../multimodal/imageContent.js";
import type { TranscribeAudio } from "../../multimodal/speechQuestion.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import type { ChatService } from "../ChatService.js";
import type { ChatSessions } from "../ChatSessions.js";
import { errorBody, parseInput, statusOf } from "../httpErrors.js";
import type { ServerMetrics } from "../metrics.js";
import { responseSignal } from "../responseSignal.js";
import { openEventStream } from "../sse.js";
import type { UploadJobs } from "../UploadQueue.js";
import { searchImages } from "./images.js";

const ChatBody = z.object({
  /** Text, or OpenAI-style content parts (text and image_url with a data: URL). */
  message: z.union([
    z.string().trim().min(1, "must not be empty").max(8000, "must be at most 8000 characters"),
    z
      .array(z.object({ type: z.string(), text: z.string().max(8000).optional() }).passthrough())
      .min(1)
      .max(16),
  ]),
  sessionId: z.string().uuid().optional(),
});

/**
 * The chat message as text, recordings as their words: images go along as data: URLs to a
 * model that reads them (`vision`), else become their caption and OCR text (see messageText).
 */
async function chatMessage(
  message: z.infer<typeof ChatBody>["message"],
  readers: MessageReaders,
  vision: boolean,
): Promise<{ text: string; images: string[] }> {
  const parts = vision
    ? await messageParts(message, readers)
    : { text: await messageText(message, readers), images: [] };
  if (!parts.text) throw new GeneraError("INVALID_INPUT", "message must not be empty");
  return parts;
}

const SearchQuery = z.object({
  q: z.string().trim().min(1, "must not be empty").max(2000),
  k: z.coerce.number().int().min(1).max(100).default(5),
  mode: z.enum(["hybrid", "keyword", "dense"]).optional(),
  /** "image": images whose picture matches the text (the image index), instead of text chunks. */
  modality: z.enum(["text", "image"]).default("text"),
  /** Image search only: drop images whose cosine similarity to the query is below this. */
  minScore: z.coerce.number().min(-1).max(1).optional(),
});

export interface ApiRouterOptions {
  kb: KnowledgeBase;
  chat: ChatService;
  sessions: ChatSessions;
  metrics: ServerMetrics;
  uploadsDir: string;
  uploads: UploadJobs;
  maxUploadBytes: number;
  retrievalMode: "hybrid" | "keyword" | "dense";
  /** The image index, for /search?modality=image; without one that search finds nothing. */
  images?: ImageIndex;
  /** Caption + OCR of an image in a chat message; without it an image part becomes only a note. */
  describeImage?: DescribeImage;
  /** Speech to text of a recorded question (`input_audio` parts). */
  transcribeAudio?: TranscribeAudio;
  /** The chat model reads images (llm.vision): they reach it as image_url parts. */
  vision?: boolean;
}

/**
 * Longest upload name, in UTF-8 bytes: file systems allow 255, and the atomic write
 * puts a ~25-byte temporary suffix on the name first.
 */
const MAX_UPLOAD_NAME_BYTES = 200;

/**
 * A file name from a client is only a label: anything that could climb out of the
 * uploads folder or hide is refused rather than "cleaned", so the user sees why.
 * Dots inside a name ("a..b.md") are harmless once separators are refused.
 */
export function safeUploadName(name: string): string {
  const decoded = Buffer.from(name, "latin1").toString("utf8");
  const refuse = (reason: string) =>
    new GeneraError("INVALID_INPUT", `File name "${printable(decoded)}" is not allowed: ${reason}`, {
      details: { name: decoded, reason },
    });
  if (!decoded) throw refuse("it is empty");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw refuse("it contains control characters");
  if (/[/\\]/.test(decoded)) throw refuse("it contains a path separator");
  if (decoded === "." || decoded === "..") throw refuse("it names a folder");
  if (decoded.startsWith(".")) throw refuse("hidden names (starting with a dot) are not indexed");
  const bytes = Buffer.byteLength(decoded, "utf8");
  if (bytes > MAX_UPLOAD_NAME_BYTES) {
    throw refuse(`it is ${bytes} bytes long in UTF-8; the limit is ${MAX_UPLOAD_NAME_BYTES}`);
  }
  if (!supportedExtensions.includes(extname(decoded).toLowerCase())) {
    throw new GeneraError(
      "UNSUPPORTED_FILE",
      `File "${decoded}" has an unsupported type "${extname(decoded) || "(none)"}"`,
      {
        details: { name: decoded, supported: supportedExtensions },
      },
    );
  }
  return decoded;
}

/** A name as it can be shown in a message: control characters escaped. */
function printable(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what gets escaped
  return name.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Validates a whole batch before anything is written, so a bad batch changes nothing:
 * every name safe, no name twice (one would silently replace the other), no empty file
 * (it would be listed but could never be found).
 */
export function checkUploadBatch(files: Array<{ originalname: string; size: number }>): string[] {
  const names = files.map((f) => safeUploadName(f.originalname));
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) {
      throw new GeneraError("INVALID_INPUT", `File name "${name}" appears more than once in this upload`, {
        details: { name },
      });
    }
    seen.add(name);
    if ((files[i] as { size: number }).size === 0) {
      throw new GeneraError("INVALID_INPUT", `File "${name}" is empty (0 bytes): there is nothing to index`, {
        details: { name },
      });
    }
  });
  return names;
}

/**
 * Whatever multer / busboy reject is the client's doing (a malformed body, a missing
 * boundary, a cut-off form): a 4xx naming busboy's reason, never a 500. Limit errors
 * keep their own mapping (413 for a file over the size limit).
 */
function uploadError(error: unknown): unknown {
  if (error instanceof GeneraError || error instanceof multer.MulterError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GeneraError("INVALID_INPUT", `Malformed multipart upload: ${message}`, { cause: error });
}

export function apiRouter(options: ApiRouterOptions): Router {
  const { kb, chat, sessions, uploads } = options;
  const readers: MessageReaders = { describe: options.describeImage, transcribe: options.transcribeAudio };
  const router = Router();
  mkdirSync(options.uploadsDir, { recursive: true });
  // preservePath: see the name the client sent, so "../x" is refused instead of silently renamed.
  const upload = multer({
    storage: multer.memoryStorage(),
    preservePath: true,
    limits: { fileSize: options.maxUploadBytes, files: 20 },
  });

  router.post("/chat", async (req, res) => {
    const body = parseInput(ChatBody, req.body, "chat request");
    const { text, images } = await chatMessage(body.message, readers, options.vision === true);
    res.json(await chat.chat(text, body.sessionId, responseSignal(res), images));
  });

  router.post("/chat/stream", async (req: Request, res: Response) => {
    const body = parseInput(ChatBody, req.body, "chat request");
    if (body.sessionId && !(await sessions.exists(body.sessionId))) {
      throw new GeneraError("NOT_FOUND", `Session "${body.sessionId}" does not exist`);
    }
    const signal = responseSignal(res);
    const { text, images } = await chatMessage(body.message, readers, options.vision === true);
    const stream = chat.chatStream(text, body.sessionId, signal, images);
    // The first step waits for a generation slot: a full queue (429) or a bad session is
    // still an HTTP error here, before any byte of the event stream is sent.
    let step = await stream.next();
    const sse = openEventStream(res);
    try {
      while (!step.done) {
        const event = step.value;
        if (event.type === "token") sse.send("token", { text: event.text });
        else sse.send("sources", { sources: event.sources });
        step = await stream.next();
      }
      sse.send("done", { sessionId: step.value.sessionId, answer: step.value.answer });
    } catch (error) {
      const g =
        error instanceof GeneraError
          ? error
          : new GeneraError("INTERNAL", "The answer could not be completed", { cause: error });
      sse.send("error", { ...errorBody(g).error, status: statusOf(g) });
    } finally {
      sse.close();
    }
  });

  router.get("/sessions", async (_req, res) => {
    res.json({ sessions: await sessions.list() });
  });

  router.get("/sessions/:id", async (req, res) => {
    res.json(await sessions.get(req.params.id as string));
  });

  router.delete("/sessions/:id", async (req, res) => {
    await sessions.delete(req.params.id as string);
    res.status(204).end();
  });

  router.get("/search", async (req, res) => {
    const query = parseInput(SearchQuery, req.query, "search query");
    if (query.modality === "image") {
      const hits = await searchImages(options.images, query.q, query.k);
      const results = hits.filter((hit) => hit.score >= (query.minScore ?? -1));
      res.json({ query: query.q, modality: "image", results });
      return;
    }
    const docs = await kb.asRetriever({ k: query.k, mode: query.mode ?? options.retrievalMode }).invoke(query.q);
    res.json({
      query: query.q,
      results: docs.map((d) => ({ id: d.id, text: d.pageContent, ...d.metadata })),
    });
  });

  router.get("/documents", async (_req, res) => {
    res.json({ documents: await kb.listSources(), stats: await kb.stats() });
  });

  router.delete("/documents/:id", async (req, res) => {
    const removed = await kb.removeSource(req.params.id as string);
    // An uploaded file goes with its document (after it, so a crash in between loses no document).
    if (uploads.holds(removed.path)) rmSync(removed.path, { force: true });
    res.status(204).end();
  });

  const receiveFiles = upload.array("files", 20);
  router.post(
    "/documents",
    (req, res, next) => receiveFiles(req, res, (error?: unknown) => next(error ? uploadError(error) : undefined)),
    async (req, res) => {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      if (!files.length)
        throw new GeneraError("INVALID_INPUT", 'No files uploaded: send multipart/form-data with field "files"');
      const named = checkUploadBatch(files).map((name, i) => ({
        name,
        data: (files[i] as Express.Multer.File).buffer,
      }));
      for (const { name, data } of named) atomicWriteFileSync(join(options.uploadsDir, name), data);
      // Committed before the answer: an acknowledged upload is indexed even if the server stops first.
      const job = await uploads.enqueue(named.map((n) => n.name));
      if (req.query.wait === "true" || req.query.wait === "1") {
        const finished = await uploads.wait(job.id);
        const status = finished.status === "failed" ? 422 : finished.status === "done" ? 200 : 202;
        res.status(status).json(finished);
        return;
      }
      res.status(202).json(job);
    },
  );

  router.get("/documents/jobs/:id", async (req, res) => {
    const job = await uploads.get(req.params.id as string);
    if (!job) throw new GeneraError("NOT_FOUND", `Upload job "${req.params.id}" does not exist`);
    res.json(job);
  });

  return router;
}
