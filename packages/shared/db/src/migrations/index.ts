import type { Migration } from 'kysely';
import * as projectsAndKeys from './20261123T0100_projects_and_keys.js';
import * as tasks from './20261123T0110_tasks.js';
import * as ids from './20261123T0120_ids.js';
import * as artifacts from './20261123T0130_artifacts.js';
import * as tasksListIndex from './20261123T0200_tasks_list_index.js';
import * as sequenceType from './20261124T0100_sequence_type.js';
import * as gatewayHistory from './20261201T0100_gateway_history.js';
import * as refsAndRetirements from './20261202T0100_refs_and_retirements.js';
import * as gatewayPointsPartitions from './20261202T0200_gateway_points_partitions.js';
import * as taskIdempotency from './20261202T0300_task_idempotency.js';

/**
 * Every migration, by timestamped name. Listed statically (not read from a folder) so
 * they run the same from sources, from `dist` and from a bundle.
 */
export const migrations: Record<string, Migration> = {
  '20261123T0100_projects_and_keys': projectsAndKeys,
  '20261123T0110_tasks': tasks,
  '20261123T0120_ids': ids,
  '20261123T0130_artifacts': artifacts,
  '20261123T0200_tasks_list_index': tasksListIndex,
  '20261124T0100_sequence_type': sequenceType,
  '20261201T0100_gateway_history': gatewayHistory,
  '20261202T0100_refs_and_retirements': refsAndRetirements,
  '20261202T0200_gateway_points_partitions': gatewayPointsPartitions,
  '20261202T0300_task_idempotency': taskIdempotency,
};
