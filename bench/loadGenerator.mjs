// The load generator for bench/server.ts, in its own process so that it does not
// share the server's thread. Every request gets its own query (cycling through
// `variants` distinct ones), so nothing the server caches per query can flatter
// the figures.
//
//   node bench/loadGenerator.mjs '{"url": …, "connections": 10, "duration": 5, "kind": "search", "variants": 2000}'
//
// Closed loop, as autocannon's default: each of `connections` keep-alive connections sends its
// next request as soon as the previous answer has been read. Prints
// { requests: { total, average }, latency: { p50, p99 }, errors, timeouts, non2xx } (ms, req/s),
// and with "raw": true every request's latency (ms, sorted), so cells can be pooled.
import http from "node:http";

const TOPICS = ["attention", "tokenizer", "optimizer", "diffusion", "retrieval", "embedding", "decoder", "sampling"];
const VERBS = ["improves", "reduces", "stabilises", "scales", "explains", "normalises", "caches", "ranks"];
const ASKS = ["how does the", "why does the", "what", "when does the", "which"];

/** Query number n: a question built from the corpus vocabulary, distinct for every n below variants. */
function question(n) {
  const topic = TOPICS[n % TOPICS.length];
  const verb = VERBS[Math.floor(n / TOPICS.length) % VERBS.length];
  const ask = ASKS[Math.floor(n / 64) % ASKS.length];
  return `${ask} ${topic} method ${verb.replace(/s$/, "")} result in experiment ${n}`;
}

const { url, connections, duration, kind, variants = 2000, raw = false } = JSON.parse(process.argv[2]);
const TIMEOUT_MS = 10_000;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let next = 0;

function request() {
  const q = question(next++ % variants);
  const target = new URL(url);
  const options =
    kind === "search"
      ? { method: "GET", path: `/api/search?q=${encodeURIComponent(q)}&k=5`, headers: {} }
      : { method: "POST", path: "/api/chat", headers: { "content-type": "application/json" } };
  const body = kind === "search" ? undefined : JSON.stringify({ message: `${q}?` });
  return new Promise((resolve) => {
    const req = http.request(
      { host: target.hostname, port: target.port, agent, timeout: TIMEOUT_MS, ...options },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode >= 200 && res.statusCode < 300 ? "ok" : "non2xx"));
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve("timeout");
    });
    req.on("error", () => resolve("error"));
    req.end(body);
  });
}

const latencies = [];
const counts = { ok: 0, non2xx: 0, timeout: 0, error: 0 };
const end = performance.now() + duration * 1000;
await Promise.all(
  Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const outcome = await request();
      latencies.push(performance.now() - t0);
      counts[outcome]++;
    }
  }),
);
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
const total = latencies.length;
process.stdout.write(
  JSON.stringify({
    requests: { total, average: total / duration },
    latency: { p50: at(0.5), p99: at(0.99) },
    errors: counts.error,
    timeouts: counts.timeout,
    non2xx: counts.non2xx,
    ...(raw ? { latencies: latencies.map((l) => Math.round(l * 10) / 10) } : {}),
  }),
);
