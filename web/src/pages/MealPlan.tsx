import { useCallback, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api } from "../api";
import type { Feeder, Schedule, ScheduleInput, Weekday } from "../api-types";
import { formatNumber } from "../dates";
import { intlLocale, localized } from "../i18n";
import { feedersHref } from "../routes";
import { complaintsByField, isWholeNumber, SaveActions, useSaveForm } from "../save-form";
import { describedBy, ErrorAlert, FieldError } from "../ui";
import { useLoad } from "../use-load";
import { FeederLinks } from "./FeederLinks";
import { MealCalendar } from "./MealCalendar";
import { OneOffPanel, PausePanel } from "./MealPlanExtras";

const WEEKDAYS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const T = localized({
  en: {
    back: "← All feeders",
    title: "Meal plan",
    titleFor: (name: string) => `Meal plan: ${name}`,
    loading: "Loading the meal plan…",
    readOnly: "You can see this meal plan; an owner or member changes it.",
    settings: "Plan",
    timezone: "Time zone",
    serverDefault: "Server default",
    serverDefaultIs: (zone: string) => `Server default (${zone})`,
    otherZones: "Other",
    /** The first part of the IANA zone names, as the picker groups them. */
    regions: {
      Africa: "Africa",
      America: "America",
      Antarctica: "Antarctica",
      Arctic: "Arctic",
      Asia: "Asia",
      Atlantic: "Atlantic",
      Australia: "Australia",
      Europe: "Europe",
      Indian: "Indian",
      Pacific: "Pacific",
    } satisfies Record<string, string>,
    /** Between two sentences of a hint. */
    gap: " ",
    thisDevice: (zone: string) => `This device is set to ${zone}.`,
    dstRule:
      "Meals are evaluated in the feeder's time zone. A meal in the hour skipped when clocks spring forward runs once, at the first valid minute after the gap; a meal in the hour repeated when clocks fall back runs once, at the first of the two.",
    grace: "Grace minutes",
    graceHint:
      "If the server was down at meal time, the meal is still fed when the server is back within this many minutes; later, it is recorded as missed and you get an alert.",
    meals: "Meals",
    noMeals: "No meals planned. Add one below.",
    meal: (n: number) => `Meal ${n}`,
    time: "Time",
    portions: "Portions",
    portionsHint: (max: number) => `1 to ${formatNumber(max)}`,
    label: "Label",
    labelPlaceholder: "e.g. Breakfast",
    days: "Days",
    enabled: "Enabled",
    remove: "Remove",
    removeMeal: (n: number) => `Remove meal ${n}`,
    addMeal: "Add meal",
    save: "Save plan",
    notANumber: "Enter a whole number.",
  },
  ja: {
    back: "← すべての給餌器",
    title: "給餌プラン",
    titleFor: (name: string) => `給餌プラン: ${name}`,
    loading: "給餌プランを読み込み中…",
    readOnly: "この給餌プランは閲覧のみです。変更はオーナーかメンバーが行います。",
    settings: "プラン",
    timezone: "タイムゾーン",
    serverDefault: "サーバーの既定",
    serverDefaultIs: (zone: string) => `サーバーの既定（${zone}）`,
    otherZones: "その他",
    regions: {
      Africa: "アフリカ",
      America: "アメリカ",
      Antarctica: "南極",
      Arctic: "北極",
      Asia: "アジア",
      Atlantic: "大西洋",
      Australia: "オーストラリア",
      Europe: "ヨーロッパ",
      Indian: "インド洋",
      Pacific: "太平洋",
    },
    gap: "",
    thisDevice: (zone: string) => `この端末のタイムゾーンは ${zone} です。`,
    dstRule:
      "食事の時刻は給餌器のタイムゾーンで判定します。夏時間の開始で時計が進み、飛ばされる1時間に入る食事は、その直後の最初の有効な時刻に1回だけ給餌します。夏時間の終了で時計が戻り、2回繰り返される1時間に入る食事は、1回目にだけ給餌します。",
    grace: "猶予時間（分）",
    graceHint:
      "食事の時刻にサーバーが停止していても、この分数以内に復旧すれば給餌します。それより遅れた場合は未実施として記録され、アラートでお知らせします。",
    meals: "食事",
    noMeals: "予定の食事はありません。下で追加してください。",
    meal: (n: number) => `食事 ${n}`,
    time: "時刻",
    portions: "杯数",
    portionsHint: (max: number) => `1〜${formatNumber(max)} 杯`,
    label: "ラベル",
    labelPlaceholder: "例: 朝ごはん",
    days: "曜日",
    enabled: "有効",
    remove: "削除",
    removeMeal: (n: number) => `食事 ${n} を削除`,
    addMeal: "食事を追加",
    save: "プランを保存",
    notANumber: "整数を入力してください。",
  },
});

