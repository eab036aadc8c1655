import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorDetails, errorMessage, isUnauthorized } from "../api";
import type { Feeder, IntakeDay, Pet, PetIntake } from "../api-types";
import { Chart, ChartLegend, type DailyBarsSpec } from "../charts/Chart";
import { addDays, formatDate, formatNumber, formatShortDate } from "../dates";
import { localized } from "../i18n";
import { settingsHref } from "../routes";
import { describedBy, ErrorAlert, FieldError } from "../ui";
import { useLoad } from "../use-load";

const REFRESH_MS = 10_000;
const DAYS = 7;
const MAX_NAME = 64;

const g = (n: number) => `${formatNumber(n)}\u00a0g`;

const T = localized({
  en: {
    title: "Pets",
    intro:
      "A pet's intake is what its feeders dispensed: the feeder's measurement, else portions × the feeder's portion size. Only feeds known to have come out count. Link a feeder to a pet in the feeder's settings.",
    loading: "Loading pets…",
    loadingIntake: "Loading the intake…",
    retrying: (message: string) => `Could not load the pets (${message}). Retrying…`,
    none: "No pets yet. Add one below.",
    noneToSee: "No pets yet.",
    target: (grams: number) => `Daily target: ${g(grams)}`,
    noTarget: "No daily target",
    lastDays: "Last 7 days",
    zoneNote: (zone: string) => `Days in ${zone} time.`,
    intakeCaption: (name: string) => `Grams dispensed to ${name} per day, last 7 days`,
    chartLabel: (name: string, target: number | null) =>
      `Bar chart of the grams dispensed to ${name} on each of the last 7 days${target === null ? "" : `, with the daily target of ${g(target)} as a dashed line`}. The same numbers are in the table below.`,
    chartGrams: "Grams dispensed",
    chartTarget: (grams: number) => `Daily target ${g(grams)}`,
    chartTargetShort: (grams: number) => `Target ${g(grams)}`,
    day: "Day",
    dispensed: "Dispensed",
    today: "Today",
    yesterday: "Yesterday",
    ofTarget: (grams: number, target: number, percent: number) =>
      `${g(grams)} of ${g(target)} (${formatNumber(percent)}\u00a0%)`,
    noTargetGrams: (grams: number) => g(grams),
    unknown: (n: number) => `+ ${formatNumber(n)}\u00a0${n === 1 ? "portion" : "portions"} of unknown weight`,
    intakeFailed: (message: string) => `Could not load the intake (${message}).`,
    fedBy: "Fed by:",
    listSeparator: ", ",
    noFeeders: "No feeder is linked to this pet. Choose the pet in a feeder's settings.",
    feederSettings: (name: string) => `Settings for ${name}`,
    edit: "Edit",
    editOne: (name: string) => `Edit ${name}`,
    del: "Delete",
    deleteOne: (name: string) => `Delete ${name}`,
    confirmDelete: (name: string) =>
      `Delete ${name}? Its feeders stay and keep feeding, unlinked; their feed history is kept.`,
    yesDelete: (name: string) => `Yes, delete ${name}`,
    keep: "Keep",
    deleting: "Deleting…",
    name: "Name",
    dailyTarget: "Daily target in grams (optional)",
    targetHint: "Leave empty for no target.",
    save: "Save",
    saving: "Saving…",
    cancel: "Cancel",
    notSaved: "Not saved:",
    notANumber: "Enter a number of grams, or leave it empty.",
    addTitle: "Add a pet",
    add: "Add pet",
    adding: "Adding…",
    added: (name: string) => `Added ${name}.`,
  },
  ja: {
    title: "ペット",
    intro:
      "ペットの摂取量は、その給餌器が出した量です（給餌器の計測値、なければ杯数 × 給餌器の 1 杯の量）。出たことが確かな給餌だけを数えます。ペットと給餌器の紐づけは給餌器の設定で行います。",
    loading: "ペットを読み込み中…",
    loadingIntake: "摂取量を読み込み中…",
    retrying: (message: string) => `ペットを読み込めませんでした（${message}）。再試行しています…`,
    none: "まだペットがいません。下で追加してください。",
    noneToSee: "まだペットがいません。",
    target: (grams: number) => `1日の目標: ${g(grams)}`,
    noTarget: "1日の目標なし",
    lastDays: "過去 7 日間",
    zoneNote: (zone: string) => `日付は ${zone} の時刻で区切っています。`,
    intakeCaption: (name: string) => `${name} に出た 1 日ごとのグラム数（過去 7 日間）`,
    chartLabel: (name: string, target: number | null) =>
      `${name} に出た過去 7 日間の 1 日ごとのグラム数の棒グラフ${target === null ? "" : `（1日の目標 ${g(target)} を破線で表示）`}。同じ数値が下の表にあります。`,
    chartGrams: "給餌量",
    chartTarget: (grams: number) => `1日の目標 ${g(grams)}`,
    chartTargetShort: (grams: number) => `目標 ${g(grams)}`,
    day: "日付",
    dispensed: "給餌量",
    today: "今日",
    yesterday: "昨日",
    ofTarget: (grams: number, target: number, percent: number) =>
      `${g(grams)} / ${g(target)}（${formatNumber(percent)}%）`,
    noTargetGrams: (grams: number) => g(grams),
    unknown: (n: number) => `＋ 重さ不明の ${formatNumber(n)} 杯`,
    intakeFailed: (message: string) => `摂取量を読み込めませんでした（${message}）。`,
    fedBy: "給餌器:",
    listSeparator: "、",
    noFeeders: "このペットに紐づいた給餌器はありません。給餌器の設定でペットを選んでください。",
    feederSettings: (name: string) => `${name} の設定`,
    edit: "編集",
    editOne: (name: string) => `${name} を編集`,
    del: "削除",
    deleteOne: (name: string) => `${name} を削除`,
    confirmDelete: (name: string) =>
      `${name} を削除しますか？ 紐づいた給餌器は残り、紐づけなしで給餌を続けます。給餌の履歴も残ります。`,
    yesDelete: (name: string) => `${name} を削除する`,
    keep: "削除しない",
    deleting: "削除中…",
    name: "名前",
    dailyTarget: "1日の目標（グラム、任意）",
    targetHint: "目標を設けないなら空欄のままにします。",
    save: "保存",
    saving: "保存中…",
    cancel: "キャンセル",
    notSaved: "保存できませんでした:",
    notANumber: "グラム数を入力するか、空欄のままにしてください。",
    addTitle: "ペットを追加",
    add: "追加",
    adding: "追加中…",
    added: (name: string) => `${name} を追加しました。`,
  },
});

