/**
 * Home Assistant as a client of the embedded broker. It logs in with the username `homeassistant` and an
 * API token (made in the web UI) as its password; the token's user, role and household decide what it may
 * do, checked again for every command, so a token revoked or expired since the login commands nothing.
 *
 * Such a client may subscribe within `<prefix>/#` and `feedkeeper/ha/#` and receives only the messages of
 * its own household's feeders (and the server's availability). It may publish only its household's command
 * topics and Home Assistant's own status. Device topics stay out of its reach both ways: feeders are as
 * isolated from it as from each other. Failed logins count in the broker's attempt throttle.
 *
 * Every other connection is a device's, and goes to the device bridge's hooks unchanged.
 */
import type { AccountService } from "../../auth/accounts.js";
import { type AttemptThrottle, mqttKeys } from "../../auth/attempt-throttle.js";
import { randomId } from "../../auth/secrets.js";
import { filterCovers, isFeederIdentity, type PublishDecision } from "../../broker/acl.js";
import type { Admission, BrokerHooks, IntegrationSession, Session } from "../../broker/embedded-broker.js";
import type { Logger } from "../../logger.js";
import type { ProfileRegistry } from "../../profiles/profile-registry.js";
import type { Actor } from "./commands.js";
import type { HomeAssistantDiscovery } from "./publisher.js";
import { feederOfTopic, HA_ROOT, HA_SERVER_STATUS_TOPIC, haTopics, parseCommandTopic } from "./topics.js";

export const HA_USERNAME = "homeassistant";

/** How long a token stays trusted for delivering messages before it is looked up again. */
const RECHECK_MS = 30_000;

interface Login {
  token: string;
  checkedAt: number;
  valid: boolean;
}

export class HomeAssistantBrokerAccess implements BrokerHooks {
  /** The token each connection logged in with, to check it again (never in the session: sessions are logged). */
  private readonly logins = new Map<string, Login>();
  /** Client ids vendor devices log in with: Home Assistant must not take over a device's session. */
  private readonly deviceClientIds: RegExp[];
  private readonly log: Logger;

  constructor(
    private readonly devices: BrokerHooks,
    private readonly discovery: HomeAssistantDiscovery,
    private readonly accounts: AccountService,
    private readonly throttle: AttemptThrottle,
    profiles: ProfileRegistry,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.log = logger.child({ component: "home-assistant-access" });
    this.deviceClientIds = profiles.list().flatMap(({ profile }) => {
      const { broker, identify } = profile.transport;
      return broker === "embedded" && identify.by === "clientId" ? [new RegExp(identify.pattern)] : [];
    });
  }

  admit(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    address: string | undefined,
  ): Admission {
    if (username !== HA_USERNAME) return this.devices.admit(clientId, username, password, address);
    const refuse = (code: 2 | 3 | 4 | 5, reason: string): Admission => {
      this.log.warn({ clientId, address, reason }, "refused a Home Assistant login");
      return { refused: code, reason };
    };
    // A client id a device uses would take over the device's session and cut it off.
    if (isFeederIdentity(clientId) || this.deviceClientIds.some((p) => p.test(clientId))) {
      return refuse(2, "this client id belongs to devices; let Home Assistant pick its own");
    }
    if (password === undefined) return refuse(5, "the password is an API token made in the web UI");
    const keys = mqttKeys(clientId, address);
    const verdict = this.throttle.check(keys);
    if (verdict.throttled) {
      return refuse(3, `too many failed logins; try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`);
    }
    const token = password.toString("utf8");
    const user = this.accounts.userForToken(token)?.user;
    if (!user) {
      this.throttle.failed(keys);
      return refuse(4, "unknown, revoked or expired API token");
    }
    this.throttle.clear(keys);
    const connectionId = randomId();
    this.logins.set(connectionId, { token, checkedAt: this.now(), valid: true });
    const integration: IntegrationSession = {
      kind: "home-assistant",
      clientId,
      connectionId,
      householdId: user.householdId,
    };
    this.log.info({ clientId, address, householdId: user.householdId }, "Home Assistant logged in");
    return { integration };
  }

