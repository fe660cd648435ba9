import type { FastifyError, FastifyInstance } from "fastify";
import type { createGateway } from "./proxy";

/**
 * `/gateway/{orgSlug}/{serverName}/…`: MCP traffic to a registered server, authenticated by one of
 * its `mcp_` keys. Its own scope: no session, no JSON-only parser (a body is read as bytes, up to
 * GATEWAY_MAX_BODY_BYTES), no response serializer, and errors in the gateway's own format.
 */
export async function gatewayRoutes(
  app: FastifyInstance,
  { handle, maxBodyBytes }: { handle: ReturnType<typeof createGateway>; maxBodyBytes: number },
) {
  app.addHook("preClose", async () => handle.endStreams());
  app.addHook("onClose", async () => handle.close());
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );
  // Errors before the handler (a body too large or unreadable) are calls too: `refuse` logs them.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return handle.refuse(request, reply, {
        status: 413,
        reason: "payload_too_large",
        message: `The request body is larger than ${maxBodyBytes} bytes (GATEWAY_MAX_BODY_BYTES)`,
      });
    }
    if (error.statusCode && error.statusCode < 500) {
      return handle.refuse(request, reply, {
        status: 400,
        reason: "bad_request",
        message: error.message,
      });
    }
    request.log.error({ err: error }, "gateway error");
    return handle.refuse(request, reply, {
      status: 502,
      reason: "gateway_error",
      message: "The gateway could not forward this request; quote the correlation id",
    });
  });

  const base = "/gateway/:org/:server";
  const hide = { schema: { hide: true } };
  app.route({
    method: ["POST", "GET", "DELETE"],
    url: `${base}/mcp`,
    ...hide,
    handler: (req, reply) => handle("mcp", req, reply),
  });
  app.get(`${base}/sse`, hide, (req, reply) => handle("sse", req, reply));
  app.post(`${base}/messages`, hide, (req, reply) => handle("messages", req, reply));
}
