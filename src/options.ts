/**
 * Option checks shared by `listen()` and the transport factories: a wrong
 * option fails at once with a `TypeError` or `RangeError` that names the
 * option and what it accepts.
 *
 * @module
 */

/** Rejects option names that are not in `known` (a typo would otherwise be ignored). */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: unknown option "${key}"; known options are ${known.join(", ")}`);
    }
  }
}

/** An integer in `[min, max]`, or `fallback` when undefined. `Infinity` passes only when `max` is `Infinity`. */
export function integerOption(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number from ${min} to ${max}, got ${describe(value)}`);
  }
  const whole = Number.isInteger(value) || (value === Infinity && max === Infinity);
  if (!whole || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** A boolean, or `fallback` when undefined. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be true or false, got ${describe(value)}`);
  return value;
}

/** A non-empty string, or `undefined` when undefined. */
export function stringOption(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** A short, safe rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}
