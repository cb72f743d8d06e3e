// RSS of a process sampled on a timer, so a case can ask for the peak over any stretch of time.
import { rssKiB } from "../../lib/proc.ts";

export class RssSampler {
  private readonly samples: { t: number; kib: number }[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly pid: number, intervalMs = 20) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  /** Takes one sample now and returns it (KiB; 0 once the process is gone). */
  sample(): number {
    const kib = rssKiB(this.pid) ?? 0;
    this.samples.push({ t: performance.now(), kib });
    return kib;
  }

  /** The highest RSS sampled between two performance.now() times, in bytes. */
  peak(from = 0, to = Infinity): number {
    let max = 0;
    for (const s of this.samples) if (s.t >= from && s.t <= to && s.kib > max) max = s.kib;
    return max * 1024;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
