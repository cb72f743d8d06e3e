// Preloaded (`bun --preload`) by `bun run bench:idle --full-gc`: a full collection every 0.5 s, so
// that what RSS still holds is live memory or the allocator's, not garbage waiting for the collector.
setInterval(() => Bun.gc(true), 500).unref();
