import { defineConfig } from "vitest/config";

// Two suites: `npm test` runs the fast unit tests (project "unit"); `npm run test:e2e` runs the
// end-to-end ones (`*.e2e.test.ts`: child processes and SIGKILLs, real servers and clients, Chromium).
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Model loading and HNSW builds are CPU-bound; two forks match the 2-core target machine.
    pool: "forks",
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/**/*.test.ts"], exclude: ["tests/**/*.e2e.test.ts"] },
      },
      { extends: true, test: { name: "e2e", include: ["tests/**/*.e2e.test.ts"] } },
    ],
  },
});
