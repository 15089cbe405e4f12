import type { RunnableConfig } from "@langchain/core/runnables";
import type { CitedSource } from "../llms/citedSource.js";

/**
 * Numbers the passages one agent run sees, so `[n]` means one passage across all of a
 * run's searches. Runners put one in `config.configurable.citations`.
 */
export class CitationRegistry {
  private readonly byId = new Map<string, CitedSource>();

  static from(config: RunnableConfig | undefined): CitationRegistry | undefined {
    const value = (config?.configurable as { citations?: unknown } | undefined)?.citations;
    return value instanceof CitationRegistry ? value : undefined;
  }

  number(source: CitedSource): CitedSource {
    const known = this.byId.get(source.id);
    if (known) return known;
    const numbered = { ...source, index: this.byId.size + 1 };
    this.byId.set(source.id, numbered);
    return numbered;
  }

  get sources(): CitedSource[] {
    return [...this.byId.values()];
  }
}
