import { useState } from "preact/hooks";
import { api, errorDetails, errorMessage, isUnauthorized } from "../api";
import type { Feeder, OneOffMeal, Schedule } from "../api-types";
import { formatDate, formatNumber, localDate } from "../dates";
import { localized } from "../i18n";
import { describedBy, ErrorAlert, FieldError } from "../ui";

const T = localized({
  en: {
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
    oneOff: (date: string, time: string, label: string) => `${date} ${time}${label ? ` (${label})` : ""}`,
    waiting: "Waiting one-off meals",
    portionsN: (n: number) => `${formatNumber(n)}\u00a0${n === 1 ? "portion" : "portions"}`,
    remove: "Remove",
    removeOneOff: (what: string) => `Remove one-off meal ${what}`,
  },
  ja: {
    pauseTitle: "食事の一時停止（休暇・通院など）",
    pausedFromTo: (from: string, until: string) => `${from}から${until}まで、食事を一時停止しています。`,
    notPaused: "食事は予定どおり給餌します。",
    from: "開始日",
    until: "終了日",
    pauseHint:
      "両日を含み、給餌器のタイムゾーンの日付です。この期間は予定の食事も単発の食事も給餌しません。「今すぐ給餌」は使えます。",
    pause: "食事を一時停止",
    changePause: "一時停止を変更",
    resume: "食事を再開",
    working: "保存中…",
    oneOffTitle: "単発の食事を追加",
    oneOffHint: "給餌器のタイムゾーンで、この日時に1回だけ給餌します。",
    date: "日付",
    time: "時刻",
    portions: "杯数",
    label: "ラベル（任意）",
    addOneOff: "単発の食事を追加",
    added: (what: string) => `追加しました: ${what}`,
    oneOff: (date: string, time: string, label: string) => `${date} ${time}${label ? `（${label}）` : ""}`,
    waiting: "実行待ちの単発の食事",
    portionsN: (n: number) => `${formatNumber(n)}\u00a0杯`,
    remove: "削除",
    removeOneOff: (what: string) => `単発の食事 ${what} を削除`,
  },
});

type FieldErrors = Record<string, string>;

type InputFieldProps = {
  /** The form the field is in: "pause" or "oneoff"; its hint is "<form>-hint". */
  form: string;
  /** The field's name, as in the server's complaints. */
  name: string;
  label: string;
  errors: FieldErrors;
  value: string;
  onValue: (value: string) => void;
} & (
  | { type: "date" | "time" }
  | { type: "text"; maxLength: number }
  | { type: "number"; inputMode: "numeric"; min: number; max: number; step: number }
);

/** The props that place the fields of `form` and show their `errors`. */
const fieldsOf = (form: string, errors: FieldErrors) => (name: string, label: string) => ({
  form,
  name,
  label,
  errors,
});

/** A labelled input with its error under it. */
function InputField({ form, name, label, errors, onValue, ...input }: InputFieldProps) {
  const id = `${form}-${name}`;
  const error = errors[name];
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        {...input}
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(`${form}-hint`, error && `${id}-error`)}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

function fieldErrors(err: unknown): FieldErrors {
  return Object.fromEntries(errorDetails(err).map((d) => [d.path, d.message]));
}

/** Runs one change at a time: busy meanwhile, then the server's complaints, if any, per field. */
function useChange(onUnauthorized: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});

  async function run(change: () => Promise<void>) {
    if (busy) return;
    setBusy(true);
    setError(null);
    setErrors({});
    try {
      await change();
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(fieldErrors(err));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return { busy, error, errors, run };
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
  const { busy, error, errors, run: runChange } = useChange(onUnauthorized);
  const field = fieldsOf("pause", errors);
  const run = (change: () => Promise<{ schedule: Schedule }>) =>
    runChange(async () => onChanged((await change()).schedule));

  const pause = schedule.pause;

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
          <InputField {...field("from", T.from)} type="date" value={from} onValue={setFrom} />
          <InputField {...field("until", T.until)} type="date" value={until} onValue={setUntil} />
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

const describeOneOff = (m: OneOffMeal) => T.oneOff(formatDate(m.date), m.time, m.label);

export function OneOffPanel({ feeder, schedule, onChanged, onUnauthorized }: PanelProps) {
  const [date, setDate] = useState(() => localDate(new Date(), schedule.effectiveTimezone));
  const [time, setTime] = useState("");
  const [portions, setPortions] = useState("1");
  const [label, setLabel] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const maxPortions = Math.max(1, Math.floor(feeder.maxPortions));
  const { busy, error, errors, run: runChange } = useChange(onUnauthorized);
  const field = fieldsOf("oneoff", errors);
  const run = (change: () => Promise<string | null>) =>
    runChange(async () => {
      setNotice(null);
      setNotice(await change());
      onChanged((await api.schedule(feeder.id)).schedule);
    });

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

  const waiting = [...schedule.oneOffs].sort((a, b) =>
    `${a.date} ${a.time}`.localeCompare(`${b.date} ${b.time}`),
  );

  return (
    <section class="panel" aria-labelledby="oneoff-title">
      <h3 id="oneoff-title">{T.oneOffTitle}</h3>
      <form noValidate onSubmit={add}>
        <fieldset class="oneoff-grid" disabled={busy}>
          <legend class="visually-hidden">{T.oneOffTitle}</legend>
          <InputField {...field("date", T.date)} type="date" value={date} onValue={setDate} />
          <InputField {...field("time", T.time)} type="time" value={time} onValue={setTime} />
          <InputField
            {...field("portions", T.portions)}
            type="number"
            inputMode="numeric"
            min={1}
            max={maxPortions}
            step={1}
            value={portions}
            onValue={setPortions}
          />
          <InputField
            {...field("label", T.label)}
            type="text"
            maxLength={40}
            value={label}
            onValue={setLabel}
          />
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
