/**
 * Charts, drawn by uPlot on a canvas. uPlot (about 20 KB gzipped) is loaded with the first chart shown, not
 * with the app: this module only holds the box it draws in, and the legend. A chart is a picture of numbers the
 * page also gives in words (`label`, and a table or sentence next to it), so it is an image to screen readers,
 * and the page still says everything when the chart cannot be loaded.
 *
 * Pages pass every word and number format in their own language; nothing here speaks one.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { DrawnChart } from "./draw";

/** Grams per day as bars, oldest day first, with a daily target as a dashed, labelled line. */
export interface DailyBarsSpec {
  kind: "daily-bars";
  /** YYYY-MM-DD, oldest first. */
  dates: string[];
  /** One per date; null: unknown (no bar). */
  values: Array<number | null>;
  target: { value: number; label: string } | null;
  formatDate: (date: string) => string;
  formatValue: (value: number) => string;
}

/** A level from 0 to 100 % over time, e.g. the food left in a feeder. */
export interface LevelLineSpec {
  kind: "level-line";
  /** Epoch milliseconds, oldest first. */
  times: number[];
  /** 0–100, one per time. */
  values: number[];
  /** The period the x axis spans, epoch milliseconds. */
  from: number;
  to: number;
  /** The zone ticks fall on (local midnights) and are written in. */
  timeZone: string;
  /** An axis tick: the date, or the time of day when ticks are less than a day apart. */
  formatTime: (epochMs: number, timeOfDay: boolean) => string;
  formatValue: (value: number) => string;
}

export type ChartSpec = DailyBarsSpec | LevelLineSpec;

type DrawModule = typeof import("./draw");

let drawModule: Promise<DrawModule> | undefined;

/** One download for every chart; after a failure (offline), the next chart tries again. */
function loadDraw(): Promise<DrawModule> {
  drawModule ??= import("./draw").catch((err: unknown) => {
    drawModule = undefined;
    throw err;
  });
  return drawModule;
}

interface ChartProps {
  /** Drawn again whenever this object changes: memoize it on the numbers. */
  spec: ChartSpec;
  /** What the chart shows, for screen readers: what it is and what it says. */
  label: string;
  /** In CSS pixels; the width is the box's. */
  height?: number;
  testId?: string;
}

export function Chart({ spec, label, height = 180, testId }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let chart: DrawnChart | undefined;
    let gone = false;
    const resize = new ResizeObserver(() => chart?.resize(el.clientWidth));
    loadDraw().then(
      ({ drawChart }) => {
        if (gone) return;
        setFailed(false);
        chart = drawChart(el, spec, el.clientWidth, height);
        resize.observe(el);
      },
      () => {
        // The numbers are on the page in words; only the picture is missing.
        if (!gone) setFailed(true);
      },
    );
    return () => {
      gone = true;
      resize.disconnect();
      chart?.destroy();
    };
  }, [spec, height]);

  return (
    <div
      ref={box}
      class="chart"
      role="img"
      aria-label={label}
      data-testid={testId}
      hidden={failed}
      style={{ height: `${height}px` }}
    />
  );
}

export interface LegendItem {
  /** Bars are filled boxes, the target a dashed line, a level a solid line: told apart by shape, not colour. */
  mark: "bar" | "target" | "line";
  label: string;
}

/** The chart's key, in the page's words. */
export function ChartLegend({ items }: { items: LegendItem[] }) {
  return (
    <ul class="chart-legend">
      {items.map((item) => (
        <li key={item.mark}>
          <span class={`swatch swatch-${item.mark}`} aria-hidden="true" />
          {item.label}
        </li>
      ))}
    </ul>
  );
}
