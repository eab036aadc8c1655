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
import { type Clock, systemClock } from "../clock.js";
import { LogThrottle } from "../log-throttle.js";
import type { Logger } from "../logger.js";
import { SERVER_STATUS_TOPIC } from "../protocol/native-v1.js";
import type { PublishDecision } from "./acl.js";
import { DEFAULT_FLAPPING, FlappingDetector, type FlappingOptions } from "./flapping.js";
import { GuardedConnection } from "./frame-guard.js";
import { DEFAULT_HALF_OPEN, HalfOpenLimit, type HalfOpenOptions } from "./half-open.js";

/**
 * Who a connection is: a feeder, a device held as pending until an owner adopts it, or an integration client
 * (Home Assistant, logged in with an API token) that reads and commands feeders of one household.
 */
export type Session =
  | { feederId: string; pendingId?: undefined; integration?: undefined }
  | { pendingId: string; feederId?: undefined; integration?: undefined }
  | { integration: IntegrationSession; feederId?: undefined; pendingId?: undefined };

/** Never holds the secret it logged in with: sessions are logged. */
export interface IntegrationSession {
  kind: "home-assistant";
  clientId: string;
  /** Identifies this connection to the hooks that admitted it. */
  connectionId: string;
  householdId: string;
}

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
  authorizePublish(session: Session, topic: string): PublishDecision;
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
  onMessage(session: Session, topic: string, payload: Buffer, retain: boolean, dup?: boolean): void;
  /**
   * A client id connected too often (flapping.ts), e.g. a firmware in a reconnect loop or two devices
   * sharing one id and kicking each other off: its connects are refused with CONNACK 3 for `bannedForMs`,
   * starting with this one. `session` is who this connect was admitted as (the refused connect never
   * reaches onConnected). Called once per ban, when it starts; connects refused during the ban are neither
   * reported nor logged, and its session of the moment, if any, stays connected.
   */
  onFlapping?(session: Session, clientId: string, address: string | undefined, bannedForMs: number): void;
}

/** What the broker lets one client or one address cost it. */
export interface BrokerLimits {
  /** A socket must send its CONNECT within this. */
  connectTimeoutMs: number;
  /** Sockets open without a CONNECT yet (half-open.ts). */
  halfOpen: HalfOpenOptions;
  flapping: FlappingOptions;
  /** Bytes that may wait for one client to read them, beyond the kernel's buffers; more and it is cut. */
  outboundQueueBytes: number;
  /** How long a client may leave what it was sent unread before it is cut. */
  outboundStallMs: number;
}

/**
 * Everything the server sends a device is small (commands, a meal plan, the server status): a device that
 * reads has nothing waiting beyond the kernel's buffers, and half a megabyte is over a thousand queued
 * commands. A device that has read nothing for 10 s is gone or hostile; it reconnects if it is neither.
 */
/** Where device publishes go once handled: a `$` topic no wildcard matches and no device may subscribe to. */
const DEVICE_SINK_TOPIC = "$feedkeeper/device-publish";

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  connectTimeoutMs: 10_000,
  halfOpen: DEFAULT_HALF_OPEN,
  flapping: DEFAULT_FLAPPING,
  outboundQueueBytes: 512 * 1024,
  outboundStallMs: 10_000,
};

export interface BrokerOptions {
  bind: string;
  port: number;
  /**
   * Route what clients publish to other clients, as a general-purpose broker does. Only for a broker that
   * stands in for someone else's (the simulators' Mosquitto stand-in); Feedkeeper's own broker never does.
   */
  routeClientPublishes?: boolean;
  /** A second listener speaking MQTT over TLS, with this certificate. */
  tls?: { port: number; cert: string; key: string } | undefined;
  maxPacketBytes: number;
  logger: Logger;
  hooks: BrokerHooks;
  /** Told of each PUBLISH a client sends and each one delivered to a client, for the metrics. */
  traffic?: { received(): void; sent(): void } | undefined;
  /** For flapping bans and stalled readers; the system clock unless given. */
  clock?: Clock | undefined;
  /** Each missing one is the default's. */
  limits?: Partial<BrokerLimits> | undefined;
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
  /**
   * Cuts a device's session at once, e.g. when its feeder is deleted or a pending device is adopted, and
   * lifts its flapping ban (new credentials may be the owner's fix for a reconnect loop).
   */
  disconnect(session: Session): void;
  connectedCount(): number;
  close(): Promise<void>;
}

