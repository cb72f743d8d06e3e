// Time for the server and the HTTP server: a clock (real, or virtual in tests) and one hashed timing
// wheel per owner for every connection deadline.
export { realClock, type Clock } from "./clock.ts";
export { DeadlineWheel, type WheelEntry } from "./deadlines.ts";
