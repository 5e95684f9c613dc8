/**
 * The logger a listener reports to.
 *
 * @module
 */

/** Where the listener reports what happened (`console` fits). */
export interface Logger {
  /** Transient, expected events. */
  debug(message: string, ...details: unknown[]): void;
  /** Notable events. */
  info(message: string, ...details: unknown[]): void;
  /** Trouble the listener recovered from (resource exhaustion, failed handshakes). */
  warn(message: string, ...details: unknown[]): void;
  /** A protocol that threw or rejected. */
  error(message: string, ...details: unknown[]): void;
}