/** The weekdays' short names in the UI's language ("Mon", "月"), in WEEKDAYS order. */
function weekdayNames(): Record<Weekday, string> {
  const format = new Intl.DateTimeFormat(intlLocale(), { weekday: "short", timeZone: "UTC" });
  // 2024-01-01 was a Monday.
  return Object.fromEntries(
    WEEKDAYS.map((day, i) => [day, format.format(new Date(Date.UTC(2024, 0, 1 + i)))]),
  ) as Record<Weekday, string>;
}

/** How the zone picker names a group: the region in the UI's language, "" being the zones without one. */
function regionName(region: string): string {
  if (region === "") return T.otherZones;
  return Object.hasOwn(T.regions, region) ? T.regions[region as keyof typeof T.regions] : region;
}

interface DraftMeal {
  /** Identifies the row while editing; new meals have no server id yet. */
  key: number;
  id: string | undefined;
  time: string;
  days: Weekday[];
  /** As typed, so a half-typed number is never replaced under the user's fingers. */
  portions: string;
  label: string;
  enabled: boolean;
}

interface Draft {
  /** "" = the server's zone. */
  timezone: string;
  graceMinutes: string;
  meals: DraftMeal[];
}

/** Field errors by "timezone", "graceMinutes", "meals" or "<row key>.<field>". */
type FieldErrors = Partial<Record<string, string>>;

let nextKey = 1;

function toDraft(schedule: Schedule): Draft {
  return {
    timezone: schedule.timezone ?? "",
    graceMinutes: String(schedule.graceMinutes),
    meals: schedule.meals.map((m) => ({ ...m, key: nextKey++, portions: String(m.portions) })),
  };
}

function newMeal(): DraftMeal {
  return {
    key: nextKey++,
    id: undefined,
    time: "08:00",
    days: [...WEEKDAYS],
    portions: "1",
    label: "",
    enabled: true,
  };
}

function toInput(draft: Draft): ScheduleInput {
  return {
    timezone: draft.timezone || null,
    graceMinutes: Number(draft.graceMinutes),
    meals: draft.meals.map((m) => ({
      ...(m.id !== undefined && { id: m.id }),
      time: m.time,
      days: WEEKDAYS.filter((d) => m.days.includes(d)),
      portions: Number(m.portions),
      label: m.label,
      enabled: m.enabled,
    })),
  };
}

/** Only what the server cannot be sent at all; every rule about values is the server's to state. */
function localErrors(draft: Draft): FieldErrors {
  const errors: FieldErrors = {};
  if (!isWholeNumber(draft.graceMinutes)) errors.graceMinutes = T.notANumber;
  for (const m of draft.meals) if (!isWholeNumber(m.portions)) errors[`${m.key}.portions`] = T.notANumber;
  return errors;
}

/** Ties each server complaint ("meals.1.portions") to the row it was about when the plan was sent. */
function fieldErrorsFrom(err: unknown, sent: Draft): FieldErrors {
  return complaintsByField(err, (path) => {
    const [first, index, field] = path.split(".");
    const row = first === "meals" && index !== undefined ? sent.meals[Number(index)] : undefined;
    return row && field ? `${row.key}.${field}` : (first ?? "");
  });
}

