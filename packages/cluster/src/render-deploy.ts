/**
 * Writes the generated deployment files (deploy-files.ts) into deploy/.
 *
 *   pnpm --filter @slabcache/cluster render-deploy [-- --k8s-replicas N]
 *
 * With --k8s-replicas, the Kubernetes node list names N pods: set the same
 * `replicas` in deploy/kubernetes/nodes.yaml (the test of the deploy files
 * checks that the two agree).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { deployFiles } from './deploy-files.js';
import { repoDir } from './paths.js';

// `pnpm <script> -- --flag` passes the `--` through: skip it.
const args = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
const { values } = parseArgs({ args, options: { 'k8s-replicas': { type: 'string' } }, strict: true });
const replicasText = values['k8s-replicas'];
if (replicasText !== undefined && !/^[1-9]\d*$/.test(replicasText)) {
  process.stderr.write(`--k8s-replicas must be a positive integer, got ${JSON.stringify(replicasText)}\n`);
  process.exit(2);
}
for (const file of deployFiles(replicasText === undefined ? {} : { k8sReplicas: Number(replicasText) })) {
  writeFileSync(join(repoDir(), file.path), file.content);
  process.stdout.write(`wrote ${file.path}\n`);
}
