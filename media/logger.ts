/** The logging surface media/ needs; pino's Logger satisfies it, so media/ does not depend on a logger package. */
export interface MediaLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): MediaLogger;
}
