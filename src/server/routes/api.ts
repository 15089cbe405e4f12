import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { extname, join } from "node:path";
import { type Request, type Response, Router } from "express";
import multer from "multer";
import { z } from "zod";
import type { IndexSummary, KnowledgeBase } from "../../../loaders/KnowledgeBase.js";
import { supportedExtensions } from "../../../loaders/loadFile.js";
import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import type { ChatService } from "../ChatService.js";
import { errorBody, parseInput, statusOf } from "../httpErrors.js";
import type { ServerMetrics } from "../metrics.js";
import { responseSignal } from "../responseSignal.js";
import type { SessionStore } from "../SessionStore.js";
import { openEventStream } from "../sse.js";

const ChatBody = z.object({
  message: z.string().trim().min(1, "must not be empty").max(8000, "must be at most 8000 characters"),
  sessionId: z.string().uuid().optional(),
});

const SearchQuery = z.object({
  q: z.string().trim().min(1, "must not be empty").max(2000),
  k: z.coerce.number().int().min(1).max(100).default(5),
  mode: z.enum(["hybrid", "keyword", "dense"]).optional(),
});

export interface UploadJob {
  id: string;
  status: "queued" | "indexing" | "done" | "failed";
  files: string[];
  filesDone: number;
  chunksDone: number;
  summary?: IndexSummary;
  error?: { code: string; message: string };
}

export interface ApiRouterOptions {
  kb: KnowledgeBase;
  chat: ChatService;
  sessions: SessionStore;
  metrics: ServerMetrics;
  uploadsDir: string;
  maxUploadBytes: number;
  retrievalMode: "hybrid" | "keyword" | "dense";
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

/** Upload jobs remembered for GET /api/documents/jobs/:id; older finished ones are forgotten. */
const KEPT_UPLOAD_JOBS = 200;

export function apiRouter(options: ApiRouterOptions): Router {
  const { kb, chat, sessions, metrics } = options;
  const router = Router();
  const jobs = new Map<string, UploadJob>();
  mkdirSync(options.uploadsDir, { recursive: true });
  // preservePath: see the name the client sent, so "../x" is refused instead of silently renamed.
  const upload = multer({
    storage: multer.memoryStorage(),
    preservePath: true,
    limits: { fileSize: options.maxUploadBytes, files: 20 },
  });

  router.post("/chat", async (req, res) => {
    const body = parseInput(ChatBody, req.body, "chat request");
    res.json(await chat.chat(body.message, body.sessionId, responseSignal(res)));
  });

  router.post("/chat/stream", async (req: Request, res: Response) => {
    const body = parseInput(ChatBody, req.body, "chat request");
    if (body.sessionId && !sessions.exists(body.sessionId)) {
      throw new GeneraError("NOT_FOUND", `Session "${body.sessionId}" does not exist`);
    }
    const signal = responseSignal(res);
    const stream = chat.chatStream(body.message, body.sessionId, signal);
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

  router.get("/sessions", (_req, res) => {
    res.json({ sessions: sessions.list() });
  });

  router.get("/sessions/:id", (req, res) => {
    res.json(sessions.get(req.params.id as string));
  });

  router.delete("/sessions/:id", (req, res) => {
    sessions.delete(req.params.id as string);
    res.status(204).end();
  });

  router.get("/search", async (req, res) => {
    const query = parseInput(SearchQuery, req.query, "search query");
    const docs = await kb.asRetriever({ k: query.k, mode: query.mode ?? options.retrievalMode }).invoke(query.q);
    res.json({
      query: query.q,
      results: docs.map((d) => ({ id: d.id, text: d.pageContent, ...d.metadata })),
    });
  });

  router.get("/documents", (_req, res) => {
    res.json({ documents: kb.listSources().map((s) => ({ id: s.source, ...s })), stats: kb.stats() });
  });

  router.delete("/documents/:id", async (req, res) => {
    await kb.removeSource(req.params.id as string);
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
      const paths = named.map(({ name, data }) => {
        const path = join(options.uploadsDir, name);
        atomicWriteFileSync(path, data);
        return path;
      });
      const job: UploadJob = {
        id: randomUUID(),
        status: "queued",
        files: named.map((n) => n.name),
        filesDone: 0,
        chunksDone: 0,
      };
      jobs.set(job.id, job);
      // A server left running keeps only the most recent finished jobs (Map order is oldest first).
      for (const [id, old] of jobs) {
        if (jobs.size <= KEPT_UPLOAD_JOBS) break;
        if (old.status === "done" || old.status === "failed") jobs.delete(id);
      }
      const done = kb
        .index(paths, {
          // The configured chunking applies; folder include/exclude globs do not: the user chose these files.
          include: [],
          exclude: [],
          cleanup: "none",
          onProgress: (e) => {
            job.status = "indexing";
            job.filesDone = e.filesDone;
            job.chunksDone = e.chunksDone;
          },
        })
        .then((summary) => {
          job.status = summary.failed === named.length ? "failed" : "done";
          job.summary = summary;
          metrics.documentsIndexed.inc(summary.added + summary.updated);
          if (summary.failed) {
            job.error = {
              code: "FILE_UNREADABLE",
              message: summary.failures.map((f) => `${f.path}: ${f.reason}`).join("; "),
            };
          }
        })
        .catch((error: unknown) => {
          job.status = "failed";
          job.error = { code: (error as GeneraError).code ?? "INTERNAL", message: (error as Error).message };
        });
      if (req.query.wait === "true" || req.query.wait === "1") {
        await done;
        res.status(job.status === "failed" ? 422 : 200).json(job);
        return;
      }
      res.status(202).json(job);
    },
  );

  router.get("/documents/jobs/:id", (req, res) => {
    const job = jobs.get(req.params.id as string);
    if (!job) throw new GeneraError("NOT_FOUND", `Upload job "${req.params.id}" does not exist`);
    res.json(job);
  });

  return router;
}
