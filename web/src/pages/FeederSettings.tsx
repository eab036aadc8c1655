import { useState } from "preact/hooks";
import { ApiError, api, errorMessage } from "../api";
import type { DeviceProfile, Feeder, FeederChanges, Pet } from "../api-types";
import { localized } from "../i18n";
import { feedersHref, petsHref } from "../routes";
import { complaintsByField, isWholeNumber, SaveActions, useSaveForm } from "../save-form";
import { describedBy, ErrorAlert, FieldError } from "../ui";
import { useLoad } from "../use-load";
import { FeederConnect } from "./FeederConnect";
import { FeederLinks } from "./FeederLinks";

type FieldName = "name" | "petId" | "maxPortions" | "dailyMaxPortions" | "minFeedIntervalSeconds";
const FIELDS = ["name", "petId", "maxPortions", "dailyMaxPortions", "minFeedIntervalSeconds"] as const;
const NUMBER_FIELDS = ["maxPortions", "dailyMaxPortions", "minFeedIntervalSeconds"] as const;

const T = localized({
  en: {
    back: "← All feeders",
    title: "Feeder settings",
    titleFor: (name: string) => `Settings: ${name}`,
    readOnly: "Only an owner can change a feeder's settings.",
    loading: "Loading the settings…",
    feeder: "Feeder",
    /** Each field's label, also naming it in the summary of what was not saved. */
    fields: {
      name: "Name",
      petId: "Pet",
      maxPortions: "Most portions per feed",
      dailyMaxPortions: "Portions per day",
      minFeedIntervalSeconds: "Seconds between remote feeds",
    } satisfies Record<FieldName, string>,
    noPet: "None",
    petHint:
      "The pet this feeder feeds. Its daily intake on the Pets page counts what this feeder dispenses.",
    managePets: "Add or edit pets",
    limits: "Safety limits",
    limitsIntro:
      "Limits guard against feeding too much by mistake: a feed from this app or the API that goes beyond one is refused, with the numbers. An owner can still feed anyway from the feeder's card; that feed is logged. Planned meals are never held back, but a meal plan that plans more portions on one day than the daily limit cannot be saved.",
    maxPortionsHint:
      "1 to 100 (default 10). A single feed may not ask for more; the Feed button offers up to this many.",
    dailyMaxPortionsHint:
      "1 to 1000 (default 40). Counts remote, planned and button feeds together, per day in the feeder's time zone. A failed or expired feed does not count.",
    minFeedIntervalSecondsHint:
      "0 to 86400 (default 60); 0 turns this check off. A remote feed sooner than this after the last one is refused, which catches a double tap or an automation that retries.",
    save: "Save settings",
    notANumber: "Enter a whole number.",
    device: "Device",
    deviceType: "Device type",
    model: "Model",
    deviceKey: "Device id",
  },
  ja: {
    back: "← 給餌器の一覧",
    title: "給餌器の設定",
    titleFor: (name: string) => `${name} の設定`,
    readOnly: "給餌器の設定を変更できるのはオーナーだけです。",
    loading: "設定を読み込み中…",
    feeder: "給餌器",
    fields: {
      name: "名前",
      petId: "ペット",
      maxPortions: "1回の給餌の上限杯数",
      dailyMaxPortions: "1日の上限杯数",
      minFeedIntervalSeconds: "リモート給餌の最短間隔（秒）",
    },
    noPet: "なし",
    petHint:
      "この給餌器が給餌するペットです。ペットのページの1日の摂取量には、この給餌器が出した量が入ります。",
    managePets: "ペットを追加・編集",
    limits: "安全上限",
    limitsIntro:
      "安全上限は、誤って与えすぎるのを防ぎます。このアプリや API からの給餌が上限を超えると、その数値とともに拒否されます。オーナーは給餌器のカードから上限を無視して給餌でき、その給餌は記録に残ります。予定の食事が止められることはありませんが、1日の上限より多い杯数を1日に予定する給餌プランは保存できません。",
    maxPortionsHint:
      "1〜100（既定 10）。1回の給餌でこれより多くは頼めません。「給餌」ボタンではこの杯数まで選べます。",
    dailyMaxPortionsHint:
      "1〜1000（既定 40）。リモート、給餌プラン、本体ボタンの給餌を合わせ、給餌器のタイムゾーンでの1日ごとに数えます。失敗または期限切れの給餌は数えません。",
    minFeedIntervalSecondsHint:
      "0〜86400（既定 60）。0 ならこの確認をしません。前回のリモート給餌からこの秒数がたつ前のリモート給餌は拒否されます。二度押しや、再試行する自動化を防ぎます。",
    save: "設定を保存",
    notANumber: "整数を入力してください。",
    device: "デバイス",
    deviceType: "デバイスの種類",
    model: "モデル",
    deviceKey: "デバイス ID",
  },
});

