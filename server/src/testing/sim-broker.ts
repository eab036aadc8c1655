/**
 * Feedkeeper's embedded broker for the simulator tests: in-process on 127.0.0.1 and a free port, letting in
 * the one device a test is about and recording, through the broker's hooks, exactly what the server would
 * be handed (messages with the retain flag the device set, connections, refusals), in order.
 */
import pino from "pino";
import {
  authorizeFeederPublish,
  authorizeFeederSubscribe,
  authorizeVendorPublish,
  authorizeVendorSubscribe,
  mayDeliverToFeeder,
  mayDeliverToVendor,
  type VendorTopics,
} from "../broker/acl.js";
import {
  type Admission,
  type BrokerHooks,
  type EmbeddedBroker,
  type Session,
  startEmbeddedBroker,
} from "../broker/embedded-broker.js";

export type SimAdmission =
  /** A feeder on the credentials Feedkeeper issued: client id = username = its id, kept to feedkeeper/<id>/. */
  | { feeder: string; password: string }
  /**
   * An adopted vendor device, logged in as `feederId` when `login` recognises its CONNECT, and kept to the
   * topic space of its profile.
   */
  | {
      vendor: VendorTopics;
      feederId: string;
      login(clientId: string, username: string | undefined, password: string | undefined): boolean;
    }
  /**
   * Anyone, anything, retained messages kept: a stand-in for an owner's own broker (Mosquitto), on which
   * Feedkeeper is one client among others. Each client is a session of its own, named by its client id.
   */
  | { open: true };

export interface SimBrokerOptions {
  admit: SimAdmission;
  /** Called after each message is recorded: a stand-in server answering the device, say. */
  onMessage?(topic: string, payload: Buffer, retain: boolean): void;
  /** How a message reads in the timeline; `<topic> <payload>` unless given. */
  describe?(topic: string, payload: Buffer): string;
  /** Hooks of a broker that behaves otherwise than Feedkeeper's, for tests about the device's own guards. */
  hooks?: Partial<BrokerHooks>;
}

export interface SeenMessage {
  topic: string;
  payload: string;
  /** As the device set it, even where the broker does not keep the copy. */
  retain: boolean;
}

export interface SimBroker extends EmbeddedBroker {
  /** mqtt://127.0.0.1:<port> */
  readonly url: string;
  /**
   * What the server saw, in order: `connected <id>`, `subscribed <id>` (commands covered),
   * `disconnected <id>`, `refused <client id>: <reason>`, `publish refused <topic>: <reason>`,
   * `subscribe refused <filter>`, and each message as `describe` writes it.
   */
  readonly timeline: string[];
  /** Every message the server was handed. */
  readonly messages: SeenMessage[];
  /** Every filter a device asked for, granted or not, in order. */
  readonly subscriptions: string[];
  /** Every CONNECT, refused ones included. */
  readonly logins: Array<{ clientId: string; username: string | undefined }>;
  payloadsOn(topic: string): string[];
  /** Forgets the messages so far (the timeline stays), so a test looks only at what follows. */
  clearMessages(): void;
  /** A device of the test's, killed before the broker closes. */
  track<D extends { kill(): void }>(device: D): D;
}

/** Starts a device and hands it back once it is ready. */
export async function started<D extends { start(): Promise<void> }>(device: D): Promise<D> {
  await device.start();
  return device;
}

/** The rules of the admission: who gets in, and what a session may publish, subscribe to and be sent. */
function rules(admit: SimAdmission): Pick<
  BrokerHooks,
  "authorizePublish" | "authorizeSubscribe" | "mayDeliver"
> & {
  admit(clientId: string, username: string | undefined, password: string | undefined): Session | undefined;
} {
  if ("feeder" in admit) {
    const { feeder, password } = admit;
    return {
      admit: (clientId, username, given) =>
        clientId === feeder && username === feeder && given === password ? { feederId: feeder } : undefined,
      authorizePublish: (_session, topic) => authorizeFeederPublish(feeder, topic),
      authorizeSubscribe: (_session, filter) => authorizeFeederSubscribe(feeder, filter),
      mayDeliver: (_session, topic, retain) => mayDeliverToFeeder(feeder, topic, retain),
    };
  }
  if ("vendor" in admit) {
    const { vendor, feederId, login } = admit;
    return {
      admit: (clientId, username, password) =>
        login(clientId, username, password) ? { feederId } : undefined,
      authorizePublish: (_session, topic) => authorizeVendorPublish(vendor, topic),
      authorizeSubscribe: (_session, filter) => authorizeVendorSubscribe(vendor, filter),
      mayDeliver: (_session, topic, retain) => mayDeliverToVendor(vendor, topic, retain),
    };
  }
  return {
    admit: (clientId) => ({ feederId: clientId }),
    authorizePublish: () => ({ allow: true }),
    authorizeSubscribe: () => true,
    mayDeliver: () => true,
  };
}

export async function startSimBroker(options: SimBrokerOptions): Promise<SimBroker> {
  const timeline: string[] = [];
  const messages: SeenMessage[] = [];
  const subscriptions: string[] = [];
  const logins: SimBroker["logins"] = [];
  const devices: Array<{ kill(): void }> = [];
  const describe = options.describe ?? ((topic, payload) => `${topic} ${payload.toString()}`);
  const idOf = (session: Session) => session.feederId ?? session.pendingId;
  const { admit, ...acl } = rules(options.admit);

  const broker = await startEmbeddedBroker({
    bind: "127.0.0.1",
    port: 0,
    // It plays Zigbee2MQTT's or a vendor's broker, which pass messages between their clients.
    routeClientPublishes: true,
    maxPacketBytes: 65_536,
    logger: pino({ level: "silent" }),
    hooks: {
      ...acl,
      admit: (clientId, username, password): Admission => {
        logins.push({ clientId, username });
        const session = admit(clientId, username, password?.toString());
        if (session) return session;
        timeline.push(`refused ${clientId}: bad username or password`);
        return { refused: 4, reason: "bad username or password" };
      },
      authorizeSubscribe: (session, filter) => {
        subscriptions.push(filter);
        return acl.authorizeSubscribe(session, filter);
      },
      onConnected: (session) => {
        timeline.push(`connected ${idOf(session)}`);
        return true;
      },
      onDisconnected: (session) => timeline.push(`disconnected ${idOf(session)}`),
      onCommandsSubscribed: (feederId) => timeline.push(`subscribed ${feederId}`),
      onPublishRefused: (_session, topic, reason) => timeline.push(`publish refused ${topic}: ${reason}`),
      onSubscribeRefused: (_session, filter) => timeline.push(`subscribe refused ${filter}`),
      onMessage: (_session, topic, payload, retain) => {
        messages.push({ topic, payload: payload.toString(), retain });
        timeline.push(describe(topic, payload));
        options.onMessage?.(topic, payload, retain);
      },
      ...options.hooks,
    },
  });

  return {
    ...broker,
    url: `mqtt://127.0.0.1:${broker.port}`,
    timeline,
    messages,
    subscriptions,
    logins,
    payloadsOn: (topic) => messages.filter((m) => m.topic === topic).map((m) => m.payload),
    clearMessages: () => {
      messages.length = 0;
    },
    track: (device) => {
      devices.push(device);
      return device;
    },
    async close() {
      for (const device of devices) device.kill();
      await broker.close();
    },
  };
}
