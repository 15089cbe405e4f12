import { tool } from "@langchain/core/tools";
import { z } from "zod";

/** current_date: the date and time now, in ISO form and in words, for the given IANA time zone (default: the machine's). */
export function createCurrentDateTool(options: { now?: () => Date } = {}) {
  const now = options.now ?? (() => new Date());
  return tool(
    async ({ timeZone }) => {
      const date = now();
      const zone = timeZone?.trim() || Intl.DateTimeFormat().resolvedOptions().timeZone;
      let words: string;
      try {
        words = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "long", timeZone: zone }).format(date);
      } catch {
        throw new Error(`Unknown time zone "${zone}"; use an IANA name such as Europe/Paris or UTC`);
      }
      return `${words} (ISO ${date.toISOString()})`;
    },
    {
      name: "current_date",
      description: "Returns today's date and the current time.",
      schema: z.object({
        timeZone: z.string().optional().describe("An IANA time zone such as Europe/Paris (optional)"),
      }),
    },
  );
}
