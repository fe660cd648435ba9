import { createServer } from "node:net";
import { chromium } from "playwright-core";

/** Headless Debian Chromium with nothing of its own reaching the network. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The password every browser test signs up with. */
export const PASSWORD = "correct-horse-battery";

/** Debian's Chromium (or CHROMIUM_PATH's), driven by playwright-core. */
export const launchChromium = () =>
  chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });

/** A loopback port nothing listens on now. */
export const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
