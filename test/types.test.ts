import t from 'tap';
import { capSeverity, worse } from '../src/types.js';

t.test('worse picks the more severe level', async (t) => {
  t.equal(worse('S3', 'S1'), 'S1');
  t.equal(worse('S2', 'S4'), 'S2');
});

t.test('capSeverity never lets a severity exceed the cap', async (t) => {
  t.equal(capSeverity('S1', 'S3'), 'S3');
  t.equal(capSeverity('S4', 'S3'), 'S4');
  t.equal(capSeverity('S1', undefined), 'S1');
});
