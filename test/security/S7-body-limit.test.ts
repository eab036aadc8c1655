/**
 * S7 (security checklist): a request body over the API limit is refused with 413 before any handler runs,
 * however its length is framed: Content-Length, chunked transfer encoding, or both at once (request
 * smuggling territory; Hono CVE-2025-59139 / GHSA-9vqf-7f2p-gf9v was a bypass of exactly this limit).
 * "Nothing written" is checked with a body the handler would accept: a valid feeder, padded with JSON
 * whitespace past the limit, must not create a feeder.
 */
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_BODY_LIMIT_BYTES } from "../../server/src/http/app.js";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let api: TestApi;

beforeAll(async () => {
  srv = await startServer();
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
});
afterAll(() => srv?.stop());

/** A feeder the API would create, its JSON padded with whitespace to `size` bytes. */
function paddedFeeder(name: string, size: number): Buffer {
  const head = `{"name":${JSON.stringify(name)},"profile":"feedkeeper"`;
  return Buffer.from(`${head}${" ".repeat(Math.max(0, size - head.length - 1))}}`);
}

async function feederNames(): Promise<string[]> {
  const res = await api.request<{ feeders: Array<{ name: string }> }>("GET", "/api/feeders");
  expect(res.status).toBe(200);
  return res.body.feeders.map((f) => f.name);
}

interface RawResponse {
  status: number;
  headers: string;
  body: string;
  /** Bytes of the request body written before the response arrived. */
  bodyBytesSent: number;
}

/**
 * Sends a request over a plain socket: head as given, then `body` in 16 KiB pieces (at most `maxBody`
 * bytes, so a server that never answers cannot make the test send forever). Stops writing once a response
 * arrives, which shows whether the server answered before reading the whole body.
 */
function rawRequest(head: string, body: Buffer, options: { trickleMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(srv.httpPort, "127.0.0.1");
    let received = "";
    let sent = 0;
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`no response; sent ${sent} body bytes; got ${JSON.stringify(received.slice(0, 200))}`),
      );
    }, 15_000);
    const finish = () => {
      clearTimeout(timer);
      const [statusLine = "", ...rest] = received.split("\r\n\r\n")[0]?.split("\r\n") ?? [];
      const status = Number(statusLine.split(" ")[1]);
      resolve({
        status,
        headers: rest.join("\n").toLowerCase(),
        body: received.split("\r\n\r\n").slice(1).join("\r\n\r\n"),
        bodyBytesSent: sent,
      });
      socket.destroy();
    };
    socket.on("data", (d) => {
      answered = true;
      received += d.toString("latin1");
      // Whole head and (for these small error answers) body: one short wait is enough.
      if (received.includes("\r\n\r\n")) setTimeout(finish, 50);
    });
    socket.on("error", () => {
      // The server may reset the connection after answering; what it answered is what counts.
      if (received) finish();
    });
    socket.on("close", () => {
      if (received) finish();
      else if (!answered) {
        clearTimeout(timer);
        resolve({ status: 0, headers: "", body: "", bodyBytesSent: sent });
      }
    });
    socket.on("connect", async () => {
      socket.write(head);
      for (let offset = 0; offset < body.length && !answered && !socket.destroyed; offset += 16 * 1024) {
        const piece = body.subarray(offset, offset + 16 * 1024);
        socket.write(piece);
        sent += piece.length;
        await new Promise((r) => setTimeout(r, options.trickleMs ?? 5));
      }
    });
  });
}

function chunked(body: Buffer, chunkSize = 8 * 1024): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += chunkSize) {
    const piece = body.subarray(offset, offset + chunkSize);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

function head(lines: string[]): string {
  return `POST /api/feeders HTTP/1.1\r\nHost: 127.0.0.1:${srv.httpPort}\r\nAuthorization: Bearer ${api.token}\r\nContent-Type: application/json\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
}

const OVER = API_BODY_LIMIT_BYTES * 4;

describe("S7: the API body limit", () => {
  it("accepts a padded body just under the limit (the control: the padding alone is harmless)", async () => {
    const body = paddedFeeder("Under the limit", API_BODY_LIMIT_BYTES - 1024);
    const res = await rawRequest(head([`Content-Length: ${body.length}`]), body);
    expect(res.status).toBe(201);
    expect(await feederNames()).toContain("Under the limit");
  });

  it("refuses an oversized body declared by Content-Length with 413, before reading it", async () => {
    const body = paddedFeeder("Content-Length", OVER);
    const res = await rawRequest(head([`Content-Length: ${body.length}`]), body, { trickleMs: 100 });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "payload_too_large" } });
    // The declared length alone decides: the answer comes before most of the body is sent.
    expect(res.bodyBytesSent).toBeLessThan(body.length);
    expect(await feederNames()).not.toContain("Content-Length");
  });

  it("refuses an oversized body even on a public route, before authentication", async () => {
    const body = Buffer.from(`{"username":"owner","password":"x"${" ".repeat(OVER)}}`);
    const res = await rawRequest(
      `POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:${srv.httpPort}\r\nOrigin: ${srv.httpUrl}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    expect(res.status).toBe(413);
  });

  it("refuses an oversized chunked body (no Content-Length) with 413 once the limit is passed", async () => {
    const body = paddedFeeder("Chunked", OVER);
    const result = await new Promise<{ status: number; text: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = http.request(
        {
          host: "127.0.0.1",
          port: srv.httpPort,
          method: "POST",
          path: "/api/feeders",
          headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
        },
        (res) => {
          answered = true;
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text, sent }));
          res.on("error", reject);
        },
      );
      // The server may close the connection after answering while we still write.
      req.on("error", (err) => {
        if (!answered) reject(err);
      });
      expect(req.getHeader("content-length")).toBeUndefined();
      const pump = async () => {
        for (let offset = 0; offset < body.length && !answered; offset += 8 * 1024) {
          const piece = body.subarray(offset, offset + 8 * 1024);
          req.write(piece);
          sent += piece.length;
          await new Promise((r) => setTimeout(r, 5));
        }
        req.end();
      };
      void pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.text)).toMatchObject({ error: { code: "payload_too_large" } });
    expect(await feederNames()).not.toContain("Chunked");
  });

  it("refuses a chunked body that lies with a small Content-Length as well (CL + TE)", async () => {
    // Node's HTTP parser rejects a request carrying both headers (400) unless the server opts into
    // insecureHTTPParser; either that 400 or the body limit's 413 refuses it before any handler.
    const body = paddedFeeder("Both headers", OVER);
    const small = await rawRequest(head(["Content-Length: 40", "Transfer-Encoding: chunked"]), chunked(body));
    expect([400, 413]).toContain(small.status);
    const large = await rawRequest(
      head([`Content-Length: ${body.length}`, "Transfer-Encoding: chunked"]),
      chunked(body),
    );
    expect([400, 413]).toContain(large.status);
    // A lying Content-Length under the limit with a chunked body under the limit is refused too: the
    // ambiguity itself is the attack (request smuggling), whatever the size.
    const tiny = paddedFeeder("Both headers, small", 200);
    const ambiguous = await rawRequest(
      head(["Content-Length: 200", "Transfer-Encoding: chunked"]),
      chunked(tiny),
    );
    expect(ambiguous.status).toBe(400);
    expect(await feederNames()).not.toContain("Both headers");
    expect(await feederNames()).not.toContain("Both headers, small");
  });
});
