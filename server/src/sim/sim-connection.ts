/**
 * The MQTT connection of a simulated device, the part every simulator shares: connecting, the first CONNACK
 * (or refusal) settling start(), reconnecting like firmware, `ready` and `disconnected`, periodic timers, and
 * stopping or pulling the plug. What differs between devices stays in the device's file: the CONNECT it sends
 * (identity, session, keepalive, will, retry period), what it does after each CONNACK (`announce`), its
 * goodbye message, and whether it gives up when a reconnect is refused.
 */
import { setTimeout as sleep } from "node:timers/promises";
import mqtt, {
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type MqttClient,
} from "mqtt";

/** The part of a pino logger the simulators use; a pino logger fits, and so does a small adapter. */
export interface SimLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export const ignore = () => {};
export const silentLogger: SimLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** MQTT 3.1.1 CONNACK return codes; mqtt.js words its errors for MQTT 5 reason codes, which differ. */
const CONNACK_REFUSALS: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "identifier rejected",
  3: "server unavailable",
  4: "bad username or password",
  5: "not authorized",
};

/** How long a graceful stop waits for the broker to acknowledge the device's goodbye message. */
const GOODBYE_TIMEOUT_MS = 2000;
/** How long a connection attempt waits for its CONNACK; a device may say otherwise in its CONNECT options. */
const CONNECT_TIMEOUT_MS = 10_000;

export class ConnectionRefusedError extends Error {
  constructor(
    readonly feederId: string,
    readonly returnCode: number,
  ) {
    super(`broker refused ${feederId}: ${CONNACK_REFUSALS[returnCode] ?? `return code ${returnCode}`}`);
    this.name = "ConnectionRefusedError";
  }
}

/** mqtt.js's error for a CONNACK that refused the connection (MQTT 3.1.1 return codes 1–5). */
export function isConnackRefusal(error: Error): error is Error & { code: number } {
  return "code" in error && typeof error.code === "number" && error.message.startsWith("Connection refused");
}

/**
 * The CONNECT of a feeder on the credentials Feedkeeper issued (docs/protocol.md): MQTT 3.1.1, client id and
 * username both the feeder id. Native, ESPHome and Tasmota feeders log in like this.
 */
export function feedkeeperLogin(id: string, password: string): IClientOptions {
  return { protocolVersion: 4, clientId: id, username: id, password };
}

/** The device's own emitter: the connection tells its listeners `ready` and `disconnected`. */
export interface ConnectionListeners {
  emit(event: "ready" | "disconnected"): boolean;
}

/** A message the device publishes itself before a clean DISCONNECT, e.g. its status `offline`. */
export interface Goodbye {
  topic: string;
  payload: string;
  options: IClientPublishOptions;
}

export interface SimConnectionOptions {
  url: string;
  /** The device's id in log lines and in a ConnectionRefusedError. */
  deviceId: string;
  /** How error messages name the device; `feeder <deviceId>` unless given. */
  label?: string;
  logger: SimLogger;
  /**
   * What the device does after every CONNACK (subscribe, birth message, queued reports …); it counts as ready
   * once this resolves. If it fails on the first connection, start() rejects.
   */
  announce(client: MqttClient): Promise<void>;
  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void;
  /**
   * A reconnect was refused (the device was deleted, its secret rotated): the connection gives up, and this
   * tells the device's listeners. Without it a refused reconnect is only logged, and the device stays offline.
   */
  onRefused?(error: ConnectionRefusedError): void;
}

export class SimConnection {
  private mqttClient: MqttClient | undefined;
  private hasBeenReady = false;
  private online = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stopping = new AbortController();
  private readonly label: string;
  private readonly log: SimLogger;

  /** `ready` goes to `listeners` after every (re)connection once announced, `disconnected` once per lost one. */
  constructor(
    private readonly listeners: ConnectionListeners,
    private readonly options: SimConnectionOptions,
  ) {
    this.label = options.label ?? `feeder ${options.deviceId}`;
    this.log = options.logger;
  }

  get client(): MqttClient | undefined {
    return this.mqttClient;
  }

  get connected(): boolean {
    return this.mqttClient?.connected ?? false;
  }

  /** Whether any connection has been announced yet: a device that does some things only at boot asks. */
  get everReady(): boolean {
    return this.hasBeenReady;
  }

