import { runWorker, type Service } from "../../cluster/index.ts";
import { stopOnSignals } from "../signals.ts";

/**
 * The hidden `__worker` command: a worker process of `serve --workers N`. It takes no arguments;
 * its settings and identity come from the supervisor over IPC. Ctrl-C reaches the whole process
 * group, so SIGINT is left to the supervisor, which forwards SIGTERM to every worker.
 */
export async function runWorkerCommand(): Promise<number> {
  let service: Service | null = null;
  const signals = stopOnSignals({
    onFirst: () => void service?.stop(),
    onHangup: () => service?.reload(),
    onReport: () => void service?.report(),
    ignoreSigint: true,
  });
  try {
    service = (await runWorker()).service;
    if (signals.signal.aborted) void service.stop();
    return await service.done;
  } finally {
    signals.release();
  }
}
