import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** `bigint` columns come back from pg as strings; we parse them where they are read. */
type BigIntColumn = ColumnType<string, number | string | bigint, number | string | bigint>;

export interface ProjectTable {
  id: string;
  created_at: Timestamp;
}

export interface ApiKeyTable {
  id: Generated<number>;
  project_id: string;
  /** sha256 of the key, hex. The key itself is never stored. */
  key_hash: string;
  /** First characters of the key, to tell keys apart in logs. */
  key_prefix: string;
  created_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface TaskTable {
  project_id: string;
  task_id: string;
  title: string;
  status: string;
  priority: ColumnType<number, number | undefined, number>;
  payload: ColumnType<unknown, string | null | undefined, string | null>;
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** Ids of entities the ID service issued to the project (`US-011`), as given; `{}` when none. */
  refs: ColumnType<string[], string[] | undefined, string[]>;
  /** The `Idempotency-Key` of the create that made it (unique per project), if it sent one. */
  idempotency_key: ColumnType<string | null, string | null | undefined, string | null>;
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdRegistryTable {
  project_id: string;
  /** What the sequence numbers, e.g. `US` or `TASK`; IDs render as `TYPE-NNN`. */
  sequence_type: string;
  last_assigned_id: BigIntColumn;
  updated_at: Timestamp;
}

export interface IdReservationTable {
  project_id: string;
  idempotency_key: string;
  sequence_type: string;
  /** Hash of the request, so a reused key with another request is told apart. */
  request_hash: string;
  first_id: BigIntColumn;
  last_id: BigIntColumn;
  created_at: Timestamp;
}

/** An id the ID service retired: issued to the project once, never live again. */
export interface IdRetirementTable {
  project_id: string;
  sequence_type: string;
  number: BigIntColumn;
  retired_at: Timestamp;
}

export interface ArtifactTable {
  project_id: string;
  artifact_id: string;
  content: Buffer;
  content_type: string;
  sha256: string;
  size: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GatewayRunTable {
  project_id: string;
  run_id: string;
  commit: string | null;
  branch: string | null;
  machine: string | null;
  profile: string | null;
  started_at: Timestamp;
  ended_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** `passed`, `failed` or `inconclusive` once the run ended. */
  outcome: string | null;
  duration_s: number | null;
}

/** One scenario of a finished run, from its `run_end` summary. */
export interface GatewayRunScenarioTable {
  project_id: string;
  run_id: string;
  scenario: string;
  requests: BigIntColumn;
  errors: BigIntColumn;
  error_rate: number;
  rps: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  passed: boolean;
  status: string | null;
  thresholds: ColumnType<unknown, string, string>;
}

/** One per-second snapshot of a run's scenario. */
export interface GatewayPointTable {
  project_id: string;
  run_id: string;
  scenario: string;
  t: number;
  /** The start of the point's run (its `gateway_runs.started_at`): the partition key. */
  run_started_at: Timestamp;
  received_at: Timestamp;
  requests: BigIntColumn;
  errors: BigIntColumn;
  rps: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  histogram: string | null;
  snapshot: ColumnType<unknown, string, string>;
}

/** The Kysely database interface: every table Crucible's system under test owns. */
export interface Database {
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  tasks: TaskTable;
  id_registry: IdRegistryTable;
  id_reservations: IdReservationTable;
  id_retirements: IdRetirementTable;
  artifacts: ArtifactTable;
  gateway_runs: GatewayRunTable;
  gateway_run_scenarios: GatewayRunScenarioTable;
  gateway_points: GatewayPointTable;
}

export type ProjectRow = Selectable<ProjectTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type TaskRow = Selectable<TaskTable>;
export type NewTaskRow = Insertable<TaskTable>;
export type TaskUpdate = Updateable<TaskTable>;
export type IdRegistryRow = Selectable<IdRegistryTable>;
export type IdReservationRow = Selectable<IdReservationTable>;
export type IdRetirementRow = Selectable<IdRetirementTable>;
export type ArtifactRow = Selectable<ArtifactTable>;
