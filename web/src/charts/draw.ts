/**
 * The part of the charts that needs uPlot, in a chunk of its own that Chart.tsx loads on first use.
 *
 * Charts are pictures only: no cursor, selection or hover values (a phone has no hover, and the page gives
 * the numbers in words). Colours come from CSS custom properties on the chart's box (styles.css), read when it
 * is drawn, so they follow the light or dark scheme like the rest of the page.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { ChartSpec, DailyBarsSpec, LevelLineSpec } from "./Chart";

export interface DrawnChart {
  resize(width: number): void;
  destroy(): void;
}

interface Theme {
  text: string;
  grid: string;
  background: string;
  bar: string;
  target: string;
  line: string;
  fontSize: number;
  fontFamily: string;
}

const TICK_SIZE = 4;
const LABEL_GAP = 5;

function themeOf(el: HTMLElement): Theme {
  const style = getComputedStyle(el);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: read("--chart-text", "#5f5c56"),
    grid: read("--chart-grid", "#d9d6cf"),
    background: read("--chart-background", "#ffffff"),
    bar: read("--chart-bar", "#0072b2"),
    target: read("--chart-target", "#d55e00"),
    line: read("--chart-line", "#009e73"),
    fontSize: 12,
    fontFamily: style.fontFamily || "system-ui, sans-serif",
  };
}

/** Room for the longest tick label, so "1,250 g" is not cut off and "5 g" wastes no width on a phone. */
function fitLabels(theme: Theme): uPlot.Axis.Size {
  let size = 40;
  return (u, values, _axisIdx, cycleNum) => {
    // uPlot asks again while the layout settles; the labels are measured once.
    if (cycleNum > 1) return size;
    const longest = (values ?? []).reduce((a, b) => (b.length > a.length ? b : a), "");
    // The canvas is in device pixels: measure in the font as drawn there, and answer in CSS pixels.
    u.ctx.font = `${theme.fontSize * uPlot.pxRatio}px ${theme.fontFamily}`;
    size = Math.ceil(TICK_SIZE + LABEL_GAP + u.ctx.measureText(longest).width / uPlot.pxRatio);
    return size;
  };
}

function axisStyle(theme: Theme) {
  return {
    stroke: theme.text,
    font: `${theme.fontSize}px ${theme.fontFamily}`,
    gap: LABEL_GAP,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1, size: TICK_SIZE },
  };
}

const BASE = {
  legend: { show: false },
  cursor: { show: false },
  padding: [12, 12, 0, 0] as uPlot.Padding,
};

function dailyBars(spec: DailyBarsSpec, theme: Theme, width: number, height: number) {
  const count = spec.dates.length;
  const known = spec.values.filter((v): v is number => v !== null);
  // An empty week still gets a scale a person reads as "nothing", not one of fractions of a gram.
  const top = Math.max(10, spec.target?.value ?? 0, ...known);
  const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0 });
  const target = spec.target;
  const options: uPlot.Options = {
    ...BASE,
    width,
    height,
    scales: {
      // Days are places on the axis, not instants: no time zone can move a bar to the wrong day.
      x: { time: false, range: () => [-0.5, count - 0.5] },
      // Headroom above the highest bar or the target, for the target's label.
      y: { range: () => [0, top * 1.2] },
    },
    axes: [
      {
        ...axisStyle(theme),
        grid: { show: false },
        space: 40,
        incrs: [1, 2, 3, 7, 14, 28],
        values: (_u, splits) =>
          splits.map((i) => {
            const date = Number.isInteger(i) ? spec.dates[i] : undefined;
            return date ? spec.formatDate(date) : "";
          }),
      },
      {
        ...axisStyle(theme),
        space: 30,
        size: fitLabels(theme),
        values: (_u, splits) => splits.map((v) => spec.formatValue(v)),
      },
    ],
    series: [
      {},
      {
        stroke: theme.bar,
        fill: theme.bar,
        width: 0,
        points: { show: false },
        ...(bars && { paths: bars }),
      },
    ],
    hooks: target
      ? {
          draw: [
            (u) => {
              const ratio = uPlot.pxRatio;
              const y = u.valToPos(target.value, "y", true);
              const { left, width: plotWidth } = u.bbox;
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = theme.target;
              ctx.lineWidth = 2 * ratio;
              ctx.setLineDash([6 * ratio, 4 * ratio]);
              ctx.beginPath();
              ctx.moveTo(left, y);
              ctx.lineTo(left + plotWidth, y);
              ctx.stroke();
              // The line is named where it is drawn, on a patch of background so bars never hide the words.
              ctx.setLineDash([]);
              ctx.font = `600 ${theme.fontSize * ratio}px ${theme.fontFamily}`;
              const text = target.label;
              const textWidth = ctx.measureText(text).width;
              const pad = 3 * ratio;
              const right = left + plotWidth - pad;
              ctx.fillStyle = theme.background;
              ctx.fillRect(right - textWidth - pad, y - 16 * ratio, textWidth + 2 * pad, 14 * ratio);
              ctx.fillStyle = theme.target;
              ctx.textAlign = "right";
              ctx.textBaseline = "bottom";
              ctx.fillText(text, right, y - 3 * ratio);
              ctx.restore();
            },
          ],
        }
      : {},
  };
  const data: uPlot.AlignedData = [spec.dates.map((_, i) => i), spec.values];
  return { options, data };
}

const DAY_SECONDS = 86_400;

function levelLine(spec: LevelLineSpec, theme: Theme, width: number, height: number) {
  const options: uPlot.Options = {
    ...BASE,
    width,
    height,
    // uPlot counts time in seconds.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), spec.timeZone),
    scales: {
      x: { time: true, range: () => [spec.from / 1000, spec.to / 1000] },
      y: { range: () => [0, 100] },
    },
    axes: [
      {
        ...axisStyle(theme),
        space: 48,
        values: (_u, splits, _axis, _space, incr) =>
          splits.map((s) => spec.formatTime(s * 1000, incr < DAY_SECONDS)),
      },
      {
        ...axisStyle(theme),
        incrs: [25, 50],
        size: fitLabels(theme),
        values: (_u, splits) => splits.map((v) => spec.formatValue(v)),
      },
    ],
    series: [
      {},
      {
        stroke: theme.line,
        width: 2,
        // #rrggbb + alpha: a light wash under the line.
        fill: /^#[0-9a-f]{6}$/i.test(theme.line) ? `${theme.line}33` : undefined,
        // Dots only while there are few readings: then each one is visible on its own.
        points: { show: spec.times.length <= 40, size: 6, fill: theme.line },
      },
    ],
  };
  const data: uPlot.AlignedData = [spec.times.map((t) => t / 1000), spec.values];
  return { options, data };
}

export function drawChart(el: HTMLElement, spec: ChartSpec, width: number, height: number): DrawnChart {
  const theme = themeOf(el);
  const { options, data } =
    spec.kind === "daily-bars"
      ? dailyBars(spec, theme, width, height)
      : levelLine(spec, theme, width, height);
  const chart = new uPlot(options, data, el);
  return {
    resize(next) {
      if (next > 0 && next !== chart.width) chart.setSize({ width: next, height });
    },
    destroy() {
      chart.destroy();
    },
  };
}
