/**
 * The durable sensor coroutine contract (see ../shared/design/durable-coroutines.md).
 * Per-CCD algorithm code is one async function over a SensorContext; `step` results are persisted,
 * `gather` blocks until every CCD of the visit has posted a summary and the central reducer has run.
 */

export type DetectorId = number;

export interface StepOptions {
  /** false: never persisted, recomputed on replay (results cheaper to recompute than to reload). */
  persist?: boolean;
}

export interface SensorContext<C = unknown> {
  readonly visit: string;
  readonly detector: DetectorId;
  readonly config: C;
  step<T>(name: string, fn: () => T | Promise<T>, opts?: StepOptions): Promise<T>;
  gather<S, R>(name: string, summary: S): Promise<R>;
}

/** A CCD that threw: reducers receive this in place of its summary and must cope. */
export interface Failed {
  readonly failed: true;
  readonly message: string;
}

export function isFailed(x: unknown): x is Failed {
  return typeof x === 'object' && x !== null && (x as Failed).failed === true && typeof (x as Failed).message === 'string';
}

export interface VisitInfo {
  readonly visit: string;
  readonly detectors: readonly DetectorId[];
}

export type Reducer<S = unknown, R = unknown, C = unknown> = (
  summaries: ReadonlyArray<{ detector: DetectorId; summary: S | Failed }>,
  visit: VisitInfo,
  config: C,
) => R;

export type SensorFn<C = unknown, O = unknown> = (ctx: SensorContext<C>) => Promise<O>;

/** A pipeline: the sensor function and its reducers by gather name. Registered once, pure and deterministic. */
export interface PipelineDef<C = unknown, O = unknown> {
  readonly name: string;
  readonly sensor: SensorFn<C, O>;
  readonly reducers: Readonly<Record<string, Reducer<any, any, C>>>;
  /** Working-set estimate in bytes for one CCD while it runs its steps (the executor corrects it by measurement). */
  estimateBytes?(detector: DetectorId, config: C): number;
  /** What a CCD suspended at a gather still holds (default: estimateBytes). */
  suspendedBytes?(detector: DetectorId, config: C): number;
}

/** A replay that calls a different step or gather than its record: a determinism bug in the sensor code. */
export class NondeterminismError extends Error {
  override readonly name = 'NondeterminismError';
}

/** Stable names for files: step and gather names are identifiers. */
export function checkName(kind: string, name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name)) throw new Error(`invalid ${kind} name '${name}'`);
  return name;
}
