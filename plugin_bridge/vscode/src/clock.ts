/* Time left on the service's clock, carried forward between updates by a monotonic timer (the
   editor's wall clock may be wrong; it is never used), and the thresholds the exam page warns at. */

export const WARN_SECONDS = 30 * 60;
export const URGENT_SECONDS = 10 * 60;
export const NOTICE_SECONDS = 5 * 60;

export class ExamClock {
  private remainingAtSync = 0;
  private syncedAt = 0;
  private running = false;

  sync(remainingSeconds: number, running: boolean): void {
    this.remainingAtSync = remainingSeconds;
    this.syncedAt = performance.now();
    this.running = running;
  }

  remaining(): number {
    if (!this.running) return 0;
    return Math.max(0, this.remainingAtSync - (performance.now() - this.syncedAt) / 1000);
  }
}

export function clockText(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

export type Urgency = "normal" | "warning" | "urgent";

export function urgency(seconds: number): Urgency {
  if (seconds <= URGENT_SECONDS) return "urgent";
  if (seconds <= WARN_SECONDS) return "warning";
  return "normal";
}
