import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, parseSse, removeDir, startHarness } from "./serverHarness.js";

let h: Harness;
let locked: Harness;

beforeAll(async () => {
  [h, locked] = await Promise.all([startHarness(), startHarness({ apiKey: "sesame" })]);
}, 60_000);
afterAll(async () => {
  for (const x of [h, locked]) {
    await x.close();
    removeDir(x.dataDir);
  }
});

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("POST /api/agent", () => {
  it("runs the offline agent and returns its steps", async () => {
    const res = await post(h.running.url, "/api/agent", { task: "What is 12 times 12?" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { answer: string; steps: Array<{ type: string; tool?: string }> };
    expect(body.answer).toBe("12 * 12 = 144.");
    expect(body.steps.map((s) => s.type)).toEqual(["tool_call", "observation"]);
  });

  it("cites the documents it searched", async () => {
    const res = await post(h.running.url, "/api/agent", { task: "search the documents for the Adam optimizer" });
    const body = (await res.json()) as { answer: string; sources: Array<{ index: number; source: string }> };
    expect(body.answer).toMatch(/betas are 0\.9 and 0\.999\. \[1\]/);
    expect(body.sources[0]?.source).toMatch(/optimizers\.md$/);
  });

  it("streams steps, then done", async () => {
    const res = await post(h.running.url, "/api/agent/stream", { task: "calculate 2^10" });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = parseSse(await res.text());
    // The offline model streams its reply as one chunk, so the final answer arrives as one token event.
    expect(events.map((e) => e.event)).toEqual(["step", "step", "token", "done"]);
    expect(events[0]?.data).toMatchObject({ type: "tool_call", tool: "calculator", args: { expression: "2 ^ 10" } });
    expect(events[2]?.data).toMatchObject({ text: "2 ^ 10 = 1024." });
    expect(events[3]?.data).toMatchObject({ answer: "2 ^ 10 = 1024." });
  });

  it("validates input and tool names like the chat routes", async () => {
    const empty = await post(h.running.url, "/api/agent", { task: "  " });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { code: "INVALID_INPUT" } });
    const long = await post(h.running.url, "/api/agent", { task: "x".repeat(9000) });
    expect(long.status).toBe(400);
    const unknown = await post(h.running.url, "/api/agent", { task: "hi", tools: ["shell"] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/no tool by that name/);
    const only = await post(h.running.url, "/api/agent", { task: "What is 3 plus 4?", tools: ["current_date"] });
    expect(((await only.json()) as { answer: string }).answer).toMatch(/needs calculator, which I was not given/);
  });

  it("draws with the shipped image generators and answers a picture the web UI can fetch", async () => {
    const res = await post(h.running.url, "/api/agent", { task: "sample 3 digits from the vae model" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      answer: string;
      steps: Array<{ type: string; tool?: string; args?: unknown; image?: unknown }>;
      images: Array<{ url: string; model: string; count: number }>;
    };
    expect(body.steps[0]).toMatchObject({
      type: "tool_call",
      tool: "generate_image",
      args: { model: "vae", n: 3 },
    });
    expect(body.images).toHaveLength(1);
    const image = body.images[0] as { url: string; model: string; count: number };
    expect(image).toMatchObject({ model: "vae", count: 3 });
    expect(image.url).toMatch(/^\/api\/agent\/images\/vae-[\w-]+\.png$/);
    // The answer names the URL, never the file's place on the server.
    expect(body.answer).toContain(image.url);
    expect(body.answer).not.toContain(h.dataDir);
    const png = await fetch(`${h.running.url}${image.url}`);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect([...new Uint8Array(await png.arrayBuffer()).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    // Only bare PNG names from the agent's folder are served.
    for (const name of ["..%2Fsessions.sqlite", "nothing-here.png", "x.txt"]) {
      expect((await fetch(`${h.running.url}/api/agent/images/${name}`)).status).toBe(404);
    }
    expect((await fetch(`${locked.running.url}${image.url}`)).status).toBe(401);
  }, 60_000);

  it("needs the API key when one is set", async () => {
    expect((await post(locked.running.url, "/api/agent", { task: "1+1" })).status).toBe(401);
    const ok = await post(
      locked.running.url,
      "/api/agent",
      { task: "compute 1 + 1" },
      { authorization: "Bearer sesame" },
    );
    expect(ok.status).toBe(200);
  });
});

describe("/v1/chat/completions with tools (openai client)", () => {
  const calculator = {
    type: "function" as const,
    function: {
      name: "calculator",
      description: "Evaluates an arithmetic expression",
      parameters: { type: "object", properties: { expression: { type: "string" } }, required: ["expression"] },
    },
  };

  it("answers with tool_calls, then with the result the client sends back", async () => {
    const client = new OpenAI({ baseURL: `${h.running.url}/v1`, apiKey: "unused" });
    const first = await client.chat.completions.create({
      model: "genera-tools",
      messages: [{ role: "user", content: "What is 6 times 7?" }],
      tools: [calculator],
    });
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function.name).toBe("calculator");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ expression: "6 * 7" });

    const second = await client.chat.completions.create({
      model: "genera-tools",
      messages: [
        { role: "user", content: "What is 6 times 7?" },
        { role: "assistant", content: null, tool_calls: choice?.message.tool_calls },
        { role: "tool", tool_call_id: call?.id ?? "", content: "6 * 7 = 42" },
      ],
      tools: [calculator],
    });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    expect(second.choices[0]?.message.content).toBe("6 * 7 = 42.");
  });

  it("knows only its own model ids", async () => {
    const client = new OpenAI({ baseURL: `${h.running.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await expect(
      client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "hi" }],
        tools: [calculator],
      }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("streams tool calls", async () => {
    const client = new OpenAI({ baseURL: `${h.running.url}/v1`, apiKey: "unused" });
    const stream = await client.chat.completions.create({
      model: "genera-tools",
      messages: [{ role: "user", content: "calculate 15% of 240" }],
      tools: [calculator],
      stream: true,
    });
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices[0]?.delta.tool_calls ?? []) args += c.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toEqual({ expression: "15% of 240" });
    expect(finish).toBe("tool_calls");
  });

  it("calls a client's generate_image tool with the model, count and digit", async () => {
    const client = new OpenAI({ baseURL: `${h.running.url}/v1`, apiKey: "unused" });
    const generateImage = {
      type: "function" as const,
      function: {
        name: "generate_image",
        parameters: {
          type: "object",
          properties: { model: { type: "string" }, n: { type: "integer" }, digit: { type: "integer" } },
        },
      },
    };
    const reply = await client.chat.completions.create({
      model: "genera-tools",
      messages: [{ role: "user", content: "draw 5 twos with the gan" }],
      tools: [calculator, generateImage],
    });
    const call = reply.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function.name).toBe("generate_image");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ model: "gan", n: 5, digit: 2 });
  });

  it("says so when none of the client's tools serves the request", async () => {
    const client = new OpenAI({ baseURL: `${h.running.url}/v1`, apiKey: "unused" });
    const weather = {
      type: "function" as const,
      function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    };
    const reply = await client.chat.completions.create({
      model: "genera-tools",
      messages: [{ role: "user", content: "What is 6 times 7?" }],
      tools: [weather],
    });
    expect(reply.choices[0]?.message.content).toMatch(/^I can't do that with these tools/);
    expect(reply.choices[0]?.message.tool_calls ?? []).toEqual([]);
  });
});
