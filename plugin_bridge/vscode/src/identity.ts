/* Before the token goes anywhere, the listener proves it is the tfexam that holds it.

   Whatever answers the project's port may be another program (another user of the machine can
   bind the port while tfexam is down). So each request opens its own connection, first asks
   `GET /api/hello?nonce=N` on it without the token, and checks the answer against
   HMAC-SHA256(token, "tfexam-service-proof\0" + N): only the real service can compute it, and it
   tells a listener nothing about the token. The request that carries `Authorization` then goes on
   that same socket, so a listener that took the port in between never receives it either.

   A classroom service keeps only the SHA-256 of a learner's token, so a project made by
   `tfexam join` names its session in the hello, and that service answers `keyed_by: "sha256"`,
   its proof keyed by the token's hex digest (which a listener without the token cannot compute
   either), as the CLI checks it (plugin_bridge/client.py). */
import * as crypto from "crypto";
import * as net from "net";

const SERVICE_PROOF = "tfexam-service-proof\0";
const HELLO_TIMEOUT_MS = 5_000;
const MAX_HELLO_BYTES = 64 * 1024;

/* What answers cannot prove it is this project's tfexam: the token was not sent. */
export class NotProven extends Error {
  override name = "NotProven";
}

export function expectedProof(token: string, nonce: string, keyedBy?: unknown): string {
  const key = keyedBy === "sha256" ? crypto.createHash("sha256").update(token).digest("hex") : token;
  return crypto.createHmac("sha256", key).update(SERVICE_PROOF + nonce).digest("hex");
}

/* A connected socket to `base` whose listener proved it holds `token`; the caller sends its one
   request on it (and the socket is closed with that request). Rejects with NotProven, or with
   the socket's own error when nothing answers. */
export function provenSocket(base: string, token: string, session?: string): Promise<net.Socket> {
  const url = new URL(base);
  const port = Number(url.port || 80);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const nonce = crypto.randomBytes(24).toString("base64url");
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.removeListener("data", onData);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const stranger = () => new NotProven(
      `What answers at ${base} could not prove it is your tfexam (it does not know your ` +
      "project's token), so the token was not sent: start tfexam ('tfexam serve'); if it is " +
      "running, another program holds its port.");
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_HELLO_BYTES) return finish(stranger());
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = received.subarray(0, end).toString("latin1");
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!/^HTTP\/1\.1 200 /.test(head) || !length) return finish(stranger());
      const body = received.subarray(end + 4);
      if (body.length < Number(length[1])) return;
      let reply: unknown;
      try {
        reply = JSON.parse(body.subarray(0, Number(length[1])).toString("utf8"));
      } catch {
        return finish(stranger());
      }
      const fields = typeof reply === "object" && reply !== null
        ? reply as Record<string, unknown> : {};
      const proof = fields.proof;
      const expected = expectedProof(token, nonce, fields.keyed_by);
      if (typeof proof !== "string" || proof.length !== expected.length ||
          !crypto.timingSafeEqual(Buffer.from(proof), Buffer.from(expected))) {
        return finish(stranger());
      }
      finish();
    };
    socket.on("data", onData);
    socket.once("error", (e) => finish(e));
    socket.once("close", () => finish(new Error("the connection closed")));
    socket.setTimeout(HELLO_TIMEOUT_MS, () => finish(new Error("no answer in time")));
    socket.once("connect", () => {
      const named = session ? `&session=${encodeURIComponent(session)}` : "";
      socket.write(`GET /api/hello?nonce=${nonce}${named} HTTP/1.1\r\nHost: ${url.host}\r\n` +
        "Accept: application/json\r\nConnection: keep-alive\r\n\r\n");
    });
  });
}
