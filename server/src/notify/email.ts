/**
 * E-mail through the owner's SMTP server, with nodemailer. The host is checked by the same rules as
 * notification URLs and the connection goes to the address that passed (SNI and the certificate check
 * still use the host name), so DNS cannot move it elsewhere afterwards.
 */
import { DeliveryError, networkErrorText, SEND_TIMEOUT_MS } from "./http-send.js";
import type { Outgoing, SendContext } from "./message.js";
import type { EmailConfig } from "./model.js";
import { checkNotifyTarget } from "./targets.js";

/** nodemailer's error codes, said the way an owner fixing the settings needs them. */
const SMTP_ERRORS: Record<string, string> = {
  EAUTH: "refused the user name or password",
  ETLS: "could not set up TLS (check the security setting and port)",
  ESOCKET: "closed the connection or spoke no SMTP (check the security setting and port)",
  EENVELOPE: "refused the sender or a recipient",
  EMESSAGE: "refused the message",
  ETIMEDOUT: "did not answer in time",
  ECONNECTION: "refused the connection (is the port right?)",
};

function smtpErrorText(host: string, err: unknown): string {
  const e = err as { code?: unknown; response?: unknown; message?: unknown };
  const cause = (err as { cause?: unknown }).cause;
  if (typeof e.code === "string" && e.code in SMTP_ERRORS) {
    const said = typeof e.response === "string" ? ` It said: ${e.response.slice(0, 200)}` : "";
    // A refused connection comes as ECONNECTION with the socket's own error underneath.
    if (e.code === "ECONNECTION" && cause) return networkErrorText(host, cause);
    return `The mail server ${host} ${SMTP_ERRORS[e.code]}.${said}`;
  }
  return networkErrorText(host, err);
}

export async function sendEmail(
  config: EmailConfig,
  password: string | null,
  out: Outgoing,
  ctx: SendContext,
): Promise<void> {
  const target = await checkNotifyTarget(`smtp://${config.host}:${config.port}`, {
    smtp: true,
    lookup: ctx.lookup,
  });
  if (!target.ok) throw new DeliveryError(target.message);
  const address = target.addresses[0]?.address ?? target.hostname;
  const isIpHost = target.addresses.length === 1 && address === target.hostname;
  // Loaded on the first e-mail: megabytes of code most servers, with no e-mail channel, never run.
  const { default: nodemailer } = await import("nodemailer");
  const transport = nodemailer.createTransport({
    host: address,
    port: config.port,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    ...(!isIpHost && { servername: target.hostname, tls: { servername: target.hostname } }),
    ...(config.username && { auth: { user: config.username, pass: password ?? "" } }),
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: out.text.title,
      text: out.text.body,
      headers: { "X-Feedkeeper-Alert": out.event.kind },
    });
  } catch (err) {
    throw new DeliveryError(smtpErrorText(config.host, err));
  } finally {
    transport.close();
  }
}
