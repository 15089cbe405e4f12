import { type Request, type Response, Router } from "express";
import { z } from "zod";
import type { AgentRunner } from "../../agents/AgentRunner.js";
import { GeneraError } from "../../errors.js";
import type { GenerationLimiter } from "../GenerationLimiter.js";
import { errorBody, parseInput, statusOf } from "../httpErrors.js";
import type { ServerMetrics } from "../metrics.js";
import { responseSignal } from "../responseSignal.js";
import { openEventStream } from "../sse.js";

/** Builds the agent for a request: all tools, or only the ones it names. */
export type AgentFactory = (tools?: string[]) => AgentRunner;

const AgentBody = z.object({
  // The same cap as a chat message.
  task: z.string().trim().min(1, "must not be empty").max(8000, "must be at most 8000 characters"),
  tools: z.array(z.string().min(1).max(64)).max(32).optional(),
});

/** Where the agent's generate_image tool writes its PNGs, served under this route. */
export const AGENT_IMAGES_ROUTE = "/api/agent/images";
const IMAGE_NAME = /^[\w-]{1,120}\.png$/;

export interface AgentRouterOptions {
  agent: AgentFactory;
  /** The folder generate_image writes to: GET /agent/images/<name>.png serves its files. */
  imagesDir?: string;
  limiter: GenerationLimiter;
  metrics: ServerMetrics;
}

/**
 * POST /api/agent → { answer, steps, sources, stoppedBy? }; POST /api/agent/stream →
 * Server-Sent Events `step`…, `token`…, then `done` or `error`. A run holds one
 * generation slot, as a chat answer does.
 */
export function agentRouter(options: AgentRouterOptions): Router {
  const { limiter, metrics } = options;
  const router = Router();

  router.post("/agent", async (req, res) => {
    const body = parseInput(AgentBody, req.body, "agent request");
    const agent = options.agent(body.tools);
    const signal = responseSignal(res);
    res.json(await limiter.run(() => agent.invoke(body.task, { signal }), signal));
  });

  router.post("/agent/stream", async (req: Request, res: Response) => {
    const body = parseInput(AgentBody, req.body, "agent request");
    const agent = options.agent(body.tools);
    const signal = responseSignal(res);
    // A slot first: a full queue is a 429 before any byte of the stream.
    const release = await limiter.acquire(signal);
    const sse = openEventStream(res);
    try {
      for await (const event of agent.streamRun(body.task, { signal })) {
        if (event.type === "step") sse.send("step", event.step);
        else if (event.type === "token") {
          metrics.tokensStreamed.inc();
          sse.send("token", { text: event.text });
        } else sse.send("done", event.result);
      }
    } catch (error) {
      const g =
        error instanceof GeneraError
          ? error
          : new GeneraError("INTERNAL", "The agent could not finish", { cause: error });
      sse.send("error", { ...errorBody(g).error, status: statusOf(g) });
    } finally {
      release();
      sse.close();
    }
  });

  // The pictures a run drew (AgentResult.images): a bare file name, never a path.
  router.get("/agent/images/:name", (req, res, next) => {
    const name = String(req.params.name);
    if (!options.imagesDir || !IMAGE_NAME.test(name)) {
      throw new GeneraError("NOT_FOUND", `No agent image "${name}"`, { details: { name } });
    }
    res.setHeader("Cache-Control", "private, max-age=3600");
    res.sendFile(name, { root: options.imagesDir, dotfiles: "deny" }, (error) => {
      if (error && !res.headersSent) next(new GeneraError("NOT_FOUND", `No agent image "${name}"`));
    });
  });

  return router;
}
