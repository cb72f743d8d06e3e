// Faults on demand: toxiproxy's toxics as an engine that knows no sockets. A listener's ToxicSet
// holds its toxics; each connection under toxics has a ConnFaults (an upstream and a downstream
// chain of stages) that talks to the echo server through FaultHost; every timer of the process
// is on one TimerHeap.
export { FaultError, notFound, badBody } from "./errors.ts";
export { Random, randomSeed } from "./random.ts";
export { TimerHeap, realTimerClock, type Timed, type TimerClock } from "./timer-heap.ts";
export { TOXIC_TYPES, STREAMS, ATTRIBUTES, TOXIC_NAME, parseToxic, patchToxic, toxicJson, describeToxic, type Toxic, type ToxicType, type Stream, type Attributes } from "./toxics.ts";
export { parseToxicText, TOXIC_TEXT_HINT } from "./toxic-text.ts";
export { ToxicSet, type ToxicChange } from "./toxic-set.ts";
export { ConnFaults, type FaultHost, type FaultContext } from "./conn-faults.ts";
