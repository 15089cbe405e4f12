import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The server's Prometheus metrics, on a registry of its own so tests can start several servers. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "genera_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "genera_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly tokensStreamed = new Counter({
    name: "genera_tokens_streamed_total",
    help: "Answer tokens sent over streaming responses",
    registers: [this.registry],
  });
  readonly documentsIndexed = new Counter({
    name: "genera_documents_indexed_total",
    help: "Documents added or updated through the server",
    registers: [this.registry],
  });
  readonly generationsRejected = new Counter({
    name: "genera_generations_rejected_total",
    help: "Chat requests turned away because too many generations were queued",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "genera_" });
  }
}
