/**
 * The UI's languages. Each page keeps its strings next to its code as `localized({ en, ja })`; the
 * object it returns reads the current language on every property access, so render code just says
 * `T.title`. Switching the language re-renders the app (main.tsx remounts the page), which picks up
 * the new strings and number and date formats everywhere at once.
 */

export const LOCALES = ["en", "ja"] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language named in itself, for the switch. */
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", ja: "日本語" };

const STORAGE_KEY = "feedkeeper.locale";

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

function stored(): Locale | undefined {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return isLocale(value) ? value : undefined;
  } catch {
    // Storage may be off (private mode, a locked-down browser): the browser's language decides.
    return undefined;
  }
}

/** The first of the browser's preferred languages that the UI speaks; English when none is. */
export function browserLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (isLocale(base)) return base;
  }
  return "en";
}

let current: Locale = "en";

/** Picks the language at start: the one chosen before in this browser, else the browser's. */
export function initLocale(): Locale {
  current = stored() ?? browserLocale(navigator.languages ?? [navigator.language]);
  document.documentElement.lang = current;
  return current;
}

export function locale(): Locale {
  return current;
}

/** Remembers the choice in this browser; the caller re-renders. */
export function setLocale(next: Locale): void {
  current = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered; the switch still works until the page is reloaded.
  }
}

/**
 * The tag for Intl formats: an English speaker keeps their region's formats (en-GB dates stay day-first),
 * anyone else who chose English gets plain `en`.
 */
export function intlLocale(): string {
  if (current === "ja") return "ja-JP";
  const preferred = typeof navigator === "undefined" ? undefined : navigator.language;
  return preferred?.toLowerCase().startsWith("en") ? preferred : "en";
}

/** A page's strings in every language; `ja` must have exactly the shape of `en` (checked by tsc). */
export function localized<S extends object>(strings: { en: S; ja: NoInfer<S> }): S {
  return new Proxy(strings.en, {
    get: (_target, key) => Reflect.get(strings[current], key),
  });
}
