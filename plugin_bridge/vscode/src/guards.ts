/* Hand-written guards for what the service sends: a reply is parsed on receipt, so the rest of
   the extension works with typed values and a service of another shape is refused in one place. */

export interface Question {
  id: string;
  title: string;
  state: string;
  score: number | null;
  message: string;
}

export interface Misplaced {
  path: string;
  should_be: string;
}

/* A save tfexam could not record (its home full): named until a save of the question is. */
export interface Unrecorded {
  question: string;
  message: string;
}

export interface Status {
  session: string;
  keras: string | null;
  project: string | null;
  misplaced: Misplaced[];
  unrecorded: Unrecorded[];
  exam_title: string;
  state: string;
  deadline: string;
  server_time: string;
  remaining_seconds: number;
  total: number;
  pass_mark: number;
  passed: boolean | null;
  questions: Question[];
}

export interface Submitted {
  submission: number;
}

export interface Submission {
  submission: number;
  question: string;
  state: string;
  superseded_by: number | null;
  result: { score: number; messages: string[]; status: string } | null;
}

export interface SessionFile {
  session: string;
  server: string;
  token: string | null;
  questions: string[];
  classroom: boolean; /* made by `tfexam join`: the token is a learner's, proven by session */
}

export interface StreamEvent {
  kind: string;
  question: string | null;
  submission: number | null;
  score: number | null;
  message: string | null;
  at: string | null;
  status: Status | null;
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function str(o: Obj, key: string): string | undefined {
  return typeof o[key] === "string" ? (o[key] as string) : undefined;
}

function num(o: Obj, key: string): number | undefined {
  return typeof o[key] === "number" && Number.isFinite(o[key]) ? (o[key] as number) : undefined;
}

function numOrNull(o: Obj, key: string): number | null | undefined {
  return o[key] === null || o[key] === undefined ? null : num(o, key);
}

export function asQuestion(x: unknown): Question | undefined {
  if (!isObj(x)) return undefined;
  const id = str(x, "id");
  const state = str(x, "state");
  const score = numOrNull(x, "score");
  if (id === undefined || state === undefined || score === undefined) return undefined;
  return { id, title: str(x, "title") ?? id, state, score, message: str(x, "message") ?? "" };
}

export function asStatus(x: unknown): Status | undefined {
  if (!isObj(x) || !Array.isArray(x.questions)) return undefined;
  const session = str(x, "session");
  const state = str(x, "state");
  const remaining = num(x, "remaining_seconds");
  const serverTime = str(x, "server_time");
  const questions = x.questions.map(asQuestion);
  if (session === undefined || state === undefined || remaining === undefined ||
      serverTime === undefined || questions.some((q) => q === undefined)) {
    return undefined;
  }
  const passed = typeof x.passed === "boolean" ? x.passed : null;
  const misplaced: Misplaced[] = [];
  for (const item of Array.isArray(x.misplaced) ? x.misplaced : []) {
    if (isObj(item) && typeof item.path === "string" && typeof item.should_be === "string") {
      misplaced.push({ path: item.path, should_be: item.should_be });
    }
  }
  const unrecorded: Unrecorded[] = [];
  for (const item of Array.isArray(x.unrecorded_saves) ? x.unrecorded_saves : []) {
    if (isObj(item) && typeof item.question === "string" && typeof item.message === "string") {
      unrecorded.push({ question: item.question, message: item.message });
    }
  }
  return {
    session, state, remaining_seconds: remaining, server_time: serverTime, passed, misplaced,
    unrecorded,
    keras: str(x, "keras") ?? null,
    project: str(x, "project") ?? null,
    exam_title: str(x, "exam_title") ?? str(x, "exam") ?? "TF Exam",
    deadline: str(x, "deadline") ?? "",
    total: num(x, "total") ?? 0,
    pass_mark: num(x, "pass_mark") ?? 0,
    questions: questions as Question[],
  };
}

export function asSubmitted(x: unknown): Submitted | undefined {
  if (!isObj(x)) return undefined;
  const submission = num(x, "submission");
  return submission === undefined ? undefined : { submission };
}

export function asSubmission(x: unknown): Submission | undefined {
  if (!isObj(x)) return undefined;
  const submission = num(x, "submission");
  const state = str(x, "state");
  if (submission === undefined || state === undefined) return undefined;
  let result: Submission["result"] = null;
  if (isObj(x.result)) {
    const score = num(x.result, "score");
    const messages = Array.isArray(x.result.messages)
      ? x.result.messages.filter((m): m is string => typeof m === "string") : [];
    if (score === undefined) return undefined;
    result = { score, messages, status: str(x.result, "status") ?? "" };
  }
  const successor = numOrNull(x, "superseded_by");
  return {
    submission, state, result, question: str(x, "question") ?? "",
    superseded_by: successor === undefined ? null : successor,
  };
}

/* `.tfexam/session.json`, written by the service into every project (token: contract 1). */
export function asSessionFile(x: unknown): SessionFile | undefined {
  if (!isObj(x)) return undefined;
  const session = str(x, "session");
  const server = str(x, "server");
  if (session === undefined || server === undefined) return undefined;
  const questions = isObj(x.questions) ? Object.keys(x.questions) : [];
  return { session, server: server.replace(/\/+$/, ""), token: str(x, "token") ?? null, questions,
    classroom: x.classroom === true };
}

export function asStreamEvent(x: unknown): StreamEvent | undefined {
  if (!isObj(x)) return undefined;
  const kind = str(x, "kind");
  if (kind === undefined) return undefined;
  const score = numOrNull(x, "score");
  const submission = numOrNull(x, "submission");
  return {
    kind,
    question: str(x, "question") ?? null,
    submission: submission === undefined ? null : submission,
    score: score === undefined ? null : score,
    message: str(x, "message") ?? null,
    at: str(x, "at") ?? null,
    status: x.status === undefined ? null : asStatus(x.status) ?? null,
  };
}

/* The first sentence-line of a message, for a one-line notification. */
export function firstLine(text: string): string {
  return text.split("\n")[0].trim();
}
