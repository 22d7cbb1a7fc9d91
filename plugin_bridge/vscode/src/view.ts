/* The "TF Exam" view: one row per category with its score, state and last message; a first row
   that says when the service cannot be reached. */
import * as vscode from "vscode";
import { Question, Status } from "./guards";

const STATE_TEXT: Record<string, string> = {
  none: "no model yet", waiting: "waiting", grading: "grading", graded: "graded", error: "error",
};

const STATE_ICON: Record<string, string> = {
  none: "circle-large-outline", waiting: "clock", grading: "sync~spin", graded: "pass", error: "error",
};

export function scoreText(q: Question): string {
  return q.score === null ? "–" : `${q.score}/5`;
}

class Row extends vscode.TreeItem {}

export class ExamView implements vscode.TreeDataProvider<Row> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private status: Status | undefined;
  private problem: string | undefined;

  show(status: Status | undefined, problem: string | undefined): void {
    this.status = status;
    this.problem = problem;
    this.changed.fire();
  }

  private warning(text: string): Row {
    const row = new Row(text);
    row.iconPath = new vscode.ThemeIcon("warning", new vscode.ThemeColor("problemsWarningIcon.foreground"));
    row.tooltip = text;
    row.contextValue = "warning";
    return row;
  }

  getTreeItem(row: Row): vscode.TreeItem {
    return row;
  }

  getChildren(parent?: Row): Row[] {
    if (parent) return [];
    const rows: Row[] = [];
    if (this.problem) {
      const row = new Row(this.problem);
      row.iconPath = new vscode.ThemeIcon("debug-disconnect", new vscode.ThemeColor("errorForeground"));
      row.tooltip = this.problem;
      row.contextValue = "problem";
      rows.push(row);
    }
    if (!this.status) return rows;
    if (this.status.project === "missing") {
      rows.push(this.warning("The project folder is missing: restore it so that saves are seen again."));
    }
    for (const item of this.status.unrecorded) {
      const row = this.warning(`${item.question}: save NOT recorded. ${item.message}`);
      row.id = `unrecorded:${item.question}`;
      row.iconPath = new vscode.ThemeIcon("error", new vscode.ThemeColor("errorForeground"));
      rows.push(row);
    }
    for (const item of this.status.misplaced) {
      rows.push(this.warning(`${item.path} is not graded there: move it to ${item.should_be}`));
    }
    for (const q of this.status.questions) {
      const state = STATE_TEXT[q.state] ?? q.state;
      const row = new Row(`${q.id}  ${scoreText(q)}`);
      row.id = `question:${q.id}`;
      row.description = `${state}${q.message ? " · " + q.message : ""}`;
      row.tooltip = new vscode.MarkdownString(
        `**${q.id}: ${q.title}**\n\nscore ${scoreText(q)} · ${state}\n\n${q.message}`);
      row.iconPath = new vscode.ThemeIcon(STATE_ICON[q.state] ?? "circle-large-outline");
      row.contextValue = "question";
      row.accessibilityInformation = {
        label: `${q.id}: ${scoreText(q)}, ${state}. ${q.message}`,
      };
      row.command = { command: "tfexam.revealQuestion", title: "Open question", arguments: [q.id] };
      rows.push(row);
    }
    const s = this.status;
    const verdict = s.state === "submitted"
      ? (s.passed === null ? " · grading still running" : s.passed ? " · PASSED" : " · NOT PASSED") : "";
    const total = new Row(`Total ${s.total.toFixed(1)} %`);
    total.id = "total";
    total.description = `pass mark ${s.pass_mark} %${verdict}`;
    total.iconPath = new vscode.ThemeIcon("graph");
    rows.push(total);
    return rows;
  }
}
