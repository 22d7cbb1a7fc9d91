/* The service's REST API over Node's own http module: one request at a time, a sentence for
   every failure, and the token (contract 1) on every call when the project has one, each on its
   own connection whose listener first proved it is this tfexam (identity.ts). */
import * as http from "http";
import { provenSocket } from "./identity";
import { SessionFile, Status, Submission, asStatus, asSubmission, asSubmitted } from "./guards";

/* Nothing answers at the address: the service is not running (or the address is wrong). */
export class ServiceUnreachable extends Error {}

/* The service answered with an error; its sentence is the message. */
export class ServiceRefused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 15_000;

export class Api {
  constructor(readonly project: SessionFile) {}

  get base(): string {
    return this.project.server;
  }

  /* Options for one request: without a token, plain; with one, a socket whose listener proved
     it holds the token, and only then the Authorization header (never before the proof). */
  async connection(accept: string): Promise<http.RequestOptions> {
    const headers: Record<string, string> = { Accept: accept };
    const token = this.project.token;
    if (!token) return { headers };
    let socket;
    try {
      socket = await provenSocket(this.base, token,
        this.project.classroom ? this.project.session : undefined);
    } catch (e) {
      throw new ServiceUnreachable(e instanceof Error && e.name === "NotProven" ? e.message
        : `The tfexam service is not running at ${this.base} (${e instanceof Error ? e.message : e}): ` +
          "start it with 'tfexam serve'.");
    }
    headers.Authorization = `Bearer ${token}`;
    return { headers, createConnection: () => socket };
  }

  /* An address for the browser: a one-time code the page exchanges for its cookie, never the
     token (a browser's command line is visible to every user in `ps`). */
  async pageUrl(path: string): Promise<string> {
    if (!this.project.token) return `${this.base}${path}`;
    const reply = await this.request("POST", "/api/browser-codes");
    const code = typeof reply === "object" && reply !== null
      ? (reply as Record<string, unknown>).code : undefined;
    if (typeof code !== "string") throw new ServiceRefused(0, "The service gave no code for the browser.");
    return `${this.base}${path}?code=${encodeURIComponent(code)}`;
  }

  async request(method: string, path: string): Promise<unknown> {
    const options = await this.connection("application/json");
    return new Promise((resolve, reject) => {
      const body = method === "POST" ? "{}" : undefined;
      const headers = options.headers as Record<string, string>;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const req = http.request(this.base + path, { ...options, method, headers, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (e) => reject(new ServiceUnreachable(e.message)));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              reject(new ServiceRefused(res.statusCode ?? 0,
                `Something other than tfexam answers at ${this.base}; start tfexam there ` +
                "(tfexam serve) or fix the address in .tfexam/session.json."));
              return;
            }
            const code = res.statusCode ?? 0;
            if (code >= 400) {
              const detail = typeof parsed === "object" && parsed !== null &&
                typeof (parsed as Record<string, unknown>).detail === "string"
                ? (parsed as Record<string, string>).detail : `HTTP ${code}`;
              reject(new ServiceRefused(code, detail));
              return;
            }
            resolve(parsed);
          });
        });
      req.on("timeout", () => req.destroy(new Error("no answer in time")));
      req.on("error", (e) => reject(new ServiceUnreachable(
        `The tfexam service is not running at ${this.base} (${e.message}): start it with ` +
        "'tfexam serve'.")));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async status(): Promise<Status> {
    const reply = asStatus(await this.request("GET", `/api/sessions/${this.project.session}`));
    if (!reply) throw new ServiceRefused(0, `What answers at ${this.base} is not tfexam.`);
    return reply;
  }

  async submit(question: string): Promise<number> {
    const reply = asSubmitted(await this.request(
      "POST", `/api/sessions/${this.project.session}/questions/${encodeURIComponent(question)}/submit`));
    if (!reply) throw new ServiceRefused(0, "The service's reply to Submit and Test was not understood.");
    return reply.submission;
  }

  async submission(id: number): Promise<Submission> {
    const reply = asSubmission(await this.request(
      "GET", `/api/sessions/${this.project.session}/submissions/${id}`));
    if (!reply) throw new ServiceRefused(0, "The service's reply about a submission was not understood.");
    return reply;
  }

  async finish(): Promise<Status> {
    const reply = asStatus(await this.request("POST", `/api/sessions/${this.project.session}/finish`));
    if (!reply) throw new ServiceRefused(0, "The service's reply to Finish was not understood.");
    return reply;
  }

  /* Follows a submission until it has a result, through any later save that superseded it
     (contract 5), or until `timeoutMs` passes. */
  async waitForResult(first: number, timeoutMs: number): Promise<Submission | undefined> {
    const until = Date.now() + timeoutMs;
    let id = first;
    while (Date.now() < until) {
      const sub = await this.submission(id);
      if (sub.result) return sub;
      if (sub.state === "superseded" && sub.superseded_by !== null) {
        id = sub.superseded_by;
        continue;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    return undefined;
  }
}
