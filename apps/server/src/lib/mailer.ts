import nodemailer from "nodemailer";
import type { Logger } from "./log";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** The link the mail is about (verify, accept): logged for hand-over when no mail can be sent. */
  link: string;
}

/** Sends Switchboard's mail: by SMTP when SMTP_URL is set, else into the log for someone to hand over. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Whether mail leaves the machine (false: links are only logged). */
  readonly delivers: boolean;
  close(): void;
}

export function createMailer({
  smtpUrl,
  from,
  log,
}: {
  smtpUrl?: string | undefined;
  from: string;
  log: Logger;
}): Mailer {
  if (!smtpUrl) {
    return {
      delivers: false,
      async send({ to, subject, link }) {
        log.info(
          { to, subject, link },
          "no SMTP_URL set, so no mail was sent: hand this link to its recipient",
        );
      },
      close: () => {},
    };
  }
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    delivers: true,
    async send({ to, subject, text }) {
      await transport.sendMail({ from, to, subject, text });
      log.info({ to, subject }, "mail sent");
    },
    close: () => transport.close(),
  };
}
