import type { ServiceDefinition } from '@crucible/service-kit';

/**
 * The task API: multi-project task tracking. Health, metrics, admin and auth come from the
 * service kit; the task, artifact and resource routes are added here.
 */
export const definition: ServiceDefinition = {
  routes() {},
};
