import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, errorDetails, errorMessage, isUnauthorized } from "../api";
import type { Feeder, OneOffMeal, Schedule } from "../api-types";
import { formatDate, localDate } from "../dates";
import { describedBy, ErrorAlert, FieldError } from "../ui";

// Every string of the pause and one-off panels, for the translations to come.
const T = {
  pauseTitle: "Pause meals (vacation, vet)",
  pausedFromTo: (from: string, until: string) => `Meals are paused from ${from} through ${until}.`,
  notPaused: "Meals run as planned.",
  from: "From",
  until: "Until",
  pauseHint:
    "Both days included, in the feeder's time zone. No planned or one-off meal is fed on these days; Feed now still works.",
  pause: "Pause meals",
  changePause: "Change pause",
  resume: "Resume meals",
  working: "Saving…",
  oneOffTitle: "Add a one-off meal",
  oneOffHint: "Fed once, at this date and time in the feeder's time zone.",
  date: "Date",
  time: "Time",
  portions: "Portions",
  label: "Label (optional)",
  addOneOff: "Add one-off meal",
  added: (what: string) => `Added: ${what}.`,
  waiting: "Waiting one-off meals",
  portionsN: (n: number) => `${n}\u00a0${n === 1 ? "portion" : "portions"}`,
  remove: "Remove",
  removeOneOff: (what: string) => `Remove one-off meal ${what}`,
};

type FieldErrors = Record<string, string>;

function Labelled(props: {
  id: string;
  label: string;
  error: string | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      <FieldError id={`${props.id}-error`} message={props.error} />
    </div>
  );
}

function fieldErrors(err: unknown): FieldErrors {
  return Object.fromEntries(errorDetails(err).map((d) => [d.path, d.message]));
}

interface PanelProps {
  feeder: Feeder;
  schedule: Schedule;
  /** The plan as the server now has it, after a change here. */
  onChanged: (schedule: Schedule) => void;
  onUnauthorized: () => void;
}

export function PausePanel({ feeder, schedule, onChanged, onUnauthorized }: PanelProps) {
  const today = localDate(new Date(), schedule.effectiveTimezone);
  const [from, setFrom] = useState(schedule.pause?.from ?? today);
  const [until, setUntil] = useState(schedule.pause?.until ?? today);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});

  async function run(change: () => Promise<{ schedule: Schedule }>) {
    if (busy) return;
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      onChanged((await change()).schedule);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(fieldErrors(err));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const pause = schedule.pause;
  const dateInput = (id: "from" | "until", value: string, set: (v: string) => void) => (
    <input
      id={`pause-${id}`}
      type="date"
      value={value}
      aria-invalid={errors[id] ? true : undefined}
      aria-describedby={describedBy("pause-hint", errors[id] && `pause-${id}-error`)}
      onInput={(e) => set(e.currentTarget.value)}
    />
  );

  return (
    <section class="panel" aria-labelledby="pause-title">
      <h3 id="pause-title">{T.pauseTitle}</h3>
      {pause ? (
        <div class="paused">
          <p class="warn" data-testid="pause-state">
            {T.pausedFromTo(formatDate(pause.from), formatDate(pause.until))}
          </p>
          <button type="button" disabled={busy} onClick={() => run(() => api.resumeMeals(feeder.id))}>
            {T.resume}
          </button>
        </div>
      ) : (
        <p class="muted" data-testid="pause-state">
          {T.notPaused}
        </p>
      )}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api.pauseMeals(feeder.id, { from, until }));
        }}
      >
        <fieldset class="date-pair" disabled={busy}>
          <legend class="visually-hidden">{T.pauseTitle}</legend>
          <Labelled id="pause-from" label={T.from} error={errors.from}>
            {dateInput("from", from, setFrom)}
          </Labelled>
          <Labelled id="pause-until" label={T.until} error={errors.until}>
            {dateInput("until", until, setUntil)}
          </Labelled>
        </fieldset>
        <small id="pause-hint" class="hint">
          {T.pauseHint}
        </small>
        <ErrorAlert message={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? T.working : pause ? T.changePause : T.pause}
          </button>
        </div>
      </form>
    </section>
  );
}