  /** Aborted once the device is stopped, killed or failed to start: meals in progress end with it. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  requireClient(): MqttClient {
    if (!this.mqttClient) throw new Error(`${this.label} is not started`);
    return this.mqttClient;
  }

  /**
   * Runs `run` every `ms` until the device stops, whether or not the broker is reachable: a device-side
   * schedule keeps feeding offline, and work that needs the broker checks `connected` itself. Unref'd, so a
   * forgotten simulator never keeps a process alive.
   */
  every(ms: number, run: () => unknown): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * Connects. Rejects if the first attempt fails for any reason (refused credentials, unreachable broker, the
   * first announce failing), so callers see configuration mistakes at once; after that the client reconnects
   * on its own like real hardware. `onStart` runs only when this start goes ahead, e.g. to set up timers.
   */
  start(connect: IClientOptions, onStart?: () => void): Promise<void> {
    if (this.mqttClient) return Promise.reject(new Error(`${this.label} was already started`));
    onStart?.();
    const { deviceId } = this.options;
    const client = mqtt.connect(this.options.url, { connectTimeout: CONNECT_TIMEOUT_MS, ...connect });
    this.mqttClient = client;
    client.on("message", (topic, payload, packet) => this.options.onMessage(topic, payload, packet));
    client.on("close", () => {
      // mqtt.js reports every failed reconnect attempt as another close; only the first one is news.
      if (!this.online) return;
      this.online = false;
      this.log.info({ feeder: deviceId }, "disconnected");
      this.listeners.emit("disconnected");
    });

    return new Promise<void>((resolve, reject) => {
      // A start that failed is over: the client stops retrying and the device's timers and meals stop too.
      const failStart = (error: Error) => {
        this.kill();
        reject(error);
      };
      client.on("connect", () => {
        this.options.announce(client).then(
          () => {
            this.online = true;
            if (!this.hasBeenReady) {
              this.hasBeenReady = true;
              resolve();
            }
            this.log.info({ feeder: deviceId }, "ready");
            this.listeners.emit("ready");
          },
          (error: Error) => {
            if (!this.hasBeenReady) failStart(error);
            else this.log.warn({ feeder: deviceId, err: error }, "announcing after a reconnect failed");
          },
        );
      });
      // stop() or kill() before the first announce finished: nobody should wait for a start that cannot come.
      client.once("end", () => {
        if (!this.hasBeenReady) reject(new Error(`${this.label} was stopped before it was ready`));
      });
      client.on("error", (error) => {
        const refusal = isConnackRefusal(error)
          ? new ConnectionRefusedError(deviceId, error.code)
          : undefined;
        if (!this.hasBeenReady) {
          failStart(refusal ?? error);
        } else if (refusal && this.options.onRefused) {
          this.log.error({ feeder: deviceId, err: refusal }, "reconnect refused, giving up");
          // mqtt.js no longer retries after a refused CONNACK; ending the client makes that final, so a later
          // stop() has nothing left to close.
          client.end(true);
          this.options.onRefused(refusal);
        } else {
          // Network trouble: mqtt.js keeps retrying, as a device would (after a refused CONNACK it does not).
          this.log.debug({ feeder: deviceId, err: error }, "connection error");
        }
      });
    });
  }

  /**
   * Switches off properly: the device's goodbye (if it has one) first, then DISCONNECT, which makes the broker
   * discard the will.
   */
  async stop(goodbye?: Goodbye): Promise<void> {
    this.halt();
    const client = this.mqttClient;
    if (!client || client.disconnecting || client.disconnected) return;
    let acknowledged = true;
    if (client.connected && goodbye) {
      const sent = client.publishAsync(goodbye.topic, goodbye.payload, goodbye.options);
      acknowledged = await Promise.race([
        sent.then(
          () => true,
          () => false,
        ),
        sleep(GOODBYE_TIMEOUT_MS, false, { ref: false }),
      ]);
    }
    // Without an acknowledgement, or without a connection, a polite DISCONNECT would wait for in-flight
    // messages forever.
    await client.endAsync(!(acknowledged && client.connected));
  }

  /** Drops the TCP connection without DISCONNECT, like a power cut, so the broker publishes the will. */
  kill(): void {
    this.halt();
    this.mqttClient?.end(true);
  }

  /**
   * Publishes now if connected, and only logs a failure: what most firmware sends while offline is lost, not
   * queued, and a device never waits on the broker to carry on.
   */
  async publishIfConnected(
    topic: string,
    payload: string,
    options: IClientPublishOptions,
    failure = "not published",
  ): Promise<void> {
    const client = this.mqttClient;
    if (!client?.connected) return;
    await client.publishAsync(topic, payload, options).catch((error: Error) => {
      this.log.warn({ feeder: this.options.deviceId, err: error, topic }, failure);
    });
  }

  /**
   * Lets work (a meal, a command's handling) go on without waiting for it. Its failure is worth a log line,
   * unless the device was stopped: stopping aborts meals mid-way on purpose. Settles when the work does.
   */
  background(work: Promise<unknown>, failure: string, fields: Record<string, unknown> = {}): Promise<void> {
    return work.then(ignore, (error: unknown) => {
      if (!this.stopping.signal.aborted)
        this.log.error({ feeder: this.options.deviceId, err: error, ...fields }, failure);
    });
  }

  private halt(): void {
    this.stopping.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }
}
