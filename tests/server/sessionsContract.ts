import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChatSessions } from "../../src/server/ChatSessions.js";

/** Opens a fresh, empty session store; `reopen` opens the same one again, as another replica would. */
export interface SessionsFactory {
  name: string;
  open(): Promise<ChatSessions>;
  reopen(): Promise<ChatSessions>;
}

/** The ChatSessions contract, run the same way against the SQLite and the Postgres store. */
export function sessionsContract(factory: SessionsFactory): void {
  describe(`${factory.name} (sessions contract)`, () => {
    let store: ChatSessions;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it("creates a session titled after its first message and keeps messages in order", async () => {
      const id = await store.ensure(undefined, "  What is\n attention?  ");
      expect(await store.ensure(id, "ignored")).toBe(id);
      await store.append(id, { role: "user", content: "What is attention?" });
      await store.append(id, { role: "assistant", content: "A weighted sum [1].", sources: [{ id: "c1", n: 1 }] });
      const session = await store.get(id);
      expect(session).toMatchObject({ id, title: "What is attention?", messages: 2 });
      expect(session.history.map((m) => [m.role, m.content])).toEqual([
        ["user", "What is attention?"],
        ["assistant", "A weighted sum [1]."],
      ]);
      expect(session.history[1]?.sources).toEqual([{ id: "c1", n: 1 }]);
      expect(Number.isNaN(Date.parse(session.history[0]?.createdAt as string))).toBe(false);
    });

    it("lists the most recently updated session first", async () => {
      const a = await store.ensure(undefined, "first");
      const b = await store.ensure(undefined, "second");
      await store.append(b, { role: "user", content: "b" });
      await new Promise((r) => setTimeout(r, 5));
      await store.append(a, { role: "user", content: "a" });
      const list = await store.list();
      expect(list.map((s) => s.id)).toEqual([a, b]);
      expect(list[0]?.messages).toBe(1);
    });

    it("answers NOT_FOUND for unknown ids and deletes a session with its messages", async () => {
      const unknown = "00000000-0000-4000-8000-000000000000";
      await expect(store.ensure(unknown, "x")).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(store.get("not-a-uuid")).rejects.toMatchObject({ code: "NOT_FOUND" });
      await expect(store.delete(unknown)).rejects.toMatchObject({ code: "NOT_FOUND" });
      expect(await store.exists(unknown)).toBe(false);
      const id = await store.ensure(undefined, "doomed");
      await store.append(id, { role: "user", content: "bye" });
      await store.delete(id);
      expect(await store.exists(id)).toBe(false);
      expect(await store.messages(id)).toEqual([]);
      expect((await store.health()).ok).toBe(true);
    });

    it("another store opened on the same data sees every committed message", async () => {
      const id = await store.ensure(undefined, "shared");
      await store.append(id, { role: "user", content: "from one" });
      const other = await factory.reopen();
      try {
        await other.append(id, { role: "assistant", content: "from the other" });
        expect((await store.messages(id)).map((m) => m.content)).toEqual(["from one", "from the other"]);
        expect((await other.list()).map((s) => s.id)).toContain(id);
      } finally {
        await other.close();
      }
    });
  });
}
