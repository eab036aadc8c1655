/** Set at build time by esbuild (`define`); the source run reports "dev". */
declare const __FEEDKEEPER_VERSION__: string | undefined;
export const VERSION: string = typeof __FEEDKEEPER_VERSION__ === "string" ? __FEEDKEEPER_VERSION__ : "dev";
