// alerts.betterstack.oncall and alerts.discord.ops.mention_role: defaults, resolution, secrets.
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/errors.js';

const base = (alerts: string) => `
environments:
  production: {}
alerts:
${alerts}
`;

t.test('on-call and role mention load with their defaults; the token is read from the environment', async (t) => {
  const config = loadConfigText(
    base(`  discord:
    ops: { url_env: OPS, mention_role: "112233445566778899" }
  betterstack:
    oncall:
      api_token_env: BS_UPTIME
      requester_email: vigil@sartiq.com
      policy_id: "12345"
      team_wait: 10m`),
    'x.yaml',
    { OPS: 'https://discord.example/api/webhooks/1/tok', BS_UPTIME: 'uptime-secret' },
  );
  t.equal(config.alerts.discord.mentionRole, '112233445566778899');
  t.strictSame(config.alerts.oncall, {
    apiToken: 'uptime-secret',
    apiUrl: 'https://uptime.betterstack.com',
    requesterEmail: 'vigil@sartiq.com',
    severities: {
      S1: { call: true, sms: true, push: true, email: true, critical_alert: true },
      S2: { call: false, sms: false, push: true, email: true, critical_alert: false },
    },
    policyId: '12345',
    teamWaitMs: 600_000,
    syncIntervalMs: 30_000,
  });
  const only = loadConfigText(base(`  betterstack:\n    oncall: { api_token_env: BS_UPTIME, requester_email: v@sartiq.com, severities: { S1: { call: true } }, sync_interval: 5s }`), 'x.yaml', { BS_UPTIME: 'u' });
  t.strictSame(only.alerts.oncall?.severities, { S1: { call: true, sms: false, push: false, email: false, critical_alert: false } }, 'only what is configured; flags default off');
  t.equal(only.alerts.oncall?.syncIntervalMs, 5_000);
  t.equal(loadConfigText(base('  max_age: 1h'), 'x.yaml', {}).alerts.oncall, null);
});

t.test('bad values are named with their place', async (t) => {
  const errorOf = (alerts: string, env = {}) => {
    try {
      loadConfigText(base(alerts), 'x.yaml', env);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    return '';
  };
  t.match(errorOf('  discord:\n    ops: { url_env: OPS, mention_role: 112233445566778899 }', { OPS: 'u' }), /alerts\.discord\.ops\.mention_role: expected a Discord role id like "112233445566778899" \(quoted\), got 112233445566778900/);
  t.match(errorOf('  discord:\n    ops: { url_env: OPS, mention_role: "@oncall" }', { OPS: 'u' }), /mention_role: expected a Discord role id .* got "@oncall"/);
  t.match(errorOf('  discord:\n    errors: { url_env: OPS, mention_role: "112233445566778899" }', { OPS: 'u' }), /alerts\.discord\.errors/, 'only #ops pings');
  t.match(errorOf('  betterstack:\n    oncall: { requester_email: v@sartiq.com }'), /alerts\.betterstack\.oncall: missing required key "api_token_env" or "api_token_file"/);
  t.match(errorOf('  betterstack:\n    oncall: { api_token_env: BS, requester_email: nobody }', { BS: 'x' }), /requester_email: expected an email address/);
  t.match(errorOf('  betterstack:\n    oncall: { api_token_env: BS, requester_email: v@sartiq.com, severities: { S3: { call: true } } }', { BS: 'x' }), /severities/);
  t.match(errorOf('  betterstack:\n    oncall: { api_token_env: BS, requester_email: v@sartiq.com }'), /alerts\.betterstack\.oncall\.api_token_env: environment variable BS is not set/);
  t.notMatch(errorOf('  betterstack:\n    oncall: { api_token_env: BS, requester_email: nobody }', { BS: 'uptime-secret-value' }), /uptime-secret-value/);
});
