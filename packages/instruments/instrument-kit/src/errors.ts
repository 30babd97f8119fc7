/**
 * The instruments' error registry, the counterpart of the services' one in
 * `@crucible/contracts`: every error an instrument throws on purpose has a literal `code`,
 * and the `Record` below gives each code its kind, so a code without a kind fails to compile.
 *
 * - `usage`: the user's input is wrong (a flag, a threshold, a scenario); fix the call.
 * - `environment`: something the run needs is missing or unreachable (a binary, a server).
 * - `fault`: a fault could not be applied or removed; the system under test was not measured as asked.
 * - `measurement`: a run could not produce a result (a worker failed, a segment was lost).
 */
export const instrumentErrorKinds = {
  bad_argument: 'usage',
  threshold_syntax: 'usage',
  invalid_scenario: 'usage',
  no_base_url: 'usage',
  unknown_scenario: 'usage',
  used_after_close: 'usage',
  toxiproxy_missing: 'environment',
  toxiproxy_api: 'environment',
  database_unreachable: 'environment',
  postgres_start_failed: 'environment',
  sut_request_failed: 'environment',
  /** A deployed target (`connectSut`) cannot do this: start or stop a replica, chaos, a balancer. */
  not_on_target: 'usage',
  /** No database access (a deployed target without `DATABASE_URL`): SQL evidence is inconclusive. */
  no_database: 'environment',
  unknown_app: 'usage',
  app_start_failed: 'environment',
  gateway_unreachable: 'environment',
  baseline_invalid: 'usage',
  report_invalid: 'usage',
  fault_timeline: 'fault',
  segment_failed: 'measurement',
  ws_timeout: 'measurement',
} as const satisfies Record<string, 'usage' | 'environment' | 'fault' | 'measurement'>;

/** Every code an instrument error can carry. */
export type InstrumentErrorCode = keyof typeof instrumentErrorKinds;
/** What kind of problem a code names. */
export type InstrumentErrorKind = (typeof instrumentErrorKinds)[InstrumentErrorCode];

/**
 * The one base class of the instruments' errors. Subclasses (`ChaosError`, `TimelineError`, …)
 * fix their `code`; a plain `new InstrumentError(code, message)` serves where no extra field is needed.
 *
 * @example
 * throw new InstrumentError('bad_argument', `unknown flag ${flag}: known flags are --profile, --live`);
 */
export class InstrumentError<C extends InstrumentErrorCode = InstrumentErrorCode> extends Error {
  override name = 'InstrumentError';
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** The registry's kind of this error's code. */
  get kind(): InstrumentErrorKind {
    return instrumentErrorKinds[this.code];
  }
}

/** Whether `err` is an instrument error (with `code`), optionally of one code. */
export function isInstrumentError<C extends InstrumentErrorCode>(err: unknown, code?: C): err is InstrumentError<C> {
  return err instanceof InstrumentError && (code === undefined || err.code === code);
}

/**
 * What a command prints for an error that ended it: the message alone for a usage problem
 * (a bad flag, file or threshold — the user's to fix, and the message names it), the stack for
 * anything else.
 *
 * @example
 * main().catch((err) => { process.stderr.write(`${failureText(err)}\n`); process.exitCode = 2; });
 */
export function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err instanceof InstrumentError && err.kind === 'usage' ? err.message : (err.stack ?? err.message);
}
