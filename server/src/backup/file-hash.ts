import { createHash } from "node:crypto";
import fs from "node:fs";

/** SHA-256 in hex of a file (streamed, never whole in memory) or of bytes at hand. */
export async function fileSha256(input: string | Buffer): Promise<string> {
  const hash = createHash("sha256");
  if (Buffer.isBuffer(input)) return hash.update(input).digest("hex");
  for await (const chunk of fs.createReadStream(input)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
