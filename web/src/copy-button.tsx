/**
 * Copying credentials and secrets into a device's configuration. On a home network the UI is usually
 * served over plain HTTP, where browsers have no Clipboard API; the older copy command still copies a
 * selection, so the text is put in a hidden textarea and selected for it.
 */
import { useState } from "preact/hooks";
import { localized } from "./i18n";

const T = localized({
  en: {
    copy: "Copy",
    copyWhat: (what: string) => `Copy ${what}`,
    copied: "Copied.",
    copyByHand:
      "Could not copy it: select the text and copy it yourself (Ctrl+C, ⌘C, or press and hold on a phone).",
  },
  ja: {
    copy: "コピー",
    copyWhat: (what: string) => `${what}をコピー`,
    copied: "コピーしました。",
    copyByHand:
      "コピーできませんでした。テキストを選択して自分でコピーしてください（Ctrl+C、⌘C、スマートフォンでは長押し）。",
  },
});

/** Puts `text` on the clipboard; false if the browser let neither way work. */
export async function copyText(text: string): Promise<boolean> {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Not allowed here (a permission, an unfocused page): the selection below may still work.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  // Off-screen rather than hidden: a hidden element cannot be selected.
  area.style.position = "fixed";
  area.style.left = "-9999px";
  document.body.append(area);
  const focused = document.activeElement as HTMLElement | null;
  area.select();
  try {
    return document.execCommand("copy");
  } finally {
    area.remove();
    focused?.focus();
  }
}

/** A Copy button for one value; `what` names it for screen readers ("Copy password"). */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState("");
  async function copy() {
    setState(""); // so that copying again is announced again
    setState((await copyText(text)) ? T.copied : T.copyByHand);
  }
  return (
    <span class="copy">
      <button type="button" class="small" aria-label={T.copyWhat(what)} onClick={copy}>
        {T.copy}
      </button>
      <span role="status" class="muted">
        {state}
      </span>
    </span>
  );
}
