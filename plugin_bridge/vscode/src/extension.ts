/* The tfexam extension: the exam's timer, Submit and Test and live scores inside VS Code.

   It speaks only the service's REST API and its event stream, and finds both the service and the
   session in the project's `.tfexam/session.json` (address, session id, token). The service stays
   the one source of truth: every event carries a fresh status, from which the view and the status
   bar are redrawn; between events the time left is carried forward on a monotonic timer. */
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { Api, ServiceRefused, ServiceUnreachable } from "./api";
import { NOTICE_SECONDS, ExamClock, clockText, urgency } from "./clock";
import { EventStream } from "./events";
import { SessionFile, Status, StreamEvent, asSessionFile, firstLine } from "./guards";
import { ExamView, scoreText } from "./view";

const SESSION_FILE = path.join(".tfexam", "session.json");
// The status is read again this often besides the event stream: a save that a full disk kept
// from being recorded writes no event, so this is how soon the view and the bar say so.
const RESYNC_MS = 10_000;
const SUBMIT_WAIT_MS = 10 * 60_000;

/* The project folder that holds `.tfexam/session.json`: a workspace folder or one of its parents. */
function findProject(): { root: string; file: SessionFile } | undefined {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    let dir = folder.uri.fsPath;
    for (;;) {
      const candidate = path.join(dir, SESSION_FILE);
      if (fs.existsSync(candidate)) {
        try {
          const file = asSessionFile(JSON.parse(fs.readFileSync(candidate, "utf8")));
          if (file) return { root: dir, file };
        } catch {
          /* a half-written file: the watcher calls again when it is complete */
        }
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class Exam implements vscode.Disposable {
  private readonly clock = new ExamClock();
  private readonly bar: vscode.StatusBarItem;
  private readonly ticker: NodeJS.Timeout;
  private readonly resync: NodeJS.Timeout;
  private stream: EventStream | undefined;
  private status: Status | undefined;
  private offline: string | undefined;
  private unreachable = false;
  private noticeShown = false;
  private connectedAt: string | undefined;
  /* Submissions a command is waiting on: their grade is shown by the command, not twice. */
  readonly awaited = new Set<number>();

  constructor(readonly api: Api, readonly root: string, private readonly view: ExamView) {
    this.bar = vscode.window.createStatusBarItem("tfexam.time", vscode.StatusBarAlignment.Left, 100);
    this.bar.name = "TF Exam time left";
    this.bar.command = "tfexam.focusView";
    this.bar.text = "$(watch) TF Exam: connecting…";
    this.bar.show();
    this.ticker = setInterval(() => this.draw(), 1000);
    this.resync = setInterval(() => void this.refresh(), RESYNC_MS);
    void this.begin();
  }

  private async begin(): Promise<void> {
    await this.refresh();
    this.stream = new EventStream(this.api, {
      onEvent: (e) => this.onEvent(e),
      onConnected: () => {
        if (this.offline) void this.refresh();
      },
      onDisconnected: (reason) => void this.refresh().then(() => {
        if (!this.offline) this.setOffline(`The event stream of ${this.api.base} stopped (${reason}); reconnecting…`, false);
      }),
    }, 0);
    this.stream.start();
  }

  async refresh(): Promise<Status | undefined> {
    try {
      this.apply(await this.api.status());
    } catch (error) {
      if (error instanceof ServiceUnreachable) this.setOffline(message(error), true);
      else if (error instanceof ServiceRefused) this.setOffline(message(error), false);
      else throw error;
    }
    return this.status;
  }

  private apply(status: Status): void {
    // Only grades that arrive from the first status on are announced: earlier ones are in the view.
    if (this.connectedAt === undefined) this.connectedAt = status.server_time;
    this.status = status;
    this.offline = undefined;
    this.clock.sync(status.remaining_seconds, status.state === "running");
    this.view.show(status, undefined);
    this.draw();
  }

  private setOffline(reason: string, unreachable: boolean): void {
    this.offline = reason;
    this.unreachable = unreachable;
    this.view.show(this.status, reason);
    this.draw();
  }

  private onEvent(event: StreamEvent): void {
    const fresh = this.connectedAt !== undefined && event.at !== null && event.at > this.connectedAt;
    if (event.status) this.apply(event.status);
    if (event.kind === "result" && fresh && event.submission !== null &&
        !this.awaited.has(event.submission)) {
      const text = `${event.question}: ${event.score ?? "–"}/5 — ${firstLine(event.message ?? "")}`;
      if (event.score !== null && event.score > 0) void vscode.window.showInformationMessage(text);
      else void vscode.window.showWarningMessage(text);
    }
  }

  draw(): void {
    const s = this.status;
    if (this.offline) {
      this.bar.text = this.unreachable ? "$(debug-disconnect) TF Exam: service not running"
        : "$(warning) TF Exam: see the TF Exam view";
      this.bar.tooltip = this.offline;
      this.bar.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
      return;
    }
    if (!s) return;
    if (s.state !== "running") {
      const verdict = s.passed === null ? "grading" : s.passed ? "PASSED" : "NOT PASSED";
      this.bar.text = `$(pass) TF Exam submitted · ${s.total.toFixed(1)} % · ${verdict}`;
      this.bar.tooltip = "The exam is submitted: open the report (TF Exam: Open report).";
      this.bar.backgroundColor = undefined;
      return;
    }
    const left = this.clock.remaining();
    const scores = s.questions.map((q) => `${q.id} ${scoreText(q)}`).join(" · ");
    // A save tfexam could not record (a full disk) is said on the bar until one is recorded.
    const unrecorded = s.unrecorded.map((u) => u.question);
    this.bar.text = `$(watch) ${clockText(left)} left` +
      (unrecorded.length ? ` · $(error) ${unrecorded.join(", ")} save NOT recorded` : "");
    const keras = s.keras ? ` · Keras ${s.keras}` : "";
    this.bar.tooltip = `${s.exam_title}: ${clockText(left)} left (deadline ${s.deadline})${keras}.\n${scores}` +
      s.unrecorded.map((u) => `\n${u.message}`).join("");
    const level = urgency(left);
    this.bar.backgroundColor = level === "urgent" || unrecorded.length
      ? new vscode.ThemeColor("statusBarItem.errorBackground")
      : level === "warning" ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    if (left <= NOTICE_SECONDS && left > 0 && !this.noticeShown) {
      this.noticeShown = true;
      void vscode.window.showWarningMessage(
        `TF Exam: ${clockText(left)} left. The exam is submitted automatically at the deadline.`);
    }
    if (left <= 0) void this.refresh();
  }

  current(): Status | undefined {
    return this.status;
  }

  dispose(): void {
    clearInterval(this.ticker);
    clearInterval(this.resync);
    this.stream?.stop();
    this.bar.dispose();
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const view = new ExamView();
  let exam: Exam | undefined;

  const load = () => {
    exam?.dispose();
    exam = undefined;
    const found = findProject();
    if (!found) {
      view.show(undefined, "No tfexam project here: open the folder that `tfexam start` created.");
      return;
    }
    exam = new Exam(new Api(found.file), found.root, view);
  };

  const needExam = (): Exam | undefined => {
    if (!exam) {
      void vscode.window.showErrorMessage(
        "TF Exam: this folder holds no tfexam project (.tfexam/session.json); open the project folder.");
    }
    return exam;
  };

  /* The category of the open file, else the learner's pick. */
  const chooseQuestion = async (e: Exam, given?: unknown): Promise<string | undefined> => {
    const status = e.current() ?? await e.refresh();
    const ids = status?.questions.map((q) => q.id) ?? e.api.project.questions;
    if (typeof given === "string" && ids.includes(given)) return given;
    const file = vscode.window.activeTextEditor?.document.uri.fsPath;
    if (file) {
      const first = path.relative(e.root, file).split(path.sep)[0];
      if (ids.includes(first)) return first;
    }
    return vscode.window.showQuickPick(ids, { placeHolder: "Submit and Test which category?" });
  };

  const submitAndTest = async (given?: unknown) => {
    const e = needExam();
    if (!e) return;
    const question = await chooseQuestion(e, given instanceof vscode.TreeItem
      ? String(given.id ?? "").replace(/^question:/, "") : given);
    if (!question) return;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Submit and Test ${question}: grading…` },
      async () => {
        try {
          const submission = await e.api.submit(question);
          e.awaited.add(submission);
          const done = await e.api.waitForResult(submission, SUBMIT_WAIT_MS);
          if (!done?.result) {
            void vscode.window.showWarningMessage(`${question}: still grading; the TF Exam view shows the score when it arrives.`);
            return;
          }
          e.awaited.add(done.submission);
          const text = `Submit and Test ${question}: ${done.result.score}/5 — ${firstLine(done.result.messages[0] ?? "")}`;
          if (done.result.score > 0) void vscode.window.showInformationMessage(text);
          else void vscode.window.showWarningMessage(text);
          void e.refresh();
        } catch (error) {
          void vscode.window.showErrorMessage(`TF Exam: ${message(error)}`);
        }
      });
  };

  const finish = async () => {
    const e = needExam();
    if (!e) return;
    const sure = await vscode.window.showWarningMessage(
      "Finish the exam? Your models are submitted as they are now; files saved afterwards do not count.",
      { modal: true }, "Finish exam now");
    if (sure !== "Finish exam now") return;
    try {
      const status = await e.api.finish();
      void vscode.window.showInformationMessage(
        `TF Exam submitted: ${status.total.toFixed(1)} % (pass mark ${status.pass_mark} %).`, "Open report")
        .then((choice) => { if (choice) void vscode.commands.executeCommand("tfexam.openReport"); });
      void e.refresh();
    } catch (error) {
      void vscode.window.showErrorMessage(`TF Exam: ${message(error)}`);
    }
  };

  const open = (suffix: string) => () => {
    const e = needExam();
    if (!e) return;
    e.api.pageUrl(`/sessions/${e.api.project.session}${suffix}`).then(
      (address) => vscode.env.openExternal(vscode.Uri.parse(address)),
      (error) => vscode.window.showErrorMessage(`TF Exam: ${message(error)}`));
  };

  const reveal = async (question: unknown) => {
    const e = needExam();
    if (!e || typeof question !== "string") return;
    const file = vscode.Uri.file(path.join(e.root, question, "question.md"));
    if (fs.existsSync(file.fsPath)) await vscode.window.showTextDocument(file, { preview: true });
  };

  const tree = vscode.window.createTreeView("tfexam.questions", { treeDataProvider: view });
  const watcher = vscode.workspace.createFileSystemWatcher("**/.tfexam/session.json");
  watcher.onDidCreate(load);
  watcher.onDidChange(load);
  // A model saved anywhere: the service grades it (and says so by event), or notices it is in the
  // wrong folder (only a fresh status says that), so the view asks for one a moment later.
  const saves = vscode.workspace.createFileSystemWatcher("**/*.{h5,keras}");
  let pending: NodeJS.Timeout | undefined;
  const soon = () => {
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => void exam?.refresh(), 1500);
  };
  saves.onDidCreate(soon);
  saves.onDidChange(soon);
  context.subscriptions.push(
    tree, watcher, saves,
    vscode.commands.registerCommand("tfexam.submitAndTest", submitAndTest),
    vscode.commands.registerCommand("tfexam.finish", finish),
    vscode.commands.registerCommand("tfexam.openExamPage", open("")),
    vscode.commands.registerCommand("tfexam.openReport", open("/report")),
    vscode.commands.registerCommand("tfexam.reconnect", load),
    vscode.commands.registerCommand("tfexam.revealQuestion", reveal),
    vscode.commands.registerCommand("tfexam.focusView", () =>
      vscode.commands.executeCommand("tfexam.questions.focus")),
    vscode.workspace.onDidChangeWorkspaceFolders(load),
    { dispose: () => exam?.dispose() },
  );
  load();
}

export function deactivate(): void {
  /* everything is in the context's subscriptions */
}
