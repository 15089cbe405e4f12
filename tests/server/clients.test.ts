import { RemoteRunnable } from "langchain-core-remote/runnables/remote";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, removeDir, startHarness } from "./serverHarness.js";

// Real clients against the real server: LangServe's RemoteRunnable (from @langchain/core 0.3,
// the last line that ships it) and the official openai package.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  removeDir(h.dataDir);
});

interface RagOutput {
  answer: string;
  sources: Array<{ index: number; source: string; page_content: string }>;
}

describe("LangServe routes with RemoteRunnable", () => {
  it("invoke, batch and stream", async () => {
    const remote = new RemoteRunnable({ url: `${h.running.url}/rag` });
    const out = (await remote.invoke({ question: "What are the default betas of Adam?" })) as RagOutput;
    expect(out.answer).toMatch(/0\.999/);
    expect(out.sources[0]?.source).toBe("optimizers.md");
    expect(out.sources[0]?.page_content).toMatch(/betas/);

    const many = (await remote.batch([
      { question: "How many noise steps does DDPM use?" },
      "Why is dot-product attention scaled?",
    ])) as RagOutput[];
    expect(many).toHaveLength(2);
    expect(many[0]?.answer).toMatch(/thousand/);
    expect(many[1]?.sources[0]?.source).toBe("attention.md");

    const chunks: Array<Partial<RagOutput>> = [];
    for await (const chunk of await remote.stream({ question: "What does momentum accumulate?" })) {
      chunks.push(chunk as Partial<RagOutput>);
    }
    expect(chunks.length).toBeGreaterThan(2);
    const answer = chunks.map((c) => c.answer ?? "").join("");
    expect(answer).toMatch(/velocity/);
    expect(chunks.some((c) => Array.isArray(c.sources))).toBe(true);
  });

  it("publishes input and output schemas", async () => {
    const input = (await (await fetch(`${h.running.url}/rag/input_schema`)).json()) as { anyOf: unknown[] };
    const output = (await (await fetch(`${h.running.url}/rag/output_schema`)).json()) as { required: string[] };
    expect(input.anyOf.length).toBe(2);
    expect(output.required).toEqual(["answer", "sources"]);
  });
});

describe("OpenAI-compatible routes with the openai client", () => {
  const client = () => new OpenAI({ baseURL: `${h.running.url}/v1`, apiKey: "unused", maxRetries: 0 });

  it("lists models", async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain("genera-rag");
  });

  it("answers chat completions, streaming and not, with sources", async () => {
    const completion = await client().chat.completions.create({
      model: "genera-rag",
      messages: [{ role: "user", content: "What are the default betas of Adam?" }],
    });
    expect(completion.choices[0]?.message.content).toMatch(/0\.999/);
    expect((completion as unknown as { sources: Array<{ source: string }> }).sources[0]?.source).toBe("optimizers.md");

    const stream = await client().chat.completions.create({
      model: "genera-rag",
      stream: true,
      messages: [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "How many noise steps does DDPM use?" },
      ],
    });
    let text = "";
    let sources: unknown[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      const extra = (chunk as unknown as { sources?: unknown[] }).sources;
      if (extra) sources = extra;
    }
    expect(text).toMatch(/thousand noise steps/);
    expect(sources.length).toBeGreaterThan(0);
  });

  it("embeds text (float and base64)", async () => {
    const res = await client().embeddings.create({ model: "any", input: ["hello world", "attention"] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding.length).toBe(64);
    const norm = Math.hypot(...(res.data[0]?.embedding ?? []));
    expect(norm).toBeCloseTo(1, 4);
    const raw = await fetch(`${h.running.url}/v1/embeddings`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ input: "hello world", encoding_format: "float" }),
    });
    const body = (await raw.json()) as { data: Array<{ embedding: number[] }> };
    expect(body.data[0]?.embedding[0]).toBeCloseTo(res.data[0]?.embedding[0] ?? Number.NaN, 5);
  });

  it("rejects an unknown model and an empty conversation with 4xx", async () => {
    await expect(
      client().chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(client().chat.completions.create({ model: "genera-rag", messages: [] })).rejects.toMatchObject({
      status: 400,
    });
  });
});
