// maskSecrets: the secrets that leak into logs are masked, the rest of the line is left readable.
import t from 'tap';
import { maskSecrets } from '../../src/probes/mask-secrets.js';

t.test('masks bearer tokens, URL passwords and key=value secrets', async (t) => {
  const cases: Array<[string, string]> = [
    ['Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln', 'Authorization: Bearer ***'],
    ['authorization: basic dXNlcjpwYXNz==', 'authorization: basic ***'],
    ['connecting to postgresql://app:S3cret%21@db:5432/app', 'connecting to postgresql://app:***@db:5432/app'],
    ['redis://:onlypass@redis:6379/0', 'redis://:***@redis:6379/0'],
    ['retry with password=hunter2&user=bob', 'retry with password=***&user=bob'],
    ['DB_PASSWORD=hunter2 PORT=5432', 'DB_PASSWORD=*** PORT=5432'],
    ['token=tok_live_1, next', 'token=***, next'],
    ['client_secret: "abc def"', 'client_secret: "***"'],
    ['{"password": "pw", "user": "bob"}', '{"password": "***", "user": "bob"}'],
    ["api_key='k-123'", "api_key='***'"],
    ['X-Auth-Token: 12345', 'X-Auth-Token: ***'],
  ];
  for (const [input, expected] of cases) t.equal(maskSecrets(input), expected, input);
});

t.test('leaves ordinary lines alone', async (t) => {
  const lines = [
    'INFO:     10.0.0.5:51234 - "GET /api/v1/utils/health-check/ HTTP/1.1" 200 OK',
    'invalid password for user bob',
    'https://api.sartiq.com/api/v1/items?page=2',
    '2026-11-27T21:10:02.114Z worker ready',
  ];
  for (const line of lines) t.equal(maskSecrets(line), line);
});
