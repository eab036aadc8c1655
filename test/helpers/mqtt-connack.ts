import mqtt from "mqtt";

/**
 * Connects once (MQTT 3.1.1, no reconnect) and says what the broker answered: "connected", or the CONNACK
 * refusal code. A connected client goes into `keep`, for the caller to end.
 */
export async function connack(
  url: string,
  options: mqtt.IClientOptions,
  keep: mqtt.MqttClient[],
): Promise<number | "connected"> {
  try {
    keep.push(
      await mqtt.connectAsync(url, {
        reconnectPeriod: 0,
        protocolVersion: 4,
        connectTimeout: 5000,
        ...options,
      }),
    );
    return "connected";
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== "number") throw err;
    return code;
  }
}
