import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface TestPostgres {
  /** `postgres://…` on a loopback port: reached with the standard `pg` client, as a real server is. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A real Postgres (PGlite, with pgvector) served over the wire protocol on a free loopback port.
 * One PGlite is one session: every connection's queries run one at a time in it, so a store in
 * the tests uses one pooled connection (`maxConnections: 1`), or transactions would interleave.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const db = await PGlite.create({ extensions: { vector } });
  // Room for two replicas (a store pool of 10 and a session pool of 5 each) and the workers: the
  // socket server resets a connection beyond its limit, which a replica reports as a failed request.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
