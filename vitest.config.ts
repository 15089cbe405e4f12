import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Model loading and HNSW builds are CPU-bound; two forks match the 2-core target machine.
    pool: "forks",
    maxWorkers: 2,
  },
});
