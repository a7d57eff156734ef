// The PostgreSQL store's URL, which the replicas of a cluster share and contend on.
import type { Config } from '../config/types.js';

export class ClusterConfigError extends Error {
  readonly code = 'VIGIL_ERR_CLUSTER_CONFIG';
  override name = 'ClusterConfigError';
}

/** The URL of the PostgreSQL store in `config`; throws when the store is not PostgreSQL. */
export function clusterStoreUrl(config: Config): string {
  const url = config.store.postgres?.url ?? null;
  if (!url) throw new ClusterConfigError(`cluster in ${config.file} needs a PostgreSQL store shared by every replica (store.postgres.url_env)`);
  return url;
}