/** The part of aedes' persistence that holds the QoS 2 messages a client sent and has not released. */
interface IncomingStore {
  cleanIncoming?(client: Client): Promise<void>;
}

function addressOf(client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
}

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: BrokerOptions): Promise<EmbeddedBroker> {
  const { hooks, logger } = options;
  const clock = options.clock ?? systemClock;
  const limits = { ...DEFAULT_BROKER_LIMITS, ...options.limits };
  const log = logger.child({ component: "broker" });
  const flapping = new FlappingDetector(clock, limits.flapping);
  const halfOpen = new HalfOpenLimit(limits.halfOpen);
  // One line a minute at most: a flood of sockets must not become a flood of log lines.
  const halfOpenLogs = new LogThrottle(clock, 1);
  /** The half-open slot of each connection aedes handles, released when its CONNECT arrives. */
  const slots = new WeakMap<object, () => void>();
  // Only the newest connection of a device speaks for it: a stale socket closing late must not mark it offline.
  const current = new Map<string, Client>();
  const sessions = new WeakMap<Client, Session>();
  const keyOf = (session: Session) =>
    session.feederId ??
    (session.pendingId !== undefined
      ? `pending:${session.pendingId}`
      : `client:${session.integration.clientId}`);
  const isCurrent = (client: Client, session: Session) => current.get(keyOf(session)) === client;

  const aedes = await Aedes.createBroker({
    connectTimeout: limits.connectTimeoutMs,
    // The guard hands every write to the socket at once (frame-guard.ts), so aedes never waits for a drain
    // for long; this is the backstop should it ever.
    drainTimeout: limits.outboundStallMs,
    maxTopicLevels: 8,
    // Per connection: a client holding this many QoS 2 messages without PUBREL is cut.
    maxInflightInbound: 100,
    maxClientsIdLength: 64,
    preConnect(client, _packet, done) {
      slots.get(client.conn)?.();
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const address = addressOf(client);
      // Before the credentials are looked at: a banned id costs a CONNACK and nothing else.
      if (flapping.bannedFor(client.id) > 0) {
        return done(authError(3, "client id connecting too often"), false);
      }
      let admission: Admission;
      try {
        admission = hooks.admit(client.id, username, password, address);
      } catch (err) {
        log.error({ err, clientId: client.id }, "admission check failed");
        admission = { refused: 3, reason: "server error while checking credentials" };
      }
      if ("refused" in admission) {
        log.warn({ clientId: client.id, reason: admission.reason }, "refused MQTT connection");
        return done(authError(admission.refused, admission.reason), false);
      }
      const bannedForMs = flapping.connected(client.id, keyOf(admission));
      if (bannedForMs > 0) {
        log.warn(
          {
            clientId: client.id,
            address,
            session: admission,
            bannedForMs,
            maxConnects: limits.flapping.maxConnects,
            windowMs: limits.flapping.windowMs,
          },
          "MQTT client id flapping (a reconnect loop, or two devices sharing it): its connects are refused for a while",
        );
        try {
          hooks.onFlapping?.(admission, client.id, address, bannedForMs);
        } catch (err) {
          log.error({ err, clientId: client.id }, "flapping handler failed");
        }
        return done(authError(3, "client id connecting too often"), false);
      }
      sessions.set(client, admission);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // Publishes by the server itself (client null) never pass through here.
      if (!client) return done(null);
      options.traffic?.received();
      const session = sessions.get(client);
      if (!session) return done(new Error("publish refused: not authenticated"));
      const decision = hooks.authorizePublish(session, packet.topic);
      if (!decision.allow) {
        log.warn({ session, topic: packet.topic, reason: decision.reason }, "refused publish");
        hooks.onPublishRefused(session, packet.topic, decision.reason);
        return done(new Error(`publish refused: ${decision.reason}`));
      }
      // The will of a connection that a newer one replaced must not speak for the device any more.
      if (isCurrent(client, session) && !decision.discard) {
        try {
          hooks.onMessage(session, packet.topic, packet.payload as Buffer, packet.retain, packet.dup);
        } catch (err) {
          log.error({ err, session, topic: packet.topic }, "device message handler failed");
        }
      }
      // The server has what the device said (above); nothing a device publishes is routed on or kept. A
      // device held as pending may publish anywhere, and whatever any device sends must never reach another
      // device's topics (a feed command), now or queued for later. The acknowledgement still goes out.
      if (!options.routeClientPublishes) {
        packet.topic = DEVICE_SINK_TOPIC;
        packet.retain = false;
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
      if (!session || !hooks.mayDeliver(session, packet.topic, packet.retain)) return null;
      options.traffic?.sent();
      return packet;
    },
  });

  // aedes keeps its persistence on the instance, which its typings leave out.
  const { persistence } = aedes as unknown as { persistence: IncomingStore };
  const cleanIncoming = persistence.cleanIncoming?.bind(persistence);
  if (!cleanIncoming)
    throw new Error("aedes' persistence cannot drop a session's QoS 2 state (cleanIncoming)");

  // "client" fires when aedes registers an authenticated client, before the CONNACK; "clientReady" comes
  // later, after packets the client sent right after the CONNACK may already have been handled.
  aedes.on("client", (client) => {
    const session = sessions.get(client);
    if (!session) return client.close();
    current.set(keyOf(session), client);
    if (!hooks.onConnected(session, addressOf(client))) client.close();
  });
  aedes.on("clientDisconnect", (client) => {
    // aedes keeps the QoS 2 messages a persistent session received without PUBREL for its next connection,
    // where the per-connection cap starts again from zero: reconnecting with fresh message ids would pile
    // them up without bound (and a pending device needs no credentials). Keeping them buys nothing here:
    // hooks.onMessage runs before aedes' duplicate check, so the server sees a retransmission either way.
    cleanIncoming(client).catch((err: unknown) =>
      log.error({ err, clientId: client.id }, "could not drop a closed session's QoS 2 state"),
    );
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

  /** A half-open slot for a new socket, or undefined (logged, at most once a minute) when there is none. */
  const slotFor = (address: string | undefined): (() => void) | undefined => {
    const release = halfOpen.take(address);
    if (!release) {
      const { log: write, suppressed } = halfOpenLogs.admit("half-open");
      if (write) {
        log.warn(
          {
            remote: address,
            halfOpen: halfOpen.held,
            limits: limits.halfOpen,
            ...(suppressed > 0 && { suppressedSinceLastLog: suppressed }),
          },
          "refused MQTT sockets: too many open without a CONNECT",
        );
      }
    }
    return release;
  };

  const guardLimits = {
    maxPacketBytes: options.maxPacketBytes,
    maxQueuedBytes: limits.outboundQueueBytes,
    stallMs: limits.outboundStallMs,
  };
  const serve = (stream: Duplex & { remoteAddress?: string }, release: () => void) => {
    // The address rides on the connection so refusals and the connection log can name the device.
    const conn = Object.assign(
      new GuardedConnection(stream, guardLimits, clock, {
        onViolation: (verdict) =>
          log.warn({ remote: stream.remoteAddress, verdict, limits: guardLimits }, "cut MQTT connection"),
      }),
      { remoteAddress: stream.remoteAddress },
    );
    slots.set(conn, release);
    conn.once("close", release);
    aedes.handle(conn);
  };

  const tcp = net.createServer((socket) => {
    const release = slotFor(socket.remoteAddress);
    if (!release) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    serve(socket, release);
  });
  const port = await listen(tcp, options.port, options.bind, log);
  // A TLS socket takes its slot when it is accepted, so it holds one through its handshake too.
  const handshaking = new Map<string, () => void>();
  const peer = (socket: net.Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  const secure = options.tls
    ? tls.createServer(
        { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: limits.connectTimeoutMs },
        (socket) => {
          const release = handshaking.get(peer(socket));
          if (!release) {
            socket.destroy();
            return;
          }
          socket.setNoDelay(true);
          serve(socket, release);
        },
      )
    : undefined;
  secure?.on("connection", (raw: net.Socket) => {
    const release = slotFor(raw.remoteAddress);
    if (!release) {
      raw.destroy();
      return;
    }
    const key = peer(raw);
    handshaking.set(key, release);
    raw.once("close", () => {
      handshaking.delete(key);
      release();
    });
  });
  // A failed handshake (a scanner, a device that dislikes the certificate) is the client's problem only.
  // With a listener here Node leaves the socket open after a handshake timeout: it must be closed.
  secure?.on("tlsClientError", (err, socket) => {
    log.debug({ remote: socket.remoteAddress, err: err.message }, "TLS handshake failed");
    socket.destroy();
  });
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
      const release = slotFor(remoteAddress);
      if (!release) {
        ws.terminate();
        return;
      }
      serve(Object.assign(createWebSocketStream(ws), { remoteAddress }), release);
    },
    disconnect(session) {
      flapping.forgive(keyOf(session));
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
