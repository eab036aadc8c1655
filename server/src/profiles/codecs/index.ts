/** The codecs built into the server, by the name profiles use. */
import type { CodecFactory } from "./codec.js";
import { createMappingCodec } from "./mapping.js";
import { nativeV1Codec } from "./native-v1.js";
import { createPetlibroDlCodec, PETLIBRO_DL } from "./petlibro-dl.js";
import { createPetnetKronosCodec, PETNET_KRONOS } from "./petnet-kronos.js";
import { createTuyaDpCodec } from "./tuya-dp.js";
import { createZ2mAqaraC1Codec } from "./z2m-aqara-c1.js";

export const CODECS: ReadonlyMap<string, CodecFactory> = new Map<string, CodecFactory>([
  [nativeV1Codec.name, () => nativeV1Codec],
  ["mapping", createMappingCodec],
  [PETLIBRO_DL, createPetlibroDlCodec],
  [PETNET_KRONOS, createPetnetKronosCodec],
  ["tuya-dp", createTuyaDpCodec],
  ["z2m-aqara-c1", createZ2mAqaraC1Codec],
]);
