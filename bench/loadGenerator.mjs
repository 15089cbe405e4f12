// The load generator for bench/server.ts, in its own process so that it does not
// share the server's thread. Every request gets its own query (cycling through
// `variants` distinct ones), so nothing the server caches per query can flatter
// the figures.
//
//   node bench/loadGenerator.mjs '{"url": …, "connections": 10, "duration": 5, "kind": "search", "variants": 2000}'
import autocannon from "autocannon";

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

const { url, connections, duration, kind, variants = 2000 } = JSON.parse(process.argv[2]);
let next = 0;
const setupRequest = (request) => {
  const q = question(next++ % variants);
  if (kind === "search") return { ...request, method: "GET", path: `/api/search?q=${encodeURIComponent(q)}&k=5` };
  return {
    ...request,
    method: "POST",
    path: "/api/chat",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: `${q}?` }),
  };
};
const result = await autocannon({ url, connections, duration, requests: [{ setupRequest }] });
process.stdout.write(JSON.stringify(result));
