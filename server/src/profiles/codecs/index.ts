/** The codecs built into the server, by the name profiles use. */
import type { CodecFactory } from "./codec.js";
import { createMappingCodec } from "./mapping.js";
import { nativeV1Codec } from "./native-v1.js";

export const CODECS: ReadonlyMap<string, CodecFactory> = new Map<string, CodecFactory>([
  [nativeV1Codec.name, () => nativeV1Codec],
  ["mapping", createMappingCodec],
]);
