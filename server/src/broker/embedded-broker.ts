/**
 * The embedded MQTT 3.1.1 broker (aedes) on TCP and on WebSocket `/mqtt`.
 * Transport only: it authenticates feeders, enforces the ACL and the packet
 * size limit, and hands device messages to the bridge. It knows nothing about
 * feeding.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import type { WebSocket } from "ws";
import { createWebSocketStream } from "ws";
import type { Logger } from "../logger.js";
import { SERVER_STATUS_TOPIC } from "../protocol/native-v1.js";
import {
  authorizeFeederPublish,
  authorizeFeederSubscribe,
  isFeederIdentity,
  mayDeliverToFeeder,
} from "./acl.js";
import { GuardedConnection } from "./frame-guard.js";

export interface BrokerHooks {
  /** Synchronous on purpose: the CONNACK waits for it, and it must not yield to other clients. */
  checkCredentials(feederId: string, password: Buffer): boolean;
  /** False when the feeder no longer exists (deleted while it was connecting): the session is cut. */
  onConnected(feederId: string, address: string | undefined): boolean;
  /** A CONNECT was refused; `clientId` is whatever the device sent, which may name no feeder. */
  onRefused(clientId: string, reason: string, address: string | undefined): void;
  onPublishRefused(feederId: string, topic: string, reason: string): void;
  onSubscribeRefused(feederId: string, filter: string): void;
  onDisconnected(feederId: string): void;
  /** The feeder now holds a subscription to its own commands, so a command sent now will reach it. */
  onCommandsSubscribed(feederId: string): void;
  /**
   * Called before the broker acknowledges the message (PUBACK), so a QoS 1
   * acknowledgement means the server has already recorded what the device said.
   */
  onMessage(feederId: string, topic: string, payload: Buffer, retain: boolean): void;
}

export interface BrokerOptions {
  bind: string;
  port: number;
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
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
  /** Serves one WebSocket connection (the HTTP server routes `/mqtt` upgrades here). */
  handleWebSocket(ws: WebSocket, remoteAddress: string | undefined): void;
  /** Cuts a feeder's session at once, e.g. when it is deleted. */
  disconnect(feederId: string): void;
  connectedCount(): number;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 10_000;

function addressOf(client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
}

function authError(returnCode: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export async function startEmbeddedBroker(options: BrokerOptions): Promise<EmbeddedBroker> {
  const { hooks, logger } = options;
  const log = logger.child({ component: "broker" });
  // Only the newest connection of a feeder speaks for it: a stale socket closing late must not mark it offline.
  const current = new Map<string, Client>();

  const aedes = await Aedes.createBroker({
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxTopicLevels: 8,
    maxInflightInbound: 100,
    maxClientsIdLength: 32,
    authenticate(client, username, password, done) {
      const refuse = (code: 2 | 4 | 5, reason: string) => {
        hooks.onRefused(client.id, reason, addressOf(client));
        done(authError(code, reason), false);
      };
      if (username === undefined || password === undefined) {
        log.warn({ clientId: client.id }, "refused anonymous MQTT connection");
        return refuse(5, "credentials required");
      }
      if (!isFeederIdentity(username) || client.id !== username) {
        log.warn(
          { clientId: client.id, username },
          "refused MQTT connection: client id must equal the feeder id",
        );
        return refuse(2, "client id must equal username");
      }
      let ok = false;
      try {
        ok = hooks.checkCredentials(username, password);
      } catch (err) {
        log.error({ err, feederId: username }, "credential check failed");
      }
      if (!ok) {
        log.warn({ feederId: username }, "refused MQTT connection: wrong credentials");
        return refuse(4, "bad username or password (unknown feeder, wrong secret, or rotated credentials)");
      }
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // Publishes by the server itself (client null) never pass through here.
      if (!client) return done(null);
      const decision = authorizeFeederPublish(client.id, packet.topic, packet.retain);
      if (!decision.allow) {
        log.warn({ feederId: client.id, topic: packet.topic, reason: decision.reason }, "refused publish");
        hooks.onPublishRefused(client.id, packet.topic, decision.reason);
        return done(new Error(`publish refused: ${decision.reason}`));
      }
      if (decision.stripRetain) packet.retain = false;
      // The will of a connection that a newer one replaced must not speak for the feeder any more.
      const superseded = current.has(client.id) && current.get(client.id) !== client;
      if (!superseded) {
        try {
          hooks.onMessage(client.id, packet.topic, packet.payload as Buffer, packet.retain);
        } catch (err) {
          log.error({ err, feederId: client.id, topic: packet.topic }, "device message handler failed");
        }
      }
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      if (authorizeFeederSubscribe(client.id, subscription.topic)) return done(null, subscription);
      log.warn({ feederId: client.id, filter: subscription.topic }, "refused subscription");
      hooks.onSubscribeRefused(client.id, subscription.topic);
      // A null subscription answers 0x80 (failure) in the SUBACK and keeps the session.
      done(null, null);
    },
    authorizeForward(client, packet) {
      return mayDeliverToFeeder(client.id, packet.topic, packet.retain) ? packet : null;
    },
  });

  // "client" fires when aedes registers an authenticated client, before the CONNACK; "clientReady" comes
  // later, after packets the client sent right after the CONNACK may already have been handled.
  aedes.on("client", (client) => {
    current.set(client.id, client);
    if (!hooks.onConnected(client.id, addressOf(client))) client.close();
  });
  aedes.on("clientDisconnect", (client) => {
    if (current.get(client.id) !== client) return;
    current.delete(client.id);
    hooks.onDisconnected(client.id);
  });
  aedes.on("subscribe", (subscriptions, client) => {
    if (current.get(client.id) !== client) return;
    // Refused filters come through with QoS 128; a granted one other than the server status is a command topic.
    const granted = subscriptions.filter((s) => (s.qos as number) !== 128 && s.topic !== SERVER_STATUS_TOPIC);
    if (granted.length > 0) hooks.onCommandsSubscribed(client.id);
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
  tcp.on("error", (err) => log.error({ err }, "MQTT listener error"));
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(options.port, options.bind, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  const address = tcp.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    port,
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
    disconnect(feederId) {
      // A client is registered before it is announced ready; cut it in either state.
      // `clients` is public in aedes but missing from its type definitions.
      const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
      (current.get(feederId) ?? clients[feederId])?.close();
    },
    connectedCount: () => current.size,
    async close() {
      // Stop accepting first; the listener's close only completes once aedes has closed every client.
      const listenerClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await listenerClosed;
    },
  };
}