/** The form as typed: numbers stay strings, so a half-typed value is never replaced under the user's fingers. */
type Draft = Record<FieldName, string>;
type FieldErrors = Partial<Record<FieldName | "", string>>;

function toDraft(feeder: Feeder): Draft {
  return {
    name: feeder.name,
    petId: feeder.petId ?? "",
    maxPortions: String(feeder.maxPortions),
    dailyMaxPortions: String(feeder.dailyMaxPortions),
    minFeedIntervalSeconds: String(feeder.minFeedIntervalSeconds),
  };
}

function toChanges(draft: Draft): FeederChanges {
  return {
    name: draft.name,
    petId: draft.petId || null,
    maxPortions: Number(draft.maxPortions),
    dailyMaxPortions: Number(draft.dailyMaxPortions),
    minFeedIntervalSeconds: Number(draft.minFeedIntervalSeconds),
  };
}

const isField = (path: string): path is FieldName => (FIELDS as readonly string[]).includes(path);

/** Only what cannot be sent at all; every rule about values is the server's to state. */
function localErrors(draft: Draft): FieldErrors {
  const errors: FieldErrors = {};
  for (const field of NUMBER_FIELDS) if (!isWholeNumber(draft[field])) errors[field] = T.notANumber;
  return errors;
}

/** Each complaint next to its field; an unknown pet (422, no details) is the pet field's. */
function fieldErrorsFrom(err: unknown): FieldErrors {
  const errors = complaintsByField(err, (path) => (isField(path) ? path : ""));
  if (err instanceof ApiError && err.code === "unknown_pet") errors.petId = errorMessage(err);
  return errors;
}

/** What the feeder is, which its settings cannot change. Profile names fall back to their ids. */
function DeviceFacts({ feeder, profiles }: { feeder: Feeder; profiles: DeviceProfile[] | null }) {
  const profile = profiles?.find((p) => p.id === feeder.profile);
  const model = profile?.models.find((m) => m.id === feeder.profileModel);
  return (
    <section class="panel" aria-labelledby="settings-device-title" data-testid="device-facts">
      <h3 id="settings-device-title">{T.device}</h3>
      <dl class="facts">
        <div>
          <dt>{T.deviceType}</dt>
          {/* Profile and model names are the profile file's words, not the UI's. */}
          <dd translate={false}>{profile?.name ?? feeder.profile}</dd>
        </div>
        {feeder.profileModel && (
          <div>
            <dt>{T.model}</dt>
            <dd translate={false}>{model?.name ?? feeder.profileModel}</dd>
          </div>
        )}
        {feeder.deviceKey && (
          <div>
            <dt>{T.deviceKey}</dt>
            <dd translate={false}>{feeder.deviceKey}</dd>
          </div>
        )}
      </dl>
      <FeederLinks feeder={feeder} pages={["history", "connections"]} />
    </section>
  );
}

