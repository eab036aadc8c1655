/** The codecs built into the server, by the name profiles use. */
import type { Codec } from "./codec.js";
import { nativeV1Codec } from "./native-v1.js";

export const CODECS: ReadonlyMap<string, Codec> = new Map([[nativeV1Codec.name, nativeV1Codec]]);
