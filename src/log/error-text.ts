/**
 * An error as one line for logs and messages: "ECONNRESET: connection reset by peer". Bun's own
 * messages often carry the code already; it is not repeated. Line breaks are folded, so an
 * error can never make a log line span several lines.
 */
export function errorText(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown } | null;
  const message = errorMessage(e);
  const code = typeof err?.code === "string" ? err.code : null;
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The error's message alone, on one line. */
export function errorMessage(e: unknown): string {
  return String((e as { message?: unknown } | null)?.message ?? e).replace(/\s+/g, " ").trim();
}
