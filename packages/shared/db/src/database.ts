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

/** The Kysely database interface: every table Crucible's system under test owns. */
export interface Database {
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  tasks: TaskTable;
  id_registry: IdRegistryTable;
  id_reservations: IdReservationTable;
  artifacts: ArtifactTable;
}

export type ProjectRow = Selectable<ProjectTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type TaskRow = Selectable<TaskTable>;
export type NewTaskRow = Insertable<TaskTable>;
export type TaskUpdate = Updateable<TaskTable>;
export type IdRegistryRow = Selectable<IdRegistryTable>;
export type IdReservationRow = Selectable<IdReservationTable>;
export type ArtifactRow = Selectable<ArtifactTable>;
