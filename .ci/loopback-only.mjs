// Preloaded (`node --import ./loopback-only.mjs …`) into a server written elsewhere that listens on
// every interface and takes no host setting (the reference MCP server): a `listen(port[, cb])` with
// no host binds 127.0.0.1 instead, so that nothing beyond this machine can reach it during CI.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [port, next] = args;
  const portOnly = typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port));
  if (portOnly && (args.length === 1 || typeof next === "function")) args.splice(1, 0, "127.0.0.1");
  return listen.apply(this, args);
};
