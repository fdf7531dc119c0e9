// Email channel: SMTP through nodemailer, loaded only when email is configured.
import { type AlertChannel, ChannelError } from './channels.ts';

export interface EmailSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  user: string | null;
  from: string;
  to: string[];
}

export function emailChannel(settings: EmailSettings, password: string | null, timeoutMs = 10_000): AlertChannel {
  let transport: Promise<import('nodemailer').Transporter> | null = null;
  const label = `smtp://${settings.host}:${settings.port}`;
  return {
    id: `email:${settings.host}:${settings.port}:${[...settings.to].sort().join(',')}`,
    label,
    async send(message) {
      transport ??= import('nodemailer').then((m) =>
        m.default.createTransport({
          host: settings.host,
          port: settings.port,
          secure: settings.secure,
          auth: settings.user ? { user: settings.user, pass: password ?? '' } : undefined,
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs,
        }),
      );
      const [subject = 'codex-fleet alert', ...rest] = message.text.split('\n');
      try {
        await (await transport).sendMail({
          from: settings.from,
          to: settings.to,
          subject,
          text: rest.length > 0 ? message.text : subject,
          headers: { 'X-Codex-Fleet-Alert': message.key },
        });
      } catch (e) {
        const err = e as { responseCode?: number; code?: string };
        // 4xx SMTP replies and connection failures are temporary; 5xx replies are permanent.
        const retryable = err.responseCode == null || (err.responseCode >= 400 && err.responseCode < 500);
        throw new ChannelError(`email via ${label} failed (${err.responseCode ?? err.code ?? 'error'})`, retryable);
      }
    },
  };
}
