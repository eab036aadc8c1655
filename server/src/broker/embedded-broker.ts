/**
 * The embedded MQTT 3.1.1 broker (aedes) on TCP and on WebSocket `/mqtt`.
 * Transport only: it authenticates feeders, enforces the ACL and the packet
 * size limit, and hands device messages to the bridge. It knows nothing about
 * feeding.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import type { WebSocket } from "ws";
import { createWebSocketStream } from "ws";
import type { Logger } from "../logger.js";
import { SERVER_STATUS_TOPIC } from "../protocol/native-v1.js";
import type { PublishDecision } from "./acl.js";
import { GuardedConnection } from "./frame-guard.js";

/** Who a connection is: a feeder, or a device held as pending until an owner adopts it. */
export type Session =
  | { feederId: string; pendingId?: undefined }
  | { pendingId: string; feederId?: undefined };

export type Admission = Session | { refused: 2 | 3 | 4 | 5; reason: string };

export type { PublishDecision };

export interface BrokerHooks {
  /**
   * Who is connecting, from what its CONNECT says. Synchronous on purpose: the CONNACK waits for it, and it
   * must not yield to other clients. Refusals are recorded by the hook, with the reason.
   */
  admit(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    address: string | undefined,
  ): Admission;
  /** False when the feeder no longer exists (deleted while it was connecting): the session is cut. */
  onConnected(session: Session, address: string | undefined): boolean;
  onDisconnected(session: Session): void;
  authorizePublish(session: Session, topic: string, retain: boolean): PublishDecision;
  authorizeSubscribe(session: Session, filter: string): boolean;
  /** Last check before a message reaches a device's socket, whatever its subscriptions say. */
  mayDeliver(session: Session, topic: string, retain: boolean): boolean;
  onPublishRefused(session: Session, topic: string, reason: string): void;
  onSubscribeRefused(session: Session, filter: string): void;
  /**
   * The feeder was granted subscriptions (other than the server status): if they cover where its commands
   * go, a command sent now will reach it.
   */
  onCommandsSubscribed(feederId: string, filters: string[]): void;
  /**
   * Called before the broker acknowledges the message (PUBACK), so a QoS 1
   * acknowledgement means the server has already recorded what the device said.
   * `retain` is the flag the device set, even when the broker does not keep the copy.
   */
  onMessage(session: Session, topic: string, payload: Buffer, retain: boolean): void;
}

export interface BrokerOptions {
  bind: string;
  port: number;
  /** A second listener speaking MQTT over TLS, with this certificate. */
  tls?: { port: number; cert: string; key: string } | undefined;
  maxPacketBytes: number;
  logger: Logger;
  hooks: BrokerHooks;
}

