/**
 * A minimal line-chart writer for training curves: no dependencies, readable SVG,
 * linear axes with "nice" tick values. Enough for a loss.svg beside a checkpoint.
 */

export interface PlotSeries {
  name: string;
  points: Array<[number, number]>;
  color?: string;
  /** Draw a marker at each point (sparse series such as validation loss). */
  markers?: boolean;
}

export interface HorizontalLine {
  y: number;
  label: string;
  color?: string;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  series: PlotSeries[];
  hLines?: HorizontalLine[];
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Tick values at 1, 2 or 5 × 10^k spacing covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 10000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

export function lineChartSvg(options: LineChartOptions): string {
  const W = options.width ?? 720;
  const H = options.height ?? 420;
  const m = { left: 64, right: 24, top: options.title ? 40 : 20, bottom: 52 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;

  const finite = (p: [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of options.series)
    for (const p of s.points)
      if (finite(p)) {
        xs.push(p[0]);
        ys.push(p[1]);
      }
  for (const h of options.hLines ?? []) if (Number.isFinite(h.y)) ys.push(h.y);
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  let y0 = ys.length ? Math.min(...ys) : 0;
  let y1 = ys.length ? Math.max(...ys) : 1;
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const yPad = (y1 - y0) * 0.05;
  y0 -= yPad;
  y1 += yPad;
  x0 = Math.min(x0, 0);
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const r = (v: number) => v.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    // The accessible name of the picture (screen readers, and what an svg needs to pass a11y lint).
    `<title>${escapeXml(options.title ?? `${options.yLabel ?? "value"} by ${options.xLabel ?? "step"}`)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  );
  if (options.title) {
    parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  }
  // Grid and ticks.
  for (const t of niceTicks(y0, y1)) {
    const y = r(sy(t));
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    const x = r(sx(t));
    parts.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  if (options.xLabel) {
    parts.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  }
  if (options.yLabel) {
    const cy = m.top + ph / 2;
    parts.push(
      `<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(options.yLabel)}</text>`,
    );
  }
  for (const h of options.hLines ?? []) {
    if (!Number.isFinite(h.y)) continue;
    const y = r(sy(h.y));
    const c = h.color ?? "#777";
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="${c}" stroke-dasharray="6 4"/>`);
    parts.push(
      `<text x="${m.left + pw - 4}" y="${Number(y) - 5}" text-anchor="end" fill="${c}">${escapeXml(h.label)}</text>`,
    );
  }
  options.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const pts = s.points.filter(finite);
    if (pts.length === 0) return;
    const d = pts.map((p, j) => `${j === 0 ? "M" : "L"}${r(sx(p[0]))},${r(sy(p[1]))}`).join(" ");
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"><title>${escapeXml(s.name)}</title></path>`,
    );
    if (s.markers)
      for (const p of pts) parts.push(`<circle cx="${r(sx(p[0]))}" cy="${r(sy(p[1]))}" r="2.5" fill="${color}"/>`);
  });
  // Legend, top right inside the plot.
  const items = options.series.filter((s) => s.points.some(finite));
  items.forEach((s, i) => {
    const color = s.color ?? PALETTE[options.series.indexOf(s) % PALETTE.length];
    const y = m.top + 14 + i * 16;
    const x = m.left + pw - 130;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${x + 26}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