type FieldErrors = Record<string, string>;

interface Draft {
  name: string;
  /** As typed; "" = no target. */
  target: string;
}

function fieldErrorsOf(err: unknown): FieldErrors {
  const errors: FieldErrors = {};
  for (const { path, message } of errorDetails(err))
    errors[path] = errors[path] ? `${errors[path]}; ${message}` : message;
  return errors;
}

/** The number to send for a target as typed, or undefined when it is not one. */
function targetOf(typed: string): number | null | undefined {
  if (typed.trim() === "") return null;
  const n = Number(typed);
  return Number.isFinite(n) ? n : undefined;
}

/** Name and target inputs, shared by "Add a pet" and editing one. */
function PetFields({
  idPrefix,
  draft,
  errors,
  onInput,
}: {
  idPrefix: string;
  draft: Draft;
  errors: FieldErrors;
  onInput: (draft: Draft, field: "name" | "dailyGramsTarget") => void;
}) {
  const nameId = `${idPrefix}-name`;
  const targetId = `${idPrefix}-target`;
  return (
    <div class="pet-fields">
      <div class="field">
        <label for={nameId}>{T.name}</label>
        <input
          id={nameId}
          type="text"
          value={draft.name}
          maxLength={MAX_NAME}
          required
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={errors.name ? `${nameId}-error` : undefined}
          onInput={(e) => onInput({ ...draft, name: e.currentTarget.value }, "name")}
        />
        <FieldError id={`${nameId}-error`} message={errors.name} />
      </div>
      <div class="field">
        <label for={targetId}>{T.dailyTarget}</label>
        <input
          id={targetId}
          class="narrow"
          type="number"
          inputMode="decimal"
          min={1}
          step="any"
          value={draft.target}
          aria-invalid={errors.dailyGramsTarget ? true : undefined}
          aria-describedby={describedBy(`${targetId}-hint`, errors.dailyGramsTarget && `${targetId}-error`)}
          onInput={(e) => onInput({ ...draft, target: e.currentTarget.value }, "dailyGramsTarget")}
        />
        <FieldError id={`${targetId}-error`} message={errors.dailyGramsTarget} />
        <small id={`${targetId}-hint`} class="hint">
          {T.targetHint}
        </small>
      </div>
    </div>
  );
}

