/**
 * Home Assistant MQTT discovery, wired to one broker: the external one when the server has one (its own
 * client publishes there, with the server's availability as its last will), else the embedded one (Home
 * Assistant logs in there with an API token, broker-access.ts).
 */
import type { AccountService } from "../../auth/accounts.js";
import { AttemptThrottle } from "../../auth/attempt-throttle.js";
import type { ExternalBroker } from "../../bridge/external-broker.js";
import type { BrokerHooks, EmbeddedBroker } from "../../broker/embedded-broker.js";
import { HomeAssistantBrokerAccess } from "./broker-access.js";
import { type HomeAssistantDeps, HomeAssistantDiscovery, type HomeAssistantOptions } from "./publisher.js";
import {
  feederOfTopic,
  HA_SERVER_STATUS_TOPIC,
  haTopics,
  PAYLOAD_OFFLINE,
  parseCommandTopic,
} from "./topics.js";

/** Whoever can publish on the external broker may command: its own ACL is the gate there. */
const EXTERNAL_ACTOR = { name: "Home Assistant", userId: null, householdId: null, role: null };

export class HomeAssistant {
  readonly discovery: HomeAssistantDiscovery;

  constructor(
    private readonly deps: HomeAssistantDeps & { accounts: AccountService },
    options: HomeAssistantOptions,
  ) {
    this.discovery = new HomeAssistantDiscovery(deps, options);
  }

  /** The embedded broker's hooks: Home Assistant's logins handled here, every device's by `devices`. */
  brokerHooks(devices: BrokerHooks): BrokerHooks {
    return new HomeAssistantBrokerAccess(
      devices,
      this.discovery,
      this.deps.accounts,
      new AttemptThrottle(
        this.deps.clock,
        {},
        this.deps.logger.child({ component: "home-assistant-throttle" }),
      ),
      this.deps.profiles,
      this.deps.logger,
    );
  }

  /** Publishes on the embedded broker from now on. */
  attachEmbedded(broker: EmbeddedBroker): Promise<void> {
    return this.discovery.attach(broker);
  }

  /** Publishes on the external broker whenever it is connected; call before it starts. */
  attachExternal(external: ExternalBroker): void {
    const { discovery } = this;
    const prefix = discovery.prefix;
    const birth = haTopics.birth(prefix);
    let attached = false;
    external.attachGuest({
      will: { topic: HA_SERVER_STATUS_TOPIC, payload: PAYLOAD_OFFLINE },
      filters: [
        birth,
        haTopics.command("+", "feed"),
        haTopics.command("+", "portions"),
        `${prefix}/device/+/config`,
      ],
      owns: (topic) =>
        topic === birth || parseCommandTopic(topic) !== undefined || topic.startsWith(`${prefix}/device/`),
      message: (topic, payload, flags) => {
        if (topic === birth) discovery.homeAssistantStatus(payload);
        else if (parseCommandTopic(topic)) discovery.command(topic, payload, flags, EXTERNAL_ACTOR);
        else {
          const feederId = feederOfTopic(prefix, topic);
          if (feederId && flags.retain && payload.length > 0) discovery.orphanSeen(feederId);
        }
      },
      connected: () => {
        const published = attached ? discovery.connected() : discovery.attach(external);
        attached = true;
        published.catch((err: unknown) =>
          this.deps.logger.warn({ err }, "could not publish Home Assistant discovery"),
        );
      },
    });
  }

  stop(): Promise<void> {
    return this.discovery.stop();
  }
}