  onConnected(session: Session, address: string | undefined): boolean {
    return session.integration ? true : this.devices.onConnected(session, address);
  }

  onDisconnected(session: Session): void {
    if (session.integration) this.logins.delete(session.integration.connectionId);
    else this.devices.onDisconnected(session);
  }

  authorizePublish(session: Session, topic: string): PublishDecision {
    const ha = session.integration;
    if (!ha) return this.devices.authorizePublish(session, topic);
    if (topic === haTopics.birth(this.discovery.prefix)) return { allow: true };
    const command = parseCommandTopic(topic);
    if (command && this.discovery.householdOf(command.feederId) === ha.householdId) return { allow: true };
    return {
      allow: false,
      reason: "Home Assistant may publish only its status and its household's commands",
    };
  }

  authorizeSubscribe(session: Session, filter: string): boolean {
    if (!session.integration) return this.devices.authorizeSubscribe(session, filter);
    return filterCovers(`${this.discovery.prefix}/#`, filter) || filterCovers(`${HA_ROOT}/#`, filter);
  }

  mayDeliver(session: Session, topic: string, retain: boolean): boolean {
    const ha = session.integration;
    if (!ha) return this.devices.mayDeliver(session, topic, retain);
    if (!this.stillValid(ha)) return false;
    if (topic === HA_SERVER_STATUS_TOPIC) return true;
    const feederId = feederOfTopic(this.discovery.prefix, topic);
    return feederId !== undefined && this.discovery.householdOf(feederId) === ha.householdId;
  }

  onPublishRefused(session: Session, topic: string, reason: string): void {
    if (!session.integration) this.devices.onPublishRefused(session, topic, reason);
  }

  onSubscribeRefused(session: Session, filter: string): void {
    if (!session.integration) this.devices.onSubscribeRefused(session, filter);
  }

  onCommandsSubscribed(feederId: string, filters: string[]): void {
    this.devices.onCommandsSubscribed(feederId, filters);
  }

  onFlapping(session: Session, clientId: string, address: string | undefined, bannedForMs: number): void {
    if (!session.integration) this.devices.onFlapping?.(session, clientId, address, bannedForMs);
  }

  onMessage(session: Session, topic: string, payload: Buffer, retain: boolean, dup = false): void {
    const ha = session.integration;
    if (!ha) {
      this.devices.onMessage(session, topic, payload, retain, dup);
      return;
    }
    if (topic === haTopics.birth(this.discovery.prefix)) {
      this.discovery.homeAssistantStatus(payload);
      return;
    }
    const actor = this.actorOf(ha);
    if (!actor) {
      this.log.warn(
        { clientId: ha.clientId, topic },
        "ignored a command: the API token is revoked or expired",
      );
      return;
    }
    this.discovery.command(topic, payload, { retain, dup }, actor);
  }

  /** Who the connection's token stands for now (role and household as they are, not as at login). */
  private actorOf(ha: IntegrationSession): Actor | undefined {
    const login = this.logins.get(ha.connectionId);
    const found = login && this.accounts.userForToken(login.token);
    if (!login || !found) {
      if (login) login.valid = false;
      return undefined;
    }
    login.checkedAt = this.now();
    login.valid = found.user.householdId === ha.householdId;
    if (!login.valid) return undefined;
    return {
      name: `Home Assistant (${found.user.username}, token "${found.tokenName}")`,
      userId: found.user.id,
      householdId: found.user.householdId,
      role: found.user.role,
    };
  }

  private stillValid(ha: IntegrationSession): boolean {
    const login = this.logins.get(ha.connectionId);
    if (!login) return false;
    if (this.now() - login.checkedAt >= RECHECK_MS) this.actorOf(ha);
    return login.valid;
  }
}
