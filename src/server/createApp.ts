import { timingSafeEqual } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Runnable } from "@langchain/core/runnables";
import express, { type NextFunction, type Request, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import helmet from "helmet";
import type { GeneraConfig } from "../config.js";
import { GeneraError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/KnowledgeBase.js";
import type { ImageIndex } from "../multimodal/ImageIndex.js";
import type { DescribeImage } from "../multimodal/imageContent.js";
import type { TranscribeAudio } from "../multimodal/speechQuestion.js";
import type { IndexQueue } from "../queue/IndexQueue.js";
import { ChatService, type ConversationalInput, type RagAnswer } from "./ChatService.js";
import type { ChatSessions } from "./ChatSessions.js";
import { GenerationLimiter } from "./GenerationLimiter.js";
import { errorBody, errorHandler } from "./httpErrors.js";
import { localOriginGuard } from "./localOriginGuard.js";
import { ServerMetrics } from "./metrics.js";
import { QueuedUploads } from "./QueuedUploads.js";
import { type AgentFactory, agentRouter } from "./routes/agent.js";
import { apiRouter } from "./routes/api.js";
import { audioRouter } from "./routes/audio.js";
import { imageGenerationRouter } from "./routes/imageGeneration.js";
import { imagesRouter, indexUploadedImages } from "./routes/images.js";
import { langServeRouter } from "./routes/langserve.js";
import { openAiRouter } from "./routes/openai.js";
import { type UploadJobs, UploadQueue } from "./UploadQueue.js";

export interface AppOptions {
  config: GeneraConfig["server"];
  kb: KnowledgeBase;
  embeddings: EmbeddingsInterface;
  embeddingsModelId: string;
  /** { question, chatHistory } → { answer, sources } */
  conversationalChain: Runnable<ConversationalInput, RagAnswer>;
  /** { question } → { answer, sources } (served as LangServe at /rag) */
  ragChain: Runnable<{ question: string }, RagAnswer>;
  /** SQLite (SessionStore) or Postgres (PostgresSessionStore, shared by replicas). */
  sessions: ChatSessions;
  uploadsDir: string;
  retrievalMode: GeneraConfig["retrieval"]["mode"];
  /** Serves /api/agent and /api/agent/stream when given. */
  agent?: AgentFactory;
  /** Where the agent's generate_image writes PNGs (served at /api/agent/images/<name>). */
  agentImagesDir?: string;
  /** The image index beside the text one: /api/search?modality=image and thumbnails. */
  images?: ImageIndex;
  /** Caption + OCR of images sent in chat messages (image_url parts). */
  describeImage?: DescribeImage;
  /** Uploads become jobs on this shared queue for `genera worker` processes, instead of being indexed here. */
  queue?: IndexQueue;
  /** Speech to text of recorded questions (POST /api/transcribe, input_audio parts); none without a speech model. */
  transcribeAudio?: TranscribeAudio;
  /** The chat model reads images (llm.vision): images in messages reach it as image_url parts. */
  vision?: boolean;
  log?: (line: string) => void;
}

function bearerMatches(header: string | undefined, key: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1] as string);
  const expected = Buffer.from(key);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The embeddings' own report (CachedEmbeddings has one); embeddings without a cache file have nothing to check. */
export function embeddingsHealth(embeddings: EmbeddingsInterface): { ok: boolean; detail?: string } {
  const health = (embeddings as { health?: () => { ok: boolean; detail?: string } }).health;
  return typeof health === "function" ? health.call(embeddings) : { ok: true };
}

/** The Express app: middleware in the order requests meet it, then thin routers over the services. */
export function createApp(options: AppOptions): {
  app: express.Express;
  metrics: ServerMetrics;
  limiter: GenerationLimiter;
  uploads: UploadJobs;
} {
  const { config } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const metrics = new ServerMetrics();
  const limiter = new GenerationLimiter(config.maxConcurrentGenerations, config.maxQueuedGenerations, () =>
    metrics.generationsRejected.inc(),
  );
  const chat = new ChatService({
    chain: options.conversationalChain,
    sessions: options.sessions,
    limiter,
    metrics,
  });

  const uploads: UploadJobs = options.queue
    ? new QueuedUploads(options.queue, options.uploadsDir)
    : new UploadQueue({
        kb: options.kb,
        uploadsDir: options.uploadsDir,
        metrics,
        log,
        afterIndex: options.images
          ? (paths) => indexUploadedImages(options.images, paths, options.uploadsDir)
          : undefined,
      });

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", "data:"],
        },
      },
    }),
  );

  // Metrics: the route pattern (not the raw path) keeps label cardinality bounded.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const end = metrics.latency.startTimer({ method: req.method });
    res.on("finish", () => {
      // An error leaves its router before "finish", and Express then resets req.baseUrl:
      // the prefix remembered on the way in keeps "/rag/invoke" from becoming "/invoke".
      const base = (res.locals.routeBase as string | undefined) ?? req.baseUrl;
      const route = req.route?.path ? `${base}${req.route.path}` : base || "unmatched";
      end({ route });
      metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });

  // Without an API key, only this machine's own names and pages get in (see localOriginGuard).
  if (!config.apiKey) app.use(localOriginGuard({ host: config.host, allowedHosts: config.allowedHosts }));

  app.get("/healthz", async (_req, res) => {
    // Counts only: stats() also walks the index folder for its size, too slow for a probe.
    // A damaged session store or an unusable embedding cache makes it 503 "degraded".
    const checks = {
      sessions: await options.sessions.health(),
      embeddingCache: embeddingsHealth(options.embeddings),
    };
    const ok = Object.values(checks).every((c) => c.ok);
    res.status(ok ? 200 : 503).json({
      status: ok ? "ok" : "degraded",
      checks,
      ...(await options.kb.counts()),
      generations: { running: limiter.active, queued: limiter.queued },
    });
  });
  app.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  const protectedPrefixes = ["/api", "/rag", "/v1"];
  app.use(protectedPrefixes, (req: Request, res: Response, next: NextFunction) => {
    res.locals.routeBase = req.baseUrl;
    next();
  });
  if (config.apiKey) {
    const key = config.apiKey;
    app.use(protectedPrefixes, (req: Request, res: Response, next: NextFunction) => {
      if (bearerMatches(req.headers.authorization, key)) return next();
      res.setHeader("WWW-Authenticate", 'Bearer realm="genera"');
      res
        .status(401)
        .json(errorBody(new GeneraError("UNAUTHORIZED", "Missing or wrong API key: send Authorization: Bearer <key>")));
    });
  }
  if (config.rateLimitPerMinute > 0) {
    app.use(
      protectedPrefixes,
      rateLimit({
        windowMs: 60_000,
        limit: config.rateLimitPerMinute,
        standardHeaders: "draft-7",
        legacyHeaders: false,
        handler: (_req, res) => {
          res.status(429).json(errorBody(new GeneraError("RATE_LIMITED", "Too many requests; slow down")));
        },
      }),
    );
  }
  app.use(protectedPrefixes, express.json({ limit: config.maxBodyBytes }));
  // Non-streaming requests get an answer or a 503 within the timeout; streams manage their own lifetime.
  app.use(protectedPrefixes, (req: Request, res: Response, next: NextFunction) => {
    if (req.path.endsWith("/stream") || req.body?.stream === true) return next();
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        res
          .status(503)
          .json({ error: { code: "TIMEOUT", message: `Request took longer than ${config.requestTimeoutMs} ms` } });
      }
    }, config.requestTimeoutMs);
    res.on("close", () => clearTimeout(timer));
    next();
  });
  if (options.agent)
    app.use("/api", agentRouter({ agent: options.agent, limiter, metrics, imagesDir: options.agentImagesDir }));
  app.use(
    "/api",
    apiRouter({
      kb: options.kb,
      chat,
      sessions: options.sessions,
      metrics,
      uploadsDir: options.uploadsDir,
      uploads,
      maxUploadBytes: config.maxUploadBytes,
      retrievalMode: options.retrievalMode,
      images: options.images,
      describeImage: options.describeImage,
      transcribeAudio: options.transcribeAudio,
      vision: options.vision,
    }),
  );
  app.use("/api", imagesRouter(options.images));
  app.use("/api", audioRouter(options.kb, options.transcribeAudio));
  app.use("/api", imageGenerationRouter());
  app.use("/rag", langServeRouter(options.ragChain, limiter));
  app.use(
    "/v1",
    openAiRouter({
      chain: options.conversationalChain,
      embeddings: options.embeddings,
      embeddingsModelId: options.embeddingsModelId,
      limiter,
      metrics,
      describeImage: options.describeImage,
      transcribeAudio: options.transcribeAudio,
      vision: options.vision,
    }),
  );

  app.use(express.static(fileURLToPath(new URL("./public", import.meta.url)), { index: "index.html" }));
  app.use((req: Request, res: Response) => {
    res.status(404).json(errorBody(new GeneraError("NOT_FOUND", `No route for ${req.method} ${req.path}`)));
  });
  app.use(errorHandler(log));
  return { app, metrics, limiter, uploads };
}
