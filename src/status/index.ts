// The live status page: its files, its feed (one summary event a second over SSE), the
// five-minute history, and the paged GET /connections it reads.
export { StatusHub, MAX_EVENT_CLIENTS, CLOSES_KEPT, CLOSES_PER_EVENT, type StatusSource, type ListenerStatus, type CloseJson } from "./hub.ts";
export { localSource, localStatus, closeJson, pageOf } from "./local-source.ts";
export { parseConnectionQuery, applyQuery, mergePages, ALL, MAX_LIMIT, SORT_KEYS, type ConnectionQuery, type ConnectionPage, type SortKey } from "./connection-query.ts";
export { assetReply, eventsReply, statusReply } from "./routes.ts";
export { PAGE_BYTES } from "./assets.ts";
export type { Sample } from "./history.ts";
