/** The start-up check of nats-server: facts in, plain-English promises and refusals out. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  type Assessment,
  assessmentLines,
  assessServer,
  refusalError,
  type ServerFacts,
  type Statement,
  type Topic,
} from '../../../src/store/jetstream/server-facts.js';
import { readMonitorFacts } from '../../../src/store/jetstream/server-monitor.js';
import {
  compareServerVersions,
  parseServerVersion,
  type ServerVersion,
} from '../../../src/store/jetstream/server-version.js';
import { repoRoot } from '../../support/paths.js';

const r3Cluster = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  version: '2.9.10',
  jetStream: 'enabled',
  clusterName: 'site',
  peers: { count: 3, exactness: 'exact', current: 3, leader: 'n1' },
  replicas: 3,
  sync: { reported: true },
  ...over,
});

const single = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  version: '2.9.10',
  jetStream: 'enabled',
  peers: { count: 1, exactness: 'exact' },
  replicas: 1,
  sync: { reported: true },
  ...over,
});

function about(a: Assessment, topic: Topic): Statement {
  const found = a.statements.filter((s) => s.topic === topic);
  assert.equal(found.length, 1, `one ${topic} statement in ${JSON.stringify(a.statements)}`);
  return found[0]!;
}

const powerCut29 =
  'fsyncs every 120 s: a site-wide power cut can lose up to 120 s of acknowledged messages; ' +
  'nats-server >= 2.10 with `jetstream { sync_interval: always }` fsyncs every write';

describe('clusters', () => {
  test("this machine's 2.9.10 R3 cluster: survives one loss, warns of the power cut", () => {
    const a = assessServer(r3Cluster());
    assert.equal(a.fatal, false);
    assert.deepEqual(about(a, 'replication'), {
      topic: 'replication',
      level: 'ok',
      text: 'survives the loss of one node (3 JetStream peers, R3)',
      fatal: false,
    });
    assert.equal(about(a, 'fsync').text, powerCut29);
    assert.equal(about(a, 'fsync').level, 'warn');
    assert.equal(about(a, 'peers').text, 'all 3 JetStream peers are current');
    assert.match(about(a, 'version').text, /2\.12\.3 or later is preferred/);
    assert.equal(refusalError(a), undefined);
  });

  test('2.9 fsyncs on its own timer even when the monitor could not be read', () => {
    const a = assessServer(r3Cluster({ sync: { reported: false } }));
    assert.equal(about(a, 'fsync').text, powerCut29);
  });

  test('>= 2.10.23 with sync_interval: always: a quorum has every acknowledged message on disk', () => {
    const a = assessServer(
      r3Cluster({ version: '2.12.3', sync: { reported: true, always: true, intervalSeconds: 120 } }),
    );
    assert.equal(a.fatal, false);
    assert.equal(about(a, 'fsync').level, 'ok');
    assert.equal(
      about(a, 'fsync').text,
      'every acknowledged message is on disk on a quorum of nodes (sync_interval: always)',
    );
    assert.equal(about(a, 'version').level, 'ok');
    assert.ok(a.statements.every((s) => s.level === 'ok'));
  });

  test('2.10.0 to 2.10.22 with always: on disk on the leader only, the Raft log lags', () => {
    const a = assessServer(r3Cluster({ version: '2.10.7', sync: { reported: true, always: true } }));
    assert.equal(about(a, 'fsync').level, 'warn');
    assert.match(about(a, 'fsync').text, /on disk on the stream's leader/);
    assert.match(
      about(a, 'fsync').text,
      /before 2\.10\.23 the followers fsync their Raft log only every 300 s/,
    );
  });

  test('>= 2.10 without always: the interval the monitor reported, and the default named', () => {
    const def = assessServer(
      r3Cluster({ version: '2.11.0', sync: { reported: true, intervalSeconds: 120 } }),
    );
    assert.equal(
      about(def, 'fsync').text,
      'fsyncs every 120 s (the default): a site-wide power cut can lose up to 120 s of acknowledged messages; ' +
        'set `jetstream { sync_interval: always }` to fsync every write',
    );
    const ten = assessServer(r3Cluster({ version: '2.12.4', sync: { reported: true, intervalSeconds: 10 } }));
    assert.match(about(ten, 'fsync').text, /^fsyncs every 10 s: a site-wide power cut can lose up to 10 s/);
    // sync_interval: 0 is omitted by the server and means its default.
    const zero = assessServer(r3Cluster({ version: '2.10.23', sync: { reported: true } }));
    assert.match(about(zero, 'fsync').text, /^fsyncs every 120 s \(the default\)/);
  });

  test('>= 2.10 and no monitor: says it cannot tell, and what the default would cost', () => {
    const a = assessServer(r3Cluster({ version: '2.10.24', sync: { reported: false } }));
    assert.equal(about(a, 'fsync').level, 'warn');
    assert.match(about(a, 'fsync').text, /^cannot tell how often nats-server fsyncs without the monitor URL/);
    assert.match(about(a, 'fsync').text, /by default every 120 s/);
  });

  test('two nodes without a witness: no failover, and why', () => {
    const a = assessServer(r3Cluster({ replicas: 2, peers: { count: 2, exactness: 'exact', current: 2 } }));
    const s = about(a, 'replication');
    assert.equal(s.level, 'fail');
    assert.equal(s.fatal, false, 'acknowledged messages are still on both nodes');
    assert.match(s.text, /^does not survive the loss of a node \(2 JetStream peers\)/);
    assert.match(s.text, /majority of its voters, 2 of 2/);
    assert.match(s.text, /witness/);
    assert.equal(a.fatal, false);
  });

  test('fewer peers than replicas is fatal', () => {
    const a = assessServer(r3Cluster({ peers: { count: 2, exactness: 'exact' } }));
    assert.equal(a.fatal, true);
    const s = about(a, 'replication');
    assert.equal(s.fatal, true);
    assert.match(s.text, /^only 2 JetStream peers for R3 streams/);
    const err = refusalError(a);
    assert.equal(err?.code, 'TANDEM_E_CLUSTER');
    assert.match(err?.message ?? '', /only 2 JetStream peers for R3/);
  });

  test('R1 and R2 on three peers: no failover for the data', () => {
    const r1 = about(assessServer(r3Cluster({ replicas: 1 })), 'replication');
    assert.equal(r1.level, 'warn');
    assert.match(r1.text, /^R1 \(3 JetStream peers\): each message is on one node only/);
    const r2 = about(assessServer(r3Cluster({ replicas: 2 })), 'replication');
    assert.equal(r2.level, 'fail');
    assert.match(r2.text, /^R2 does not survive the loss of a node/);
  });

  test('R5 on five peers survives two losses', () => {
    const a = assessServer(r3Cluster({ replicas: 5, peers: { count: 5, exactness: 'exact', current: 5 } }));
    assert.equal(about(a, 'replication').text, 'survives the loss of 2 nodes (5 JetStream peers, R5)');
  });

  test('peers not current: says how many more it can lose', () => {
    const down = assessServer(r3Cluster({ peers: { count: 3, exactness: 'exact', current: 2 } }));
    assert.equal(
      about(down, 'peers').text,
      'only 2 of 3 JetStream peers are current: until they return, losing one more stops writes',
    );
    const five = assessServer(r3Cluster({ peers: { count: 5, exactness: 'exact', current: 4 } }));
    assert.match(about(five, 'peers').text, /only 4 of 5 .* it can lose 1 more$/);
    // A follower's monitor does not list the peers: nothing is claimed.
    const follower = assessServer(r3Cluster({ peers: { count: 3, exactness: 'exact' } }));
    assert.equal(
      follower.statements.some((s) => s.topic === 'peers'),
      false,
    );
  });

  test('peers counted from stream placements are a lower bound', () => {
    const seen = assessServer(r3Cluster({ peers: { count: 3, exactness: 'at-least' } }));
    assert.equal(
      about(seen, 'replication').text,
      'survives the loss of one node (at least 3 JetStream peers, R3)',
    );
    const few = about(assessServer(r3Cluster({ peers: { count: 1, exactness: 'at-least' } })), 'replication');
    assert.equal(few.level, 'warn');
    assert.equal(few.fatal, false, 'a lower bound cannot prove too few peers');
    assert.match(
      few.text,
      /^cannot count the JetStream peers without the monitor URL \(stream placements show at least 1\)/,
    );
    const none = about(assessServer(r3Cluster({ peers: undefined })), 'replication');
    assert.match(none.text, /^cannot count the JetStream peers without the monitor URL: /);
  });
});

describe('a single server', () => {
  test('R1: no failover, and a power cut (not site-wide) costs the fsync interval', () => {
    const a = assessServer(single());
    assert.equal(a.fatal, false);
    assert.equal(
      about(a, 'replication').text,
      'a single server: losing its disk loses messages; no failover',
    );
    assert.match(about(a, 'fsync').text, /^fsyncs every 120 s: a power cut can lose up to 120 s/);
    assert.equal(
      a.statements.some((s) => s.topic === 'peers'),
      false,
    );
  });

  test('with sync_interval: always every acknowledged message is on disk', () => {
    const a = assessServer(single({ version: '2.12.3', sync: { reported: true, always: true } }));
    assert.equal(about(a, 'fsync').text, 'every acknowledged message is on disk (sync_interval: always)');
  });

  test('R3 on one server is fatal', () => {
    const a = assessServer(single({ replicas: 3 }));
    assert.equal(a.fatal, true);
    assert.match(about(a, 'replication').text, /^only 1 JetStream peer for R3 streams/);
  });
});

describe('refusals', () => {
  test('no JetStream: fatal, and nothing promised about data', () => {
    const a = assessServer(
      single({ jetStream: 'disabled', jetStreamError: 'jetstream is not enabled', peers: undefined }),
    );
    assert.equal(a.fatal, true);
    assert.match(
      about(a, 'jetstream').text,
      /^JetStream is not enabled on this nats-server or account \(jetstream is not enabled\)/,
    );
    assert.deepEqual(
      a.statements.map((s) => s.topic),
      ['version', 'jetstream'],
    );
  });

  test('JetStream without a working meta group: fatal', () => {
    const a = assessServer(
      r3Cluster({ jetStream: 'unavailable', jetStreamError: 'JetStream system temporarily unavailable' }),
    );
    assert.equal(a.fatal, true);
    assert.match(
      about(a, 'jetstream').text,
      /did not answer \(JetStream system temporarily unavailable\): a majority/,
    );
  });

  test('versions: too old or unreadable is fatal; the crash-loss releases fail; 2.12.3 is preferred', () => {
    assert.equal(about(assessServer(single({ version: '2.9.3' })), 'version').fatal, true);
    assert.equal(assessServer(single({ version: '2.8.4' })).fatal, true);
    assert.equal(assessServer(single({ version: '2.9.4' })).fatal, false);
    const bad = assessServer(single({ version: 'two-point-nine' }));
    assert.equal(bad.fatal, true);
    assert.match(about(bad, 'version').text, /cannot read the nats-server version "two-point-nine"/);
    assert.equal(
      bad.statements.some((s) => s.topic === 'fsync'),
      false,
    );
    const crash = about(assessServer(single({ version: '2.10.21' })), 'version');
    assert.equal(crash.level, 'fail');
    assert.match(crash.text, /can lose a whole stream after process crashes .*fixed in 2\.10\.23/);
    assert.equal(about(assessServer(single({ version: '2.10.23' })), 'version').level, 'warn');
    assert.equal(about(assessServer(single({ version: '2.12.3-RC.1' })), 'version').level, 'warn');
    assert.equal(about(assessServer(single({ version: '2.14.0' })), 'version').level, 'ok');
  });

  test('replicas outside 1..5 are refused', () => {
    assert.equal(assessServer(r3Cluster({ replicas: 0 })).fatal, true);
    assert.equal(
      assessServer(r3Cluster({ replicas: 6, peers: { count: 7, exactness: 'exact' } })).fatal,
      true,
    );
  });

  test('lines for logs', () => {
    const lines = assessmentLines(assessServer(r3Cluster()));
    assert.ok(lines.includes('ok   survives the loss of one node (3 JetStream peers, R3)'), lines.join('\n'));
    assert.ok(lines.includes(`warn ${powerCut29}`));
  });
});

describe('version compare', () => {
  const v = (s: string): ServerVersion => {
    const parsed = parseServerVersion(s);
    assert.ok(parsed, s);
    return parsed;
  };
  test('orders releases, pre-releases and ignores build metadata', () => {
    const ordered = [
      '2.9.4',
      '2.9.10',
      '2.10.0-RC.1',
      '2.10.0-RC.2',
      '2.10.0-beta',
      '2.10.0',
      '2.10.23',
      '2.12.3',
    ];
    for (let i = 1; i < ordered.length; i++) {
      assert.ok(
        compareServerVersions(v(ordered[i - 1]!), v(ordered[i]!)) < 0,
        `${ordered[i - 1]} < ${ordered[i]}`,
      );
      assert.ok(compareServerVersions(v(ordered[i]!), v(ordered[i - 1]!)) > 0);
    }
    assert.equal(compareServerVersions(v('v2.9.10'), v('2.9.10+git.abc')), 0);
  });
  test('refuses what is not a version', () => {
    for (const s of ['', '2.9', '2.9.x', '02.9.1', '2.9.10-']) {
      assert.equal(parseServerVersion(s), undefined, JSON.stringify(s));
    }
  });
});

describe('monitor JSON', () => {
  // Shapes as nats-server 2.9.10 answered on this machine (trimmed).
  const jsz29Leader = {
    config: { max_memory: 1, max_storage: 2, store_dir: '/d/jetstream' },
    meta_cluster: {
      name: 'tcl',
      leader: 'n1',
      replicas: [
        { name: 'n2', current: true, active: 1 },
        { name: 'n3', current: true, offline: true, active: 9 },
      ],
      cluster_size: 3,
    },
  };

  test('2.9 leader: size, leader, current peers; nothing about fsync', () => {
    const facts = readMonitorFacts({ jetstream: { config: jsz29Leader.config } }, jsz29Leader);
    assert.deepEqual(facts, {
      jetStreamDisabled: false,
      sync: { reported: true },
      peers: { count: 3, exactness: 'exact', leader: 'n1', current: 2 },
    });
  });

  test('2.9 follower: size and leader, current unknown', () => {
    const facts = readMonitorFacts(undefined, {
      meta_cluster: { name: 'tcl', leader: 'n1', cluster_size: 3 },
    });
    assert.deepEqual(facts.peers, { count: 3, exactness: 'exact', leader: 'n1' });
    assert.deepEqual(facts.sync, { reported: false });
  });

  test('2.10+: sync_interval in nanoseconds and sync_always', () => {
    const config = { max_memory: 1, sync_interval: 120_000_000_000, sync_always: true };
    const facts = readMonitorFacts({ jetstream: { config } }, { config });
    assert.deepEqual(facts.sync, { reported: true, always: true, intervalSeconds: 120 });
    assert.equal(facts.peers, undefined, 'no meta group: JetStream without a cluster');
  });

  test('JetStream disabled', () => {
    const facts = readMonitorFacts({ jetstream: {} }, { disabled: true, config: { max_memory: 0 } });
    assert.equal(facts.jetStreamDisabled, true);
  });
});

describe('docs/cluster.md', () => {
  // The table of what holds with which nats-server quotes the check; this keeps them equal.
  const doc = readFileSync(path.join(repoRoot, 'docs', 'cluster.md'), 'utf8').split('\n');
  const rows: [string, ServerFacts, Topic][] = [
    ['| 2.9.x', r3Cluster(), 'fsync'],
    [
      '| 2.10 or later, default',
      r3Cluster({ version: '2.10.23', sync: { reported: true, intervalSeconds: 120 } }),
      'fsync',
    ],
    ['| 2.10.0–2.10.22', r3Cluster({ version: '2.10.7', sync: { reported: true, always: true } }), 'fsync'],
    [
      '| 2.10.23 or later',
      r3Cluster({ version: '2.10.23', sync: { reported: true, always: true } }),
      'fsync',
    ],
    [
      '| 2.12.3 or later',
      r3Cluster({ version: '2.12.3', sync: { reported: true, always: true } }),
      'version',
    ],
  ];
  for (const [start, facts, topic] of rows) {
    test(`the row "${start.slice(2)}" quotes the check`, () => {
      const row = doc.filter((line) => line.startsWith(start));
      assert.equal(row.length, 1, `one table row starts with ${start}`);
      const said = about(assessServer(facts), topic).text;
      assert.ok(row[0]!.includes(said), `${row[0]}\nshould include\n${said}`);
    });
  }
});
