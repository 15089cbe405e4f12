import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "genera-serve-life-"));
  const docs = join(dir, "docs");
  mkdirSync(docs);
  writeFileSync(join(docs, "tea.md"), "# Tea\n\nGreen tea is steeped at about 80 degrees Celsius for two minutes.\n");
  env = {
    ...process.env,
    GENERA_DATA_DIR: join(dir, "data"),
    GENERA_FOLDERS: docs,
    GENERA_PORT: "0",
    GENERA_EMBEDDINGS_WORKERS: "1",
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("not listening");
  return address.port;
}

/** Every process below `root` (Linux /proc), so the test can tell whether one outlived npm. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length) {
    const next = [...parent].filter(([, ppid]) => frontier.includes(ppid)).map(([pid]) => pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); it holds no port and runs nothing.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function waitForUrl(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /serving on (http:\/\/\S+)/.exec(output());
      if (m) resolve(m[1] as string);
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`exited early (${code}): ${output()}`)));
  });
}

describe("genera serve, started and stopped as a service would", () => {
  it("refuses a port that is already in use, naming it, with a non-zero exit", async () => {
    const taken = await listenOn(0);
    const port = portOf(taken);
    try {
      const result = await exec(process.execPath, ["bin/genera.js", "serve", "--port", String(port)], { env }).then(
        () => ({ code: 0, stdout: "", stderr: "" }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Port ${port} is already in use`);
      expect(result.stderr).toContain("[PORT_IN_USE]");
      expect(result.stdout).not.toMatch(/serving/);
    } finally {
      taken.close();
    }
  });

  it.skipIf(process.platform !== "linux")(
    "`npm start` stopped with SIGTERM to npm drains the server and leaves nothing running",
    { timeout: 120_000 },
    async () => {
      const npm = spawn("npm", ["start"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      npm.stdout.on("data", (d: Buffer) => {
        output += d.toString();
      });
      npm.stderr.on("data", (d: Buffer) => {
        output += d.toString();
      });
      const below: number[] = [];
      try {
        const url = await waitForUrl(npm, () => output);
        expect((await fetch(`${url}/healthz`)).status).toBe(200);
        below.push(...descendants(npm.pid as number));
        expect(below.length).toBeGreaterThan(0);

        const exited = new Promise<void>((resolve) => npm.on("exit", () => resolve()));
        npm.kill("SIGTERM"); // to npm only, as Docker or systemd (KillMode=mixed) would
        await exited;
        await expect.poll(() => below.filter(alive), { timeout: 20_000 }).toEqual([]);
        expect(output).toMatch(/SIGTERM: finishing in-flight requests/);
        // The port is free again: we can bind it ourselves.
        (await listenOn(Number(new URL(url).port))).close();
      } finally {
        npm.kill("SIGKILL");
        for (const pid of below.filter(alive)) process.kill(pid, "SIGKILL");
      }
    },
  );
});
