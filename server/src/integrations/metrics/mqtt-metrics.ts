import { Counter, Gauge, type Registry } from "prom-client";

/** What the embedded broker reports per message: a bare increment, nothing more on its hot path. */
export interface BrokerTraffic {
  received(): void;
  sent(): void;
}

/**
 * MQTT connections (read from the broker when scraped) and messages through the embedded broker. The message
 * counts are plain numbers the broker bumps; the counters take what was added since the last scrape, so a
 * message costs an addition rather than a labelled counter update.
 */
export function registerMqttMetrics(registry: Registry, connectedCount: () => number): BrokerTraffic {
  let received = 0;
  let sent = 0;
  new Gauge({
    name: "feedkeeper_mqtt_connections",
    help: "Clients connected to the embedded MQTT broker: feeders, devices waiting to be adopted, integrations.",
    registers: [registry],
    collect() {
      this.set(connectedCount());
    },
  });
  let receivedTaken = 0;
  new Counter({
    name: "feedkeeper_mqtt_messages_received_total",
    help: "PUBLISH packets the embedded broker received from its clients.",
    registers: [registry],
    collect() {
      this.inc(received - receivedTaken);
      receivedTaken = received;
    },
  });
  let sentTaken = 0;
  new Counter({
    name: "feedkeeper_mqtt_messages_sent_total",
    help: "PUBLISH packets the embedded broker delivered to its clients.",
    registers: [registry],
    collect() {
      this.inc(sent - sentTaken);
      sentTaken = sent;
    },
  });
  return {
    received: () => {
      received++;
    },
    sent: () => {
      sent++;
    },
  };
}
