import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildProgram } from "../../src/cli/main.js";
import { ENVIRONMENT_VARIABLES } from "../../src/config.js";

/**
 * deploy/compose.yaml is not run here (no Docker), so it is checked against the real thing
 * statically: every genera service's command line parses with the CLI's own options, every
 * variable it sets is one genera reads (and docs/deployment.md lists), every URL names a service
 * of the file, and the workers see the files the enqueuer and the replicas hand them. The
 * servers it starts are the kinds the e2e tests start (pgvector, redis-server).
 */
const ROOT = resolve(import.meta.dirname, "../..");

interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  ports?: string[];
}

const compose = parse(readFileSync(join(ROOT, "deploy/compose.yaml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const genera = Object.entries(services).filter(([, s]) => s.command?.slice(0, 2).join(" ") === "node bin/genera.js");

/** The sub-command as the CLI registers it, and what its own parser makes of `args`. */
async function parseWithCli(args: string[]): Promise<{ command: Command; operands: string[]; unknown: string[] }> {
  const [name, ...rest] = args;
  const program = await buildProgram(["node", "genera", ...args]);
  const command = program.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`genera has no command "${name}"`);
  const { operands, unknown } = command.parseOptions(rest);
  return { command, operands, unknown };
}

/** Mounts as target → source ("volume:/path[:ro]"). */
function mounts(service: Service): Map<string, string> {
  return new Map(
    (service.volumes ?? []).map((v) => {
      const [source, target] = v.split(":");
      return [target as string, source as string];
    }),
  );
}

describe("deploy/compose.yaml", () => {
  it("runs a pgvector Postgres and redis-server, the servers the e2e tests start", () => {
    expect(services.postgres?.image).toMatch(/^pgvector\/pgvector:/);
    expect(services.redis?.image).toMatch(/^redis:/);
    expect(services.redis?.command?.[0]).toBe("redis-server");
    // The same persistence as tests/helpers/redis.ts starts it with.
    expect(services.redis?.command?.join(" ")).toContain("--appendonly yes");
    expect(genera.map(([name]) => name).sort()).toEqual(["enqueue", "replica1", "replica2", "worker"]);
  });

  it("gives every genera service a command line the CLI parses, with no unknown option", async () => {
    for (const [name, service] of genera) {
      const args = service.command?.slice(2) ?? [];
      const { command, operands, unknown } = await parseWithCli(args);
      expect(unknown, `${name}: ${args.join(" ")}`).toEqual([]);
      if (command.name() === "index") expect(operands.length, `${name} names what to index`).toBeGreaterThan(0);
      else expect(operands, `${name}: ${args.join(" ")}`).toEqual([]);
    }
  });

  it("sets only variables genera reads, each listed in docs/deployment.md's Environment section", () => {
    const docs = readFileSync(join(ROOT, "docs/deployment.md"), "utf8");
    const environment = docs.slice(
      docs.indexOf("## Environment"),
      docs.indexOf("\n## ", docs.indexOf("## Environment") + 1),
    );
    for (const [name, service] of genera) {
      const vars = Object.keys(service.environment ?? {});
      expect(vars, name).toContain("GENERA_DATABASE_URL");
      expect(vars, name).toContain("GENERA_QUEUE_URL");
      for (const variable of vars) {
        expect(ENVIRONMENT_VARIABLES, `${name} sets ${variable}`).toContain(variable);
        const family = `${variable.split("_").slice(0, 2).join("_")}_*`;
        expect(
          environment.includes(`\`${variable}\``) || environment.includes(`\`${family}\``),
          `${variable} in docs/deployment.md`,
        ).toBe(true);
      }
    }
  });

  it("points every URL and dependency at a service of the file", async () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(services, name).toHaveProperty(dependency);
    }
    for (const [name, service] of genera) {
      const env = service.environment ?? {};
      const database = new URL(env.GENERA_DATABASE_URL as string);
      expect(database.protocol, name).toBe("postgres:");
      expect(services[database.hostname]?.image, `${name}: ${database.hostname}`).toMatch(/pgvector/);
      const environment = services.postgres?.environment ?? {};
      expect(decodeURIComponent(database.username)).toBe(environment.POSTGRES_USER);
      expect(decodeURIComponent(database.password)).toBe(environment.POSTGRES_PASSWORD);
      expect(database.pathname.slice(1)).toBe(environment.POSTGRES_DB);
      const queue = new URL(env.GENERA_QUEUE_URL as string);
      expect(services[queue.hostname]?.command?.[0], `${name}: ${queue.hostname}`).toBe("redis-server");
      const args = service.command ?? [];
      const flag = args.indexOf("--queue");
      if (flag >= 0) expect(args[flag + 1]).toBe(env.GENERA_QUEUE_URL);
    }
  });

  it("lets the workers read what the enqueuer and the replicas hand them, at the same paths", () => {
    const worker = services.worker as Service;
    const workerMounts = mounts(worker);
    expect(worker.environment?.GENERA_DATA_DIR).toMatch(/^\//);
    const uploads = `${worker.environment?.GENERA_DATA_DIR}/uploads`;
    for (const name of ["enqueue", "replica1", "replica2"]) {
      const service = services[name] as Service;
      for (const [target, source] of mounts(service)) {
        if (target === "/keys") continue; // the replicas' session key: not the workers' business
        expect(workerMounts.get(target), `${name} mounts ${target}; the workers must too`).toBe(source);
      }
      // Uploads land in <dataDir>/uploads, which the workers see under the same path.
      if (name !== "enqueue") expect(mounts(service).get(uploads), name).toBe(workerMounts.get(uploads));
      expect(service.environment?.GENERA_DATA_DIR).toBe(worker.environment?.GENERA_DATA_DIR);
    }
    // Every replica signs sessions with the one key file, on a shared volume.
    const keyFiles = new Set(["replica1", "replica2"].map((r) => services[r]?.environment?.GENERA_SESSION_KEY_FILE));
    expect(keyFiles.size).toBe(1);
    for (const volume of ["uploads", "keys", "pgdata", "redisdata"]) expect(compose.volumes).toHaveProperty(volume);
  });
});