function SettingsForm({
  feeder,
  pets,
  readOnly,
  onSaved,
  onUnauthorized,
}: {
  feeder: Feeder;
  pets: Pet[];
  readOnly: boolean;
  onSaved: (feeder: Feeder) => void;
  onUnauthorized: () => void;
}) {
  const form = useSaveForm({
    saved: feeder,
    toDraft,
    toInput: (draft) => draft,
    localErrors,
    send: async (draft) => (await api.updateFeeder(feeder.id, toChanges(draft))).feeder,
    fieldErrorsFrom,
    labelOf: (path) => (isField(path) ? T.fields[path] : path),
    onSaved,
    onUnauthorized,
  });
  const { draft, busy, fieldErrors } = form;
  const edit = (field: FieldName, value: string) => form.edit({ ...draft, [field]: value }, field);

  const id = (field: FieldName) => `settings-${field}`;
  const errorId = (field: FieldName) => (fieldErrors[field] ? `${id(field)}-error` : undefined);
  const invalid = (field: FieldName) => (fieldErrors[field] ? true : undefined);
  const linkedPetKnown = draft.petId === "" || pets.some((p) => p.id === draft.petId);

  const numberField = (field: (typeof NUMBER_FIELDS)[number], min: number, max: number, hint: string) => (
    <div class="field">
      <label for={id(field)}>{T.fields[field]}</label>
      <input
        id={id(field)}
        class="narrow"
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        step={1}
        value={draft[field]}
        aria-invalid={invalid(field)}
        aria-describedby={describedBy(`${id(field)}-hint`, errorId(field))}
        onInput={(e) => edit(field, e.currentTarget.value)}
      />
      <FieldError id={`${id(field)}-error`} message={fieldErrors[field]} />
      <small id={`${id(field)}-hint`} class="hint">
        {hint}
      </small>
    </div>
  );

  return (
    <form class="panel" onSubmit={form.save} noValidate aria-labelledby="settings-heading">
      <fieldset disabled={busy || readOnly}>
        <legend>{T.feeder}</legend>
        <div class="settings-fields">
          <div class="field">
            <label for={id("name")}>{T.fields.name}</label>
            <input
              id={id("name")}
              type="text"
              value={draft.name}
              maxLength={64}
              aria-invalid={invalid("name")}
              aria-describedby={errorId("name")}
              onInput={(e) => edit("name", e.currentTarget.value)}
            />
            <FieldError id={`${id("name")}-error`} message={fieldErrors.name} />
          </div>
          <div class="field">
            <label for={id("petId")}>{T.fields.petId}</label>
            <select
              id={id("petId")}
              value={draft.petId}
              aria-invalid={invalid("petId")}
              aria-describedby={describedBy(`${id("petId")}-hint`, errorId("petId"))}
              onChange={(e) => edit("petId", e.currentTarget.value)}
            >
              <option value="">{T.noPet}</option>
              {!linkedPetKnown && <option value={draft.petId}>{draft.petId}</option>}
              {pets.map((pet) => (
                <option key={pet.id} value={pet.id}>
                  {pet.name}
                </option>
              ))}
            </select>
            <FieldError id={`${id("petId")}-error`} message={fieldErrors.petId} />
            <small id={`${id("petId")}-hint`} class="hint">
              {T.petHint} <a href={petsHref}>{T.managePets}</a>
            </small>
          </div>
        </div>
      </fieldset>
      <fieldset disabled={busy || readOnly} aria-describedby="settings-limits-intro">
        <legend>{T.limits}</legend>
        <p id="settings-limits-intro" class="hint settings-intro">
          {T.limitsIntro}
        </p>
        <div class="settings-fields">
          {numberField("maxPortions", 1, 100, T.maxPortionsHint)}
          {numberField("dailyMaxPortions", 1, 1000, T.dailyMaxPortionsHint)}
          {numberField("minFeedIntervalSeconds", 0, 86_400, T.minFeedIntervalSecondsHint)}
        </div>
      </fieldset>
      <FieldError id="settings-error" message={fieldErrors[""]} />
      {readOnly ? (
        <p class="hint" data-testid="settings-read-only">
          {T.readOnly}
        </p>
      ) : (
        <SaveActions form={form} label={T.save} />
      )}
    </form>
  );
}

export function FeederSettings({
  feederId,
  canEdit,
  onUnauthorized,
}: {
  feederId: string;
  /** Only owners change settings; the others see them. */
  canEdit: boolean;
  onUnauthorized: () => void;
}) {
  const [feeder, setFeeder] = useState<Feeder | null>(null);
  const [pets, setPets] = useState<Pet[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [profiles, setProfiles] = useState<DeviceProfile[] | null>(null);

  useLoad(
    {
      fetch: (signal) => Promise.all([api.feeder(feederId, signal), api.pets(signal)]),
      onData: ([f, p]) => {
        setFeeder(f.feeder);
        setPets(p.pets);
      },
      onError: setLoadError,
      onUnauthorized,
    },
    [feederId, onUnauthorized],
  );

  // Only names for the device facts: without them the ids are shown, so a failure is not worth a word.
  useLoad(
    {
      fetch: (signal) => api.profiles(signal),
      onData: (res) => setProfiles(res.profiles),
      onError: () => {},
      onUnauthorized,
    },
    [onUnauthorized],
  );

  return (
    <>
      <p class="back">
        <a href={feedersHref}>{T.back}</a>
      </p>
      <h2 id="settings-heading" tabIndex={-1}>
        {feeder ? T.titleFor(feeder.name) : T.title}
      </h2>
      <ErrorAlert message={loadError} />
      {!loadError && !(feeder && pets) && <p class="muted">{T.loading}</p>}
      {feeder && <DeviceFacts feeder={feeder} profiles={profiles} />}
      {feeder && <FeederConnect feeder={feeder} canIssue={canEdit} onUnauthorized={onUnauthorized} />}
      {feeder && pets && (
        <SettingsForm
          feeder={feeder}
          pets={pets}
          readOnly={!canEdit}
          onSaved={setFeeder}
          onUnauthorized={onUnauthorized}
        />
      )}
    </>
  );
}
