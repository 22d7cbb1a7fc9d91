/* The session's server-sent events over Node's http: reconnects after the last event it saw, so
   a restart of the service loses nothing, and reports whether the service is reachable. */
import * as http from "http";
import { Api } from "./api";
import { StreamEvent, asStreamEvent } from "./guards";

const RETRY_MS = 2000;
/* The service sends a heartbeat every few seconds (a keep-alive at least every 15 s): a stream
   silent for longer than this is stalled, and is dropped and opened again. */
const STALL_MS = 30_000;

export interface StreamListener {
  onEvent(event: StreamEvent): void;
  onConnected(): void;
  onDisconnected(reason: string): void;
}

export class EventStream {
  private lastId = 0;
  private request: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastData = 0;
  private dropStalled: (() => void) | undefined;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly api: Api, private readonly listener: StreamListener,
              startAfter: number) {
    this.lastId = startAfter;
    this.watchdog = setInterval(() => {
      if (this.dropStalled && Date.now() - this.lastData > STALL_MS) this.dropStalled();
    }, 5000);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    if (this.timer) clearTimeout(this.timer);
    this.request?.destroy();
  }

  private retry(reason: string): void {
    if (this.stopped) return;
    this.request = undefined;
    this.listener.onDisconnected(reason);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), RETRY_MS);
  }

  private connect(): void {
    if (this.stopped) return;
    /* The stream's own connection is proven first too (Api.connection), and again after every
       drop: whatever answers after a restart must prove itself before it gets the token. */
    this.api.connection("text/event-stream").then((options) => this.open(options),
      (e: Error) => this.retry(e.message));
  }

  private open(options: http.RequestOptions): void {
    if (this.stopped) return;  // its proven socket closes when the service times it out
    const url = `${this.api.base}/api/sessions/${this.api.project.session}/events?after=${this.lastId}`;
    let failed = false;
    const fail = (reason: string) => {
      if (!failed) {
        failed = true;
        this.dropStalled = undefined;
        req.destroy();
        this.retry(reason);
      }
    };
    const req = http.get(url, options, (res) => {
      if (res.statusCode !== 200 || !String(res.headers["content-type"]).startsWith("text/event-stream")) {
        res.resume();
        fail(`the service at ${this.api.base} refused the event stream (HTTP ${res.statusCode})`);
        return;
      }
      this.listener.onConnected();
      this.lastData = Date.now();
      this.dropStalled = () => fail("the event stream went silent");
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        this.lastData = Date.now();
        buffer += chunk.replace(/\r\n/g, "\n");
        let cut = buffer.indexOf("\n\n");
        while (cut >= 0) {
          this.dispatch(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf("\n\n");
        }
      });
      res.on("end", () => fail("the service closed the event stream"));
      res.on("error", (e) => fail(e.message));
      res.on("close", () => fail("the event stream closed"));
    });
    req.on("error", (e) => fail(e.message));
    this.request = req;
  }

  private dispatch(block: string): void {
    let id: number | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("id:")) id = Number(line.slice(3).trim());
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (id !== undefined && Number.isFinite(id)) this.lastId = Math.max(this.lastId, id);
    if (data.length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      return;
    }
    const event = asStreamEvent(parsed);
    if (event) this.listener.onEvent(event);
  }
}
