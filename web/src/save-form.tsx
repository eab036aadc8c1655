import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { errorDetails, errorMessage, isUnauthorized } from "./api";
import { localized } from "./i18n";
import { ErrorAlert } from "./ui";

const T = localized({
  en: {
    saving: "Saving…",
    saved: "Saved.",
    unsaved: "Unsaved changes.",
    notSaved: "Not saved:",
  },
  ja: {
    saving: "保存中…",
    saved: "保存しました。",
    unsaved: "未保存の変更があります。",
    notSaved: "保存できませんでした:",
  },
});

/** Error messages by field; "" for what is about no one field. */
type FieldErrors<K extends string> = Partial<Record<K, string>>;

export const isWholeNumber = (s: string) => /^\s*-?\d+\s*$/.test(s);

/** The server's complaints by the field `keyOf` names for each path; several on one field are joined. */
export function complaintsByField<K extends string>(
  err: unknown,
  keyOf: (path: string) => K,
): FieldErrors<K> {
  const errors: FieldErrors<K> = {};
  for (const { path, message } of errorDetails(err)) {
    const key = keyOf(path);
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  }
  return errors;
}

/** "Not saved: <field>: <complaint>; …", each path named by `labelOf`; or the error's message. */
function notSavedSummary(err: unknown, labelOf: (path: string) => string): string {
  const details = errorDetails(err);
  if (details.length === 0) return `${T.notSaved} ${errorMessage(err)}`;
  return `${T.notSaved} ${details.map((d) => (d.path ? `${labelOf(d.path)}: ${d.message}` : d.message)).join("; ")}`;
}

interface SaveFormOptions<D, S, K extends string> {
  /** What the server has now. */
  saved: S;
  /** The form as typed, for what the server has. */
  toDraft: (saved: S) => D;
  /** What the draft would send; a draft that sends what was saved has no unsaved changes. */
  toInput: (draft: D) => unknown;
  /** Only what cannot be sent at all; every rule about values is the server's to state. */
  localErrors: (draft: D) => FieldErrors<K>;
  send: (draft: D) => Promise<S>;
  /** Each of the server's complaints next to its field, given the draft that was sent. */
  fieldErrorsFrom: (err: unknown, sent: D) => FieldErrors<K>;
  /** How a complaint's path is named in the summary. */
  labelOf: (path: string) => string;
  onSaved: (saved: S) => void;
  onUnauthorized: () => void;
}

/** A form that edits a draft of what the server has and saves it, with the server's complaints per field. */
export function useSaveForm<D, S, K extends string>(options: SaveFormOptions<D, S, K>) {
  const { toDraft, toInput } = options;
  const [draft, setDraft] = useState(() => toDraft(options.saved));
  const [baseline, setBaseline] = useState(() => JSON.stringify(toInput(draft)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors<K>>({});
  const [justSaved, setJustSaved] = useState(false);
  const dirty = JSON.stringify(toInput(draft)) !== baseline;

  /** Takes the edited draft; the errors of the edited `fields` go, as the user is fixing them. */
  const edit = (next: D, ...fields: K[]) => {
    setDraft(next);
    setJustSaved(false);
    if (fields.some((f) => fieldErrors[f])) {
      const kept = Object.entries(fieldErrors).filter(([k]) => !(fields as string[]).includes(k));
      setFieldErrors(Object.fromEntries(kept) as FieldErrors<K>);
    }
  };

  async function save(e: Event) {
    e.preventDefault();
    if (busy) return;
    setJustSaved(false);
    const local = options.localErrors(draft);
    if (Object.keys(local).length > 0) {
      setFieldErrors(local);
      setError(`${T.notSaved} ${Object.values(local)[0]}`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const saved = await options.send(draft);
      const next = toDraft(saved);
      setDraft(next);
      setBaseline(JSON.stringify(toInput(next)));
      setFieldErrors({});
      setJustSaved(true);
      options.onSaved(saved);
    } catch (err) {
      if (isUnauthorized(err)) return options.onUnauthorized();
      setFieldErrors(options.fieldErrorsFrom(err, draft));
      setError(notSavedSummary(err, options.labelOf));
    } finally {
      setBusy(false);
    }
  }

  return { draft, edit, save, busy, error, fieldErrors, justSaved, dirty };
}

/** The save button (after `children`), whether the form is saved, and why it is not. */
export function SaveActions({
  form,
  label,
  children,
}: {
  form: { busy: boolean; justSaved: boolean; dirty: boolean; error: string | null };
  label: string;
  children?: ComponentChildren;
}) {
  return (
    <>
      <div class="form-actions">
        {children}
        <button type="submit" class="primary" disabled={form.busy}>
          {form.busy ? T.saving : label}
        </button>
        <span class="save-state" role="status">
          {form.justSaved ? T.saved : form.dirty ? T.unsaved : ""}
        </span>
      </div>
      <ErrorAlert message={form.error} />
    </>
  );
}
