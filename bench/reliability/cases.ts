import type { Case } from "./lib/types.ts";
import { counters } from "./cases/counters.ts";
import { fdExhaustion } from "./cases/fd-exhaustion.ts";
import { hungWorker } from "./cases/hung-worker.ts";
import { logUnread } from "./cases/log-unread.ts";
import { logVolume } from "./cases/log-volume.ts";
import { memory } from "./cases/memory.ts";
import { metricsSlowloris } from "./cases/metrics-slowloris.ts";
import { scrapeCost } from "./cases/scrape-cost.ts";
import { signals } from "./cases/signals.ts";
import { timeoutPrecision } from "./cases/timeout-precision.ts";
import { timeoutZero } from "./cases/timeout-zero.ts";

/** In the order of issue 10's items. */
export const CASES: readonly Case[] = [fdExhaustion, metricsSlowloris, scrapeCost, memory, logVolume, logUnread, hungWorker, counters, signals, timeoutPrecision, timeoutZero];
