import cliProgress from "cli-progress";

export interface ProgressUpdate {
  done: number;
  total: number;
  /** Extra fields shown after the bar, e.g. { chunks: 120, "chunks/s": "14.2" }. */
  fields?: Record<string, string | number>;
  etaSeconds?: number;
}

export interface ProgressReporter {
  update(update: ProgressUpdate): void;
  stop(): void;
}

function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

function formatFields(fields: Record<string, string | number> = {}): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${v}`)
    .join(" | ");
}

/**
 * A progress bar with rate and ETA on a terminal; on a pipe or in CI, plain lines
 * at most every `plainIntervalMs`, so logs stay readable. Always writes to stderr,
 * keeping stdout for results (`--json`).
 */
export function createProgressReporter(label: string, options: { plainIntervalMs?: number } = {}): ProgressReporter {
  const stream = process.stderr;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | {fields} | ETA {eta_text}`,
        hideCursor: true,
        stream,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update({ done, total, fields, etaSeconds }) {
        const payload = { fields: formatFields(fields), eta_text: formatEta(etaSeconds) };
        if (!started) {
          bar.start(Math.max(total, 1), done, payload);
          started = true;
        } else {
          bar.setTotal(Math.max(total, 1));
          bar.update(done, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  const interval = options.plainIntervalMs ?? 2000;
  let last = 0;
  let lastLine = "";
  return {
    update({ done, total, fields, etaSeconds }) {
      lastLine = `${label}: ${done}/${total} ${formatFields(fields)} eta ${formatEta(etaSeconds)}`;
      const now = Date.now();
      if (now - last >= interval || done === total) {
        last = now;
        stream.write(`${lastLine}\n`);
        lastLine = "";
      }
    },
    stop() {
      if (lastLine) stream.write(`${lastLine}\n`);
    },
  };
}

/**
 * Ctrl-C during training: the first one aborts `signal` (the run stops at the next step
 * and saves), a second one quits at once. `dispose` removes the handler.
 */
export function stopOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write("\nstopping after this step (Ctrl-C again to quit now)…\n");
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  return { signal: abort.signal, dispose: () => process.off("SIGINT", onSigint) };
}