/** A form's state: the draft, per-field errors and a summary; `submit` sends it when it can be sent. */
function usePetForm(initial: Draft, onUnauthorized: () => void) {
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const onInput = (next: Draft, field: string) => {
    setDraft(next);
    if (errors[field]) setErrors(Object.fromEntries(Object.entries(errors).filter(([k]) => k !== field)));
  };

  async function submit(send: (name: string, target: number | null) => Promise<void>): Promise<boolean> {
    if (busy) return false;
    const target = targetOf(draft.target);
    if (target === undefined) {
      setErrors({ dailyGramsTarget: T.notANumber });
      setError(`${T.notSaved} ${T.notANumber}`);
      return false;
    }
    setBusy(true);
    setError(null);
    try {
      await send(draft.name, target);
      setErrors({});
      return true;
    } catch (err) {
      if (isUnauthorized(err)) {
        onUnauthorized();
        return false;
      }
      setErrors(fieldErrorsOf(err));
      setError(`${T.notSaved} ${errorMessage(err)}`);
      return false;
    } finally {
      setBusy(false);
    }
  }

  return { draft, setDraft, errors, error, busy, onInput, submit };
}

function dayName(date: string, today: string): string {
  if (date === today) return T.today;
  if (date === addDays(today, -1)) return T.yesterday;
  return formatDate(date, "short");
}

function describeDay(day: IntakeDay): string {
  return day.targetGrams !== null && day.percentOfTarget !== null
    ? T.ofTarget(day.grams, day.targetGrams, day.percentOfTarget)
    : T.noTargetGrams(day.grams);
}

/** The week's grams per day against the target, as a picture; the table under it says the same in words. */
function IntakeChart({ pet, intake }: { pet: Pet; intake: PetIntake }) {
  const target = pet.dailyGramsTarget;
  const { days } = intake;
  const spec = useMemo<DailyBarsSpec>(
    () => ({
      kind: "daily-bars",
      dates: days.map((d) => d.date),
      values: days.map((d) => d.grams),
      target: target === null ? null : { value: target, label: T.chartTargetShort(target) },
      formatDate: formatShortDate,
      formatValue: g,
    }),
    // Reloads bring equal numbers in new objects: draw again only when a number changed.
    [days.map((d) => `${d.date}=${d.grams}`).join(), target],
  );
  return (
    <figure class="chart-figure">
      <Chart spec={spec} label={T.chartLabel(pet.name, target)} height={160} testId="intake-chart" />
      <ChartLegend
        items={[
          { mark: "bar", label: T.chartGrams },
          ...(target === null ? [] : [{ mark: "target" as const, label: T.chartTarget(target) }]),
        ]}
      />
    </figure>
  );
}

/**
 * Grams per day as a table: the text says it all, the bar only shows it. With a target the bar is the share of
 * it (full and hatched beyond it); without, the share of the week's largest day.
 */
