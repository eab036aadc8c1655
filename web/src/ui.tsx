import type { ComponentChildren } from "preact";

interface FieldProps {
  id: string;
  label: string;
  type?: "text" | "password";
  value: string;
  onInput: (value: string) => void;
  autoComplete?: string;
  minLength?: number;
  maxLength?: number;
  hint?: string;
  disabled?: boolean;
}

/** A labelled text input. */
export function Field(props: FieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  const common = {
    id: props.id,
    name: props.id,
    value: props.value,
    onInput: (e: { currentTarget: HTMLInputElement }) => props.onInput(e.currentTarget.value),
    autoComplete: props.autoComplete,
    minLength: props.minLength,
    maxLength: props.maxLength,
    "aria-describedby": hintId,
    disabled: props.disabled,
    required: true,
    autoCapitalize: "off" as const,
    spellcheck: false,
  };
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.type === "password" ? <input type="password" {...common} /> : <input type="text" {...common} />}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/** A field's own error, shown under it; point the field's aria-describedby at `id`. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <small id={id} class="field-error">
      {message}
    </small>
  );
}

/** aria-describedby for a field with a hint and maybe an error. */
export const describedBy = (...ids: Array<string | false | undefined>) =>
  ids.filter(Boolean).join(" ") || undefined;

/** An error message, announced by screen readers. Renders nothing when there is no message. */
export function ErrorAlert({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="alert" role="alert">
      {message}
    </p>
  );
}

export function Panel({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="panel" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