/** How the summary names a complaint's path. */
function labelOf(path: string): string {
  const [first, index] = path.split(".");
  if (first === "meals" && index !== undefined && /^\d+$/.test(index)) return T.meal(Number(index) + 1);
  if (path === "meals") return T.meals;
  return first === "graceMinutes" ? T.grace : first === "timezone" ? T.timezone : path;
}

function zoneGroups(): Map<string, string[]> | null {
  if (typeof Intl.supportedValuesOf !== "function") return null;
  const zones = Intl.supportedValuesOf("timeZone");
  if (!zones.includes("UTC")) zones.push("UTC");
  const groups = new Map<string, string[]>();
  for (const zone of zones) {
    const region = zone.includes("/") ? (zone.split("/")[0] ?? "") : "";
    groups.set(region, [...(groups.get(region) ?? []), zone]);
  }
  return groups;
}

function ZoneField({
  value,
  saved,
  error,
  disabled,
  onInput,
}: {
  value: string;
  saved: Schedule;
  error: string | undefined;
  disabled: boolean;
  onInput: (zone: string) => void;
}) {
  const [groups] = useState(zoneGroups);
  const known = groups && [...groups.values()].some((zones) => zones.includes(value));
  const deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const errorId = error ? "plan-timezone-error" : undefined;
  const common = {
    id: "plan-timezone",
    "aria-describedby": describedBy("plan-timezone-hint", errorId),
    "aria-invalid": error ? true : undefined,
    disabled,
  };
  return (
    <div class="field">
      <label for="plan-timezone">{T.timezone}</label>
      {groups ? (
        <select {...common} value={value} onChange={(e) => onInput(e.currentTarget.value)}>
          <option value="">
            {saved.timezone === null ? T.serverDefaultIs(saved.effectiveTimezone) : T.serverDefault}
          </option>
          {value && !known && <option value={value}>{value}</option>}
          {[...groups].map(([region, zones]) => (
            <optgroup key={region} label={regionName(region)}>
              {zones.map((zone) => (
                <option key={zone} value={zone}>
                  {zone}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      ) : (
        <input
          {...common}
          type="text"
          value={value}
          placeholder={saved.effectiveTimezone}
          autoCapitalize="off"
          spellcheck={false}
          onInput={(e) => onInput(e.currentTarget.value.trim())}
        />
      )}
      <FieldError id="plan-timezone-error" message={error} />
      <small id="plan-timezone-hint" class="hint">
        {T.dstRule}
        {deviceZone && T.gap + T.thisDevice(deviceZone)}
      </small>
    </div>
  );
}

interface RowProps {
  meal: DraftMeal;
  n: number;
  maxPortions: number;
  errors: FieldErrors;
  autoFocus: boolean;
  disabled: boolean;
  onChange: (meal: DraftMeal) => void;
  /** Absent when the plan is read-only. */
  onRemove?: () => void;
}

function MealRow({ meal, n, maxPortions, errors, autoFocus, disabled, onChange, onRemove }: RowProps) {
  const timeRef = useRef<HTMLInputElement>(null);
  // Before the next paint: a focus that lands later would pull the caret out of a field the user went on to.
  useLayoutEffect(() => {
    if (autoFocus) timeRef.current?.focus();
  }, [autoFocus]);
  const id = (field: string) => `meal-${meal.key}-${field}`;
  const err = (field: string) => errors[`${meal.key}.${field}`];
  const errId = (field: string) => (err(field) ? id(`${field}-error`) : undefined);
  const set = (patch: Partial<DraftMeal>) => onChange({ ...meal, ...patch });
  const dayNames = weekdayNames();
  const toggleDay = (day: Weekday, on: boolean) =>
    set({ days: on ? [...meal.days, day] : meal.days.filter((d) => d !== day) });

  return (
    <fieldset class={meal.enabled ? "meal-row" : "meal-row off"} disabled={disabled}>
      <legend>{T.meal(n)}</legend>
      <div class="meal-grid">
        <div class="field">
          <label for={id("time")}>{T.time}</label>
          <input
            ref={timeRef}
            id={id("time")}
            type="time"
            value={meal.time}
            required
            aria-invalid={err("time") ? true : undefined}
            aria-describedby={describedBy("plan-timezone-hint", errId("time"))}
            onInput={(e) => set({ time: e.currentTarget.value })}
          />
          <FieldError id={id("time-error")} message={err("time")} />
        </div>
        <div class="field">
          <label for={id("portions")}>{T.portions}</label>
          <input
            id={id("portions")}
            type="number"
            inputMode="numeric"
            min={1}
            max={maxPortions}
            step={1}
            value={meal.portions}
            aria-invalid={err("portions") ? true : undefined}
            aria-describedby={describedBy(id("portions-hint"), errId("portions"))}
            onInput={(e) => set({ portions: e.currentTarget.value })}
          />
          <small id={id("portions-hint")} class="hint">
            {T.portionsHint(maxPortions)}
          </small>
          <FieldError id={id("portions-error")} message={err("portions")} />
        </div>
        <div class="field meal-label">
          <label for={id("label")}>{T.label}</label>
          <input
            id={id("label")}
            type="text"
            value={meal.label}
            maxLength={40}
            placeholder={T.labelPlaceholder}
            aria-invalid={err("label") ? true : undefined}
            aria-describedby={errId("label")}
            onInput={(e) => set({ label: e.currentTarget.value })}
          />
          <FieldError id={id("label-error")} message={err("label")} />
        </div>
      </div>
      <fieldset class="days" aria-describedby={errId("days")}>
        <legend>{T.days}</legend>
        {WEEKDAYS.map((day) => (
          <label key={day} class="day">
            <input
              type="checkbox"
              checked={meal.days.includes(day)}
              onChange={(e) => toggleDay(day, e.currentTarget.checked)}
            />
            <span>{dayNames[day]}</span>
          </label>
        ))}
      </fieldset>
      <FieldError id={id("days-error")} message={err("days")} />
      <div class="meal-actions">
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            checked={meal.enabled}
            aria-checked={meal.enabled}
            onChange={(e) => set({ enabled: e.currentTarget.checked })}
          />
          <span>{T.enabled}</span>
        </label>
        {onRemove && (
          <button type="button" aria-label={T.removeMeal(n)} onClick={onRemove}>
            {T.remove}
          </button>
        )}
      </div>
    </fieldset>
  );
}

function PlanForm({
  feeder,
  saved,
  readOnly,
  onSaved,
  onUnauthorized,
}: {
  feeder: Feeder;
  saved: Schedule;
  readOnly: boolean;
  onSaved: (schedule: Schedule) => void;
  onUnauthorized: () => void;
}) {
  const form = useSaveForm({
    saved,
    toDraft,
    toInput,
    localErrors,
    send: async (draft) => (await api.saveSchedule(feeder.id, toInput(draft))).schedule,
    fieldErrorsFrom,
    labelOf,
    onSaved,
    onUnauthorized,
  });
  const { draft, edit, busy, fieldErrors } = form;
  const [focusKey, setFocusKey] = useState<number | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);
  const maxPortions = Math.max(1, Math.floor(feeder.maxPortions));

  const editMeal = (meal: DraftMeal) => {
    const before = draft.meals.find((m) => m.key === meal.key);
    const changed = before
      ? (Object.keys(meal) as Array<keyof DraftMeal>).filter((k) => meal[k] !== before[k])
      : [];
    edit(
      { ...draft, meals: draft.meals.map((m) => (m.key === meal.key ? meal : m)) },
      ...changed.map((f) => `${meal.key}.${f}`),
    );
  };

  const locked = busy || readOnly;

  return (
    <section class="panel" aria-labelledby="plan-settings-title">
      <h3 id="plan-settings-title">{T.settings}</h3>
      <form onSubmit={form.save} noValidate>
        <ZoneField
          value={draft.timezone}
          saved={saved}
          error={fieldErrors.timezone}
          disabled={locked}
          onInput={(timezone) => edit({ ...draft, timezone }, "timezone")}
        />
        <div class="field">
          <label for="plan-grace">{T.grace}</label>
          <input
            id="plan-grace"
            class="narrow"
            type="number"
            inputMode="numeric"
            min={0}
            max={180}
            step={1}
            value={draft.graceMinutes}
            aria-invalid={fieldErrors.graceMinutes ? true : undefined}
            aria-describedby={describedBy("plan-grace-hint", fieldErrors.graceMinutes && "plan-grace-error")}
            disabled={locked}
            onInput={(e) => edit({ ...draft, graceMinutes: e.currentTarget.value }, "graceMinutes")}
          />
          <FieldError id="plan-grace-error" message={fieldErrors.graceMinutes} />
          <small id="plan-grace-hint" class="hint">
            {T.graceHint}
          </small>
        </div>
        <h4>{T.meals}</h4>
        {draft.meals.length === 0 && <p class="muted">{T.noMeals}</p>}
        {draft.meals.map((meal, i) => (
          <MealRow
            key={meal.key}
            meal={meal}
            n={i + 1}
            maxPortions={maxPortions}
            errors={fieldErrors}
            autoFocus={meal.key === focusKey}
            disabled={locked}
            onChange={editMeal}
            onRemove={
              readOnly
                ? undefined
                : () => {
                    edit({ ...draft, meals: draft.meals.filter((m) => m.key !== meal.key) });
                    addButton.current?.focus(); // the focused row is gone; stay in the form
                  }
            }
          />
        ))}
        <FieldError id="plan-meals-error" message={fieldErrors.meals} />
        {readOnly ? (
          <p class="hint" data-testid="plan-read-only">
            {T.readOnly}
          </p>
        ) : (
          <SaveActions form={form} label={T.save}>
            <button
              type="button"
              ref={addButton}
              disabled={locked}
              onClick={() => {
                const meal = newMeal();
                setFocusKey(meal.key);
                edit({ ...draft, meals: [...draft.meals, meal] });
              }}
            >
              {T.addMeal}
            </button>
          </SaveActions>
        )}
      </form>
    </section>
  );
}

interface Props {
  feederId: string;
  /** Owners and members change the plan; sitters only see it. */
  canEdit: boolean;
  onUnauthorized: () => void;
}

export function MealPlan({ feederId, canEdit, onUnauthorized }: Props) {
  const [feeder, setFeeder] = useState<Feeder | null>(null);
  const [saved, setSaved] = useState<Schedule | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [calendarKey, setCalendarKey] = useState(0);

  useLoad(
    {
      fetch: (signal) => Promise.all([api.feeder(feederId, signal), api.schedule(feederId, signal)]),
      onData: ([f, s]) => {
        setFeeder(f.feeder);
        setSaved(s.schedule);
      },
      onError: setLoadError,
      onUnauthorized,
    },
    [feederId, onUnauthorized],
  );

  const onChanged = useCallback((schedule: Schedule) => {
    setSaved(schedule);
    setCalendarKey((k) => k + 1);
  }, []);

  return (
    <>
      <p class="back">
        <a href={feedersHref}>{T.back}</a>
      </p>
      <h2 tabIndex={-1}>{feeder ? T.titleFor(feeder.name) : T.title}</h2>
      {feeder && <FeederLinks feeder={feeder} pages={["history"]} />}
      <ErrorAlert message={loadError} />
      {!loadError && !saved && <p class="muted">{T.loading}</p>}
      {feeder && saved && (
        <>
          <PlanForm
            feeder={feeder}
            saved={saved}
            readOnly={!canEdit}
            onSaved={onChanged}
            onUnauthorized={onUnauthorized}
          />
          <MealCalendar
            feederId={feederId}
            canEdit={canEdit}
            timeZone={saved.effectiveTimezone}
            refreshKey={calendarKey}
            onUnauthorized={onUnauthorized}
          />
          {canEdit && (
            <OneOffPanel
              feeder={feeder}
              schedule={saved}
              onChanged={onChanged}
              onUnauthorized={onUnauthorized}
            />
          )}
          {canEdit && (
            <PausePanel
              feeder={feeder}
              schedule={saved}
              onChanged={onChanged}
              onUnauthorized={onUnauthorized}
            />
          )}
        </>
      )}
    </>
  );
}