export interface PublishOptions {
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface EmbeddedBroker {
  readonly port: number;
  /** The TLS listener's port, when there is one. */
  readonly tlsPort: number | undefined;
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
  /** Serves one WebSocket connection (the HTTP server routes `/mqtt` upgrades here). */
  handleWebSocket(ws: WebSocket, remoteAddress: string | undefined): void;
  /** Cuts a device's session at once, e.g. when its feeder is deleted or a pending device is adopted. */
  disconnect(session: Session): void;
  connectedCount(): number;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;

function addressOf(client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
}

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: BrokerOptions): Promise<EmbeddedBroker> {
  const { hooks, logger } = options;
  const log = logger.child({ component: "broker" });
  // Only the newest connection of a device speaks for it: a stale socket closing late must not mark it offline.
  const current = new Map<string, Client>();
  const sessions = new WeakMap<Client, Session>();
  const keyOf = (session: Session) => session.feederId ?? `pending:${session.pendingId}`;
  const isCurrent = (client: Client, session: Session) => current.get(keyOf(session)) === client;

  const aedes = await Aedes.createBroker({
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxTopicLevels: 8,
    maxInflightInbound: 100,
    maxClientsIdLength: 64,
    authenticate(client, username, password, done) {
      let admission: Admission;
      try {
        admission = hooks.admit(client.id, username, password, addressOf(client));
      } catch (err) {
        log.error({ err, clientId: client.id }, "admission check failed");
        admission = { refused: 3, reason: "server error while checking credentials" };
      }
      if ("refused" in admission) {
        log.warn({ clientId: client.id, reason: admission.reason }, "refused MQTT connection");
        return done(authError(admission.refused, admission.reason), false);
      }
      sessions.set(client, admission);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // Publishes by the server itself (client null) never pass through here.
      if (!client) return done(null);
      const session = sessions.get(client);
      if (!session) return done(new Error("publish refused: not authenticated"));
      const decision = hooks.authorizePublish(session, packet.topic, packet.retain);
      if (!decision.allow) {
        log.warn({ session, topic: packet.topic, reason: decision.reason }, "refused publish");
        hooks.onPublishRefused(session, packet.topic, decision.reason);
        return done(new Error(`publish refused: ${decision.reason}`));
      }
      const retained = packet.retain;
      if (decision.stripRetain) packet.retain = false;
      // The will of a connection that a newer one replaced must not speak for the device any more.
      if (isCurrent(client, session) && !decision.discard) {
        try {
          hooks.onMessage(session, packet.topic, packet.payload as Buffer, retained);
        } catch (err) {
          log.error({ err, session, topic: packet.topic }, "device message handler failed");
        }
      }
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const session = sessions.get(client);
      if (session && hooks.authorizeSubscribe(session, subscription.topic)) return done(null, subscription);
      log.warn({ session, filter: subscription.topic }, "refused subscription");
      if (session) hooks.onSubscribeRefused(session, subscription.topic);
      // A null subscription answers 0x80 (failure) in the SUBACK and keeps the session.
      done(null, null);
    },
    authorizeForward(client, packet) {
      const session = sessions.get(client);
      return session && hooks.mayDeliver(session, packet.topic, packet.retain) ? packet : null;
    },
  });

  // "client" fires when aedes registers an authenticated client, before the CONNACK; "clientReady" comes
  // later, after packets the client sent right after the CONNACK may already have been handled.
  aedes.on("client", (client) => {
    const session = sessions.get(client);
    if (!session) return client.close();
    current.set(keyOf(session), client);
    if (!hooks.onConnected(session, addressOf(client))) client.close();
  });
  aedes.on("clientDisconnect", (client) => {
    const session = sessions.get(client);
    if (!session || !isCurrent(client, session)) return;
    current.delete(keyOf(session));
    hooks.onDisconnected(session);
  });
  aedes.on("subscribe", (subscriptions, client) => {
    const session = sessions.get(client);
    if (!session?.feederId || !isCurrent(client, session)) return;
    // Refused filters come through with QoS 128; a granted one other than the server status is a command topic.
    const granted = subscriptions.filter((s) => (s.qos as number) !== 128 && s.topic !== SERVER_STATUS_TOPIC);
    if (granted.length > 0) {
      hooks.onCommandsSubscribed(
        session.feederId,
        granted.map((s) => s.topic),
      );
    }
  });
  aedes.on("clientError", (client, err) => {
    log.debug({ feederId: client.id, err: err.message }, "MQTT client error");
  });
  aedes.on("connectionError", (client, err) => {
    log.debug({ clientId: client?.id, err: err.message }, "MQTT connection error");
  });

  const guard = (stream: Duplex & { remoteAddress?: string }) =>
    // The address rides on the connection so refusals and the connection log can name the device.
    Object.assign(
      new GuardedConnection(stream, options.maxPacketBytes, {
        onViolation: (verdict) =>
          log.warn(
            { remote: stream.remoteAddress, verdict, limit: options.maxPacketBytes },
            "cut MQTT connection",
          ),
      }),
      { remoteAddress: stream.remoteAddress },
    );

  const tcp = net.createServer((socket) => {
    socket.setNoDelay(true);
    aedes.handle(guard(socket));
  });
  const port = await listen(tcp, options.port, options.bind, log);
  const secure = options.tls
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, (socket) => {
        socket.setNoDelay(true);
        aedes.handle(guard(socket));
      })
    : undefined;
  // A failed handshake (a scanner, a device that dislikes the certificate) is the client's problem only.
  secure?.on("tlsClientError", (err, socket) =>
    log.debug({ remote: socket.remoteAddress, err: err.message }, "TLS handshake failed"),
  );
  const tlsPort =
    secure && options.tls ? await listen(secure, options.tls.port, options.bind, log) : undefined;

  return {
    port,
    tlsPort,
    publish(topic, payload, { qos, retain }) {
      return new Promise((resolve, reject) =>
        aedes.publish(
          { cmd: "publish", topic, payload: Buffer.from(payload), qos, retain, dup: false },
          (err?: Error) => (err ? reject(err) : resolve()),
        ),
      );
    },
    handleWebSocket(ws, remoteAddress) {
      const stream = Object.assign(createWebSocketStream(ws), { remoteAddress });
      aedes.handle(guard(stream));
    },
    disconnect(session) {
      current.get(keyOf(session))?.close();
    },
    connectedCount: () => current.size,
    async close() {
      // Stop accepting first; the listener's close only completes once aedes has closed every client.
      const listenerClosed = Promise.all(
        [tcp, secure].map(
          (server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
        ),
      );
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await listenerClosed;
    },
  };
}

async function listen(server: net.Server, port: number, bind: string, log: Logger): Promise<number> {
  server.on("error", (err) => log.error({ err }, "MQTT listener error"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, bind, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : port;
}