function IntakeTable({ pet, intake }: { pet: Pet; intake: PetIntake }) {
  const days = [...intake.days].reverse();
  const today = intake.days[intake.days.length - 1]?.date ?? "";
  const weekMax = Math.max(0, ...intake.days.map((d) => d.grams));
  return (
    <>
      <table class="intake" data-testid="intake">
        <caption class="visually-hidden">{T.intakeCaption(pet.name)}</caption>
        <thead class="visually-hidden">
          <tr>
            <th scope="col">{T.day}</th>
            <th scope="col">{T.dispensed}</th>
          </tr>
        </thead>
        <tbody>
          {days.map((day) => {
            const share =
              day.targetGrams !== null && day.targetGrams > 0
                ? day.grams / day.targetGrams
                : weekMax > 0
                  ? day.grams / weekMax
                  : 0;
            const over = day.targetGrams !== null && day.grams > day.targetGrams;
            return (
              <tr key={day.date} data-testid="intake-day" data-date={day.date}>
                <th scope="row">{dayName(day.date, today)}</th>
                <td>
                  <span class="intake-text">{describeDay(day)}</span>
                  {day.unknownPortions > 0 && (
                    <span class="intake-unknown"> {T.unknown(day.unknownPortions)}</span>
                  )}
                  <span class={over ? "bar over" : "bar"} aria-hidden="true">
                    <span class="bar-fill" style={{ width: `${Math.round(Math.min(1, share) * 100)}%` }} />
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="hint">{T.zoneNote(intake.timezone)}</p>
    </>
  );
}

interface CardProps {
  pet: Pet;
  intake: PetIntake | undefined;
  intakeError: string | undefined;
  feeders: Feeder[];
  /** Owners and members edit pets; sitters see them. */
  canEdit: boolean;
  onChanged: (pet: Pet | null) => void;
  onUnauthorized: () => void;
}

function PetCard({ pet, intake, intakeError, feeders, canEdit, onChanged, onUnauthorized }: CardProps) {
  const [mode, setMode] = useState<"view" | "edit" | "delete">("view");
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const form = usePetForm({ name: pet.name, target: "" }, onUnauthorized);
  const titleId = `pet-title-${pet.id}`;
  const fedBy = feeders.filter((f) => f.petId === pet.id);

  useEffect(() => {
    if (mode === "delete") confirmButton.current?.focus();
  }, [mode]);

  function startEdit() {
    form.setDraft({
      name: pet.name,
      target: pet.dailyGramsTarget === null ? "" : String(pet.dailyGramsTarget),
    });
    setMode("edit");
  }

  function backToView(focus: "edit" | "delete") {
    setMode("view");
    // The focused control is gone with the form; put keyboard users back on the button that opened it.
    setTimeout(() => (focus === "edit" ? editButton : deleteButton).current?.focus());
  }

  async function save(e: Event) {
    e.preventDefault();
    const ok = await form.submit(async (name, dailyGramsTarget) => {
      onChanged((await api.updatePet(pet.id, { name, dailyGramsTarget })).pet);
    });
    if (ok) backToView("edit");
  }

  async function remove() {
    if (deleting) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      await api.deletePet(pet.id);
      onChanged(null);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setDeleteError(errorMessage(err));
      setDeleting(false);
    }
  }

  return (
    <article class="card pet" aria-labelledby={titleId} data-testid={`pet-${pet.id}`}>
      <div class="card-head">
        <h3 id={titleId}>{pet.name}</h3>
      </div>
      <p class="muted pet-target">
        {pet.dailyGramsTarget === null ? T.noTarget : T.target(pet.dailyGramsTarget)}
      </p>
      {mode === "edit" ? (
        <form onSubmit={save} noValidate>
          <fieldset class="plain" disabled={form.busy}>
            <legend class="visually-hidden">{T.editOne(pet.name)}</legend>
            <PetFields
              idPrefix={`pet-${pet.id}`}
              draft={form.draft}
              errors={form.errors}
              onInput={form.onInput}
            />
          </fieldset>
          <ErrorAlert message={form.error} />
          <div class="form-actions">
            <button type="submit" class="primary" disabled={form.busy}>
              {form.busy ? T.saving : T.save}
            </button>
            <button type="button" disabled={form.busy} onClick={() => backToView("edit")}>
              {T.cancel}
            </button>
          </div>
        </form>
      ) : (
        <>
          <h4>{T.lastDays}</h4>
          {intakeError && <p class="alert">{intakeError}</p>}
          {intake && <IntakeChart pet={pet} intake={intake} />}
          {intake && <IntakeTable pet={pet} intake={intake} />}
          {!intake && !intakeError && <p class="muted">{T.loadingIntake}</p>}
          {fedBy.length === 0 ? (
            <p class="muted">{T.noFeeders}</p>
          ) : (
            <p class="fed-by">
              {T.fedBy}{" "}
              {fedBy.map((f, i) => (
                <span key={f.id}>
                  {i > 0 && T.listSeparator}
                  <a href={settingsHref(f.id)} aria-label={T.feederSettings(f.name)}>
                    {f.name}
                  </a>
                </span>
              ))}
            </p>
          )}
          {mode === "delete" ? (
            <fieldset class="warn confirm">
              <legend class="visually-hidden">{T.deleteOne(pet.name)}</legend>
              <p>{T.confirmDelete(pet.name)}</p>
              <ErrorAlert message={deleteError} />
              <div class="form-actions">
                <button type="button" class="danger" ref={confirmButton} disabled={deleting} onClick={remove}>
                  {deleting ? T.deleting : T.yesDelete(pet.name)}
                </button>
                <button type="button" disabled={deleting} onClick={() => backToView("delete")}>
                  {T.keep}
                </button>
              </div>
            </fieldset>
          ) : (
            canEdit && (
              <div class="form-actions">
                <button type="button" ref={editButton} aria-label={T.editOne(pet.name)} onClick={startEdit}>
                  {T.edit}
                </button>
                <button
                  type="button"
                  ref={deleteButton}
                  aria-label={T.deleteOne(pet.name)}
                  onClick={() => setMode("delete")}
                >
                  {T.del}
                </button>
              </div>
            )
          )}
        </>
      )}
    </article>
  );
}

function AddPet({ onAdded, onUnauthorized }: { onAdded: (pet: Pet) => void; onUnauthorized: () => void }) {
  const form = usePetForm({ name: "", target: "" }, onUnauthorized);
  const [notice, setNotice] = useState("");

  async function add(e: Event) {
    e.preventDefault();
    setNotice("");
    let added: Pet | undefined;
    const ok = await form.submit(async (name, dailyGramsTarget) => {
      added = (await api.createPet({ name, dailyGramsTarget })).pet;
      onAdded(added);
    });
    if (ok && added) {
      setNotice(T.added(added.name));
      form.setDraft({ name: "", target: "" });
    }
  }

  return (
    <section class="panel" aria-labelledby="add-pet-title">
      <h2 id="add-pet-title">{T.addTitle}</h2>
      <form onSubmit={add} noValidate>
        <fieldset class="plain" disabled={form.busy}>
          <legend class="visually-hidden">{T.addTitle}</legend>
          <PetFields idPrefix="new-pet" draft={form.draft} errors={form.errors} onInput={form.onInput} />
        </fieldset>
        <ErrorAlert message={form.error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={form.busy}>
            {form.busy ? T.adding : T.add}
          </button>
          <span role="status">{notice}</span>
        </div>
      </form>
    </section>
  );
}

interface Loaded {
  pets: Pet[];
  feeders: Feeder[];
  intake: Record<string, PetIntake>;
  intakeErrors: Record<string, string>;
}

/** The pets, the feeders and each pet's intake; a pet whose intake could not be loaded comes with why. */
async function loadPets(signal?: AbortSignal): Promise<Loaded> {
  const [{ pets }, { feeders }] = await Promise.all([api.pets(signal), api.feeders(signal)]);
  const answers = await Promise.allSettled(pets.map((p) => api.petIntake(p.id, DAYS, signal)));
  signal?.throwIfAborted();
  const intake: Record<string, PetIntake> = {};
  const intakeErrors: Record<string, string> = {};
  answers.forEach((answer, i) => {
    const id = pets[i]?.id ?? "";
    if (answer.status === "fulfilled") intake[id] = answer.value;
    else intakeErrors[id] = T.intakeFailed(errorMessage(answer.reason));
  });
  const denied = answers.find((a) => a.status === "rejected" && isUnauthorized(a.reason));
  if (denied?.status === "rejected") throw denied.reason;
  return { pets, feeders, intake, intakeErrors };
}

export function Pets({ canEdit, onUnauthorized }: { canEdit: boolean; onUnauthorized: () => void }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  useLoad(
    {
      fetch: loadPets,
      onData: (loaded) => {
        setData(loaded);
        setError(null);
      },
      onError: (message) => setError(T.retrying(message)),
      onUnauthorized,
    },
    [reloadKey, onUnauthorized],
    REFRESH_MS,
  );

  const reload = useCallback(() => setReloadKey((k) => k + 1), []);

  function changed(id: string, pet: Pet | null) {
    setData(
      (d) =>
        d && {
          ...d,
          pets: pet ? d.pets.map((p) => (p.id === id ? pet : p)) : d.pets.filter((p) => p.id !== id),
        },
    );
    if (!pet) heading.current?.focus(); // the deleted pet's card, and the focus in it, is gone
    reload();
  }

  function added(pet: Pet) {
    setData((d) => d && { ...d, pets: [...d.pets, pet] });
    reload();
  }

  return (
    <>
      <section aria-labelledby="pets-title">
        <h2 id="pets-title" tabIndex={-1} ref={heading}>
          {T.title}
        </h2>
        <p class="hint">{T.intro}</p>
        <ErrorAlert message={error} />
        {data === null && !error && <p class="muted">{T.loading}</p>}
        {data?.pets.length === 0 && <p class="muted">{canEdit ? T.none : T.noneToSee}</p>}
        <div class="cards">
          {data?.pets.map((pet) => (
            <PetCard
              key={pet.id}
              pet={pet}
              intake={data.intake[pet.id]}
              intakeError={data.intakeErrors[pet.id]}
              feeders={data.feeders}
              canEdit={canEdit}
              onChanged={(next) => changed(pet.id, next)}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </div>
      </section>
      {canEdit && <AddPet onAdded={added} onUnauthorized={onUnauthorized} />}
    </>
  );
}
