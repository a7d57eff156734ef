// Triage of a Redis incident against Debian's redis-server: INFO and the queue lengths become evidence; a stopped server is evidence too, without its password.
import { pino } from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { createTransports } from '../../src/transport/index.js';
import { gatherTriage } from '../../src/triage/gather.js';
import { planTriage } from '../../src/triage/plan.js';
import { redisMissing, startRedis } from '../helpers/redis.js';
import { matchExactly } from '../helpers/match.js';

const skip = redisMissing();
const PASSWORD = 'triage-r3dis-pw';
const log = pino({ enabled: false });

t.test('a stuck queue: the triage carries INFO and every queue length; a stopped Redis says so', { skip }, async (t) => {
  const redis = await startRedis(t, { password: PASSWORD });
  const admin = await redis.admin();
  await admin.rPush('celery', Array.from({ length: 1234 }, (_, i) => `t${i}`));
  const config = loadConfigText(
    `environments: { production: {} }\nprobes:\n  - { id: prod-redis, type: redis, environment: production, url_env: REDIS, queues: [{ key: celery, stuck_after: 10m }, { key: priority, pending_above: 10 }] }\n`,
    'triage-redis.yaml',
    { REDIS: redis.url },
  );
  const transports = createTransports(config, log);
  t.teardown(() => transports.close());
  const steps = planTriage({ environment: 'production', service: 'redis', rootProbe: 'prod-redis', rootKey: 'prod-redis:queue:celery' }, config);
  t.same(steps.map((s) => s.source), ['redis:prod-redis']);

  const result = await gatherTriage(steps, { transports, log, budgetMs: 10_000 });
  t.equal(result.failed, 0);
  matchExactly(t, result.evidence, [{ source: 'redis:prod-redis', text: /^redis 7\.\d+\.\d+ · role master · up \d+s\nclients \d+ connected, 0 blocked\nmemory [\d.]+[KM] used, .*\n.*\nqueues: celery 1234 · priority 0$/s }]);
  t.match(result.summary, /^· redis prod-redis: celery 1234, priority 0; [\d.]+[KM] used$/);

  await redis.stop();
  const down = await gatherTriage(steps, { transports, log, budgetMs: 10_000 });
  t.equal(down.failed, 1);
  t.match(down.evidence[0]?.text, /^redis INFO of 127\.0\.0\.1:\d+\/0 failed: connection refused by 127\.0\.0\.1:\d+\/0: nothing is listening/);
  t.notMatch(JSON.stringify([result, down]), PASSWORD, 'the password is in no evidence');
});
