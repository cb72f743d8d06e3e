/**
 * A refused fault-control request, with the HTTP status and the message toxiproxy's API gives for
 * the same mistake (api.go: "toxic not found" 404, "toxic already exists" 409, "bad request body:
 * ..." 400, ...). The API answers it as toxiproxy's error body {"error": message, "status": status};
 * the command line and config file turn it into a UsageError.
 */
export class FaultError extends Error {
  override readonly name = "FaultError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: "proxy" | "toxic" | "connection") => new FaultError(404, `${what} not found`);
export const badBody = (why: string) => new FaultError(400, `bad request body: ${why}`);