const describeOneOff = (m: OneOffMeal) => `${formatDate(m.date)} ${m.time}${m.label ? ` (${m.label})` : ""}`;

export function OneOffPanel({ feeder, schedule, onChanged, onUnauthorized }: PanelProps) {
  const [date, setDate] = useState(() => localDate(new Date(), schedule.effectiveTimezone));
  const [time, setTime] = useState("");
  const [portions, setPortions] = useState("1");
  const [label, setLabel] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState<string | null>(null);
  const maxPortions = Math.max(1, Math.floor(feeder.maxPortions));

  async function run(change: () => Promise<string | null>) {
    if (busy) return;
    setBusy(true);
    setError(null);
    setErrors({});
    setNotice(null);
    try {
      setNotice(await change());
      onChanged((await api.schedule(feeder.id)).schedule);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(fieldErrors(err));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const add = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const body = { date, time, portions: Number(portions), ...(label.trim() && { label: label.trim() }) };
      const { oneOff } = await api.addOneOff(feeder.id, body);
      setTime("");
      setLabel("");
      return T.added(describeOneOff(oneOff));
    });
  };

  const aria = (id: string) => ({
    id: `oneoff-${id}`,
    "aria-invalid": errors[id] ? true : undefined,
    "aria-describedby": describedBy("oneoff-hint", errors[id] && `oneoff-${id}-error`),
  });
  const waiting = [...schedule.oneOffs].sort((a, b) =>
    `${a.date} ${a.time}`.localeCompare(`${b.date} ${b.time}`),
  );

  return (
    <section class="panel" aria-labelledby="oneoff-title">
      <h3 id="oneoff-title">{T.oneOffTitle}</h3>
      <form noValidate onSubmit={add}>
        <fieldset class="oneoff-grid" disabled={busy}>
          <legend class="visually-hidden">{T.oneOffTitle}</legend>
          <Labelled id="oneoff-date" label={T.date} error={errors.date}>
            <input
              {...aria("date")}
              type="date"
              value={date}
              onInput={(e) => setDate(e.currentTarget.value)}
            />
          </Labelled>
          <Labelled id="oneoff-time" label={T.time} error={errors.time}>
            <input
              {...aria("time")}
              type="time"
              value={time}
              onInput={(e) => setTime(e.currentTarget.value)}
            />
          </Labelled>
          <Labelled id="oneoff-portions" label={T.portions} error={errors.portions}>
            <input
              {...aria("portions")}
              type="number"
              inputMode="numeric"
              min={1}
              max={maxPortions}
              step={1}
              value={portions}
              onInput={(e) => setPortions(e.currentTarget.value)}
            />
          </Labelled>
          <Labelled id="oneoff-label" label={T.label} error={errors.label}>
            <input
              {...aria("label")}
              type="text"
              maxLength={40}
              value={label}
              onInput={(e) => setLabel(e.currentTarget.value)}
            />
          </Labelled>
        </fieldset>
        <small id="oneoff-hint" class="hint">
          {T.oneOffHint}
        </small>
        <ErrorAlert message={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? T.working : T.addOneOff}
          </button>
          <span role="status">{notice}</span>
        </div>
      </form>
      {waiting.length > 0 && (
        <>
          <h4>{T.waiting}</h4>
          <ul class="oneoffs">
            {waiting.map((m) => (
              <li key={m.id}>
                <span>
                  {describeOneOff(m)} · {T.portionsN(m.portions)}
                </span>
                <button
                  type="button"
                  class="small"
                  aria-label={T.removeOneOff(describeOneOff(m))}
                  disabled={busy}
                  onClick={() =>
                    run(async () => {
                      await api.removeOneOff(feeder.id, m.id);
                      return null;
                    })
                  }
                >
                  {T.remove}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
