/**
 * The logger a listener reports to.
 *
 * @module
 */

/** Where the listener reports what happened (`console` fits). */
export interface Logger {
  /**
   * Transient, expected events (a retried accept, a protocol's `ClosedError` during a stop).
   *
   * @param message One line, starting `corral: [ref]`.
   * @param details The error behind it, if any.
   */
  debug(message: string, ...details: unknown[]): void;
  /**
   * Notable events.
   *
   * @param message One line, starting `corral: [ref]`.
   * @param details The error behind it, if any.
   */
  info(message: string, ...details: unknown[]): void;
  /**
   * Trouble the listener recovered from (resource exhaustion, failed handshakes).
   *
   * @param message One line, starting `corral: [ref]`.
   * @param details The error behind it, if any.
   */
  warn(message: string, ...details: unknown[]): void;
  /**
   * A protocol that threw or rejected.
   *
   * @param message One line, starting `corral: [ref]`, naming the connection and its peer.
   * @param details The error the protocol threw.
   */
  error(message: string, ...details: unknown[]): void;
}
