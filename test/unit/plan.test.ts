import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBorgCommandLine } from '../../src/borg/command-line.js';
import type { KeepaliveState } from '../../src/plan/keepalive.js';
import { attemptArgv, buildPlan, type Plan } from '../../src/plan/plan.js';
import type { PlanInput } from '../../src/plan/plan-input.js';
import type { AlivePair } from '../../src/ssh/alive-pair.js';
import { splitLikePython, type RshWords } from '../../src/ssh/rsh.js';
import { defaultOptions, type TborgOptions } from '../../src/cli/tborg-options.js';

// The keepalive policy (README "Keepalive") as a table: buildPlan(PlanInput) with the ssh facts written by hand (what
// `ssh -G` would have said for the user's own words), and every expectation written by hand too:
// the numbers below are worked out in the comments, never taken from lock-wait.ts.
//
// Lock wait by hand: W = max((C+1) x I of the effective keepalive, 2 x (CountMax+1) x Interval of
// the server's ClientAlive) + 20. The server is assumed to run the guide's 10 x 30 -> 2 x 31 x 10 = 620,
// so W = 640 whenever the client bound is below 620 (10 x 30 injected: 31 x 10 = 310).

const I10C30 = ['-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=30'];
const I10 = ['-o', 'ServerAliveInterval=10'];
const HOST_ARGS = ['create', 'backup:repo::a', '/data'];

interface SshFacts {
  words: string[];
  source: RshWords['source'];
  // [ServerAliveInterval, ServerAliveCountMax] as ssh -G reports them for the user's words.
  configured: [number, number];
  intervalIsDefault?: boolean;
  hostBlock?: { file: string; line: number } | null;
}

interface Row {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  options?: Partial<TborgOptions>;
  major?: 1 | 2;
  ssh?: SshFacts;
  nonSsh?: RshWords;
  expect: {
    keepalive: KeepaliveState;
    // plan.env exactly, except BORG_RSH, which is compared as the words borg's shlex.split gives.
    env?: Record<string, string>;
    borgRshWords?: string[];
    // The exact BORG_RSH string where it is simple enough to write down.
    borgRsh?: string;
    // The first attempt's argv, exactly.
    argv: string[];
    // For the --rsh route: the index in argv of the --rsh value, and the words it splits into.
    rshAt?: { index: number; prefix: '' | '--rsh='; words: string[] };
    effective?: [number, number] | null;
    lockWait: number;
    userGiven?: boolean;
    deadline?: number;
    attemptSeconds?: number | null;
    // Warnings printed on a run; each regexp must match its warning, in order, and no others.
    warnings?: RegExp[];
    // Warnings only `tborg plan` shows (a run shows those marked onWait once it had to wait).
    planOnlyWarnings?: RegExp[];
    onWaitWarnings?: RegExp[];
    noConnectionRetry?: RegExp | null;
    lockTimeouts?: boolean;
    connectionRetries?: number;
  };
}

function ssh(
  configured: [number, number],
  words: string[] = ['ssh'],
  source: RshWords['source'] = 'default',
  extra: Partial<SshFacts> = {},
): SshFacts {
  return { words, source, configured, ...extra };
}

const ROWS: Row[] = [
  // ---- injected exactly where the effective interval is 0 (or Debian's BatchMode default) ----
  {
    name: 'nothing configured, plain ssh: both options into BORG_RSH',
    args: HOST_ARGS,
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
      borgRshWords: ['ssh', ...I10C30],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 30],
      lockWait: 640,
      deadline: 640,
      attemptSeconds: 10,
    },
  },
  {
    name: "BORG_RSH with quoted words: every word the user had survives borg's shlex.split",
    args: HOST_ARGS,
    env: { BORG_RSH: `ssh -F '/cfg dir/c f' -o 'ProxyCommand=ssh -W %h:%p jump' -i "/k/it's key" -o "SetEnv=A=\\"x y\\" B=$HOME"` },
    ssh: ssh(
      [0, 3],
      ['ssh', '-F', '/cfg dir/c f', '-o', 'ProxyCommand=ssh -W %h:%p jump', '-i', "/k/it's key", '-o', 'SetEnv=A="x y" B=$HOME'],
      'BORG_RSH',
    ),
    expect: {
      keepalive: 'injected',
      borgRshWords: [
        'ssh',
        '-F',
        '/cfg dir/c f',
        '-o',
        'ProxyCommand=ssh -W %h:%p jump',
        '-i',
        "/k/it's key",
        '-o',
        'SetEnv=A="x y" B=$HOME',
        ...I10C30,
      ],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    name: 'an empty word and a path program are kept',
    args: HOST_ARGS,
    env: { BORG_RSH: "/usr/bin/ssh -l '' -v" },
    ssh: ssh([0, 3], ['/usr/bin/ssh', '-l', '', '-v'], 'BORG_RSH'),
    expect: {
      keepalive: 'injected',
      borgRshWords: ['/usr/bin/ssh', '-l', '', '-v', ...I10C30],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    // (8+1) x 10 = 90 < 620 -> 640
    name: 'CountMax 8 configured, interval 0: only ServerAliveInterval is injected',
    args: HOST_ARGS,
    env: { BORG_RSH: 'ssh -F /c' },
    ssh: ssh([0, 8], ['ssh', '-F', '/c'], 'BORG_RSH'),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -F /c -o ServerAliveInterval=10',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 8],
      lockWait: 640,
    },
  },
  {
    name: 'CountMax 1 configured (below the default): only ServerAliveInterval',
    args: HOST_ARGS,
    ssh: ssh([0, 1]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=10',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 1],
      lockWait: 640,
    },
  },
  {
    name: "Debian's BatchMode default 300 is nobody's choice: injected",
    args: HOST_ARGS,
    env: { BORG_RSH: 'ssh -o BatchMode=yes' },
    ssh: ssh([300, 3], ['ssh', '-o', 'BatchMode=yes'], 'BORG_RSH', { intervalIsDefault: true }),
    expect: {
      keepalive: 'injected',
      borgRshWords: ['ssh', '-o', 'BatchMode=yes', ...I10C30],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    name: 'BatchMode default interval with a configured CountMax 5: only the interval',
    args: HOST_ARGS,
    ssh: ssh([300, 5], ['ssh'], 'default', { intervalIsDefault: true }),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=10',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 5],
      lockWait: 640,
    },
  },
  {
    // 5 x 7 asked for: (7+1) x 5 = 40 -> 640
    name: '--tborg-keepalive 5x7 sets what is injected',
    args: HOST_ARGS,
    options: { keepalive: { interval: 5, countMax: 7 } },
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=5 -o ServerAliveCountMax=7',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [5, 7],
      lockWait: 640,
    },
  },
  {
    // 60 x 20 injected: client bound 21 x 60 = 1260 > 620 -> 1280 (> I x C = 1200)
    name: '--tborg-keepalive 60x20: the client bound decides W',
    args: HOST_ARGS,
    options: { keepalive: { interval: 60, countMax: 20 } },
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRshWords: ['ssh', '-o', 'ServerAliveInterval=60', '-o', 'ServerAliveCountMax=20'],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [60, 20],
      lockWait: 1280,
    },
  },

  // ---- a value the user configured is never overridden ----
  {
    name: 'interval configured: nothing injected',
    args: HOST_ARGS,
    env: { BORG_RSH: 'ssh -F /c' },
    ssh: ssh([15, 4], ['ssh', '-F', '/c'], 'BORG_RSH'),
    expect: { keepalive: 'configured', env: {}, argv: ['--lock-wait', '10', ...HOST_ARGS], effective: [15, 4], lockWait: 640 },
  },
  {
    // a 300 the user wrote (BatchMode or not): (3+1) x 300 = 1200 > 620 -> 1220
    name: 'a configured 300 (not the BatchMode default) is kept, and W covers (3+1)x300',
    args: HOST_ARGS,
    ssh: ssh([300, 3], ['ssh'], 'default', { intervalIsDefault: false }),
    expect: { keepalive: 'configured', env: {}, argv: ['--lock-wait', '10', ...HOST_ARGS], effective: [300, 3], lockWait: 1220 },
  },
  {
    // (8+1) x 3661 = 32949 -> 32969
    name: 'interval 1h1m1s x 8: W = 9 x 3661 + 20',
    args: HOST_ARGS,
    ssh: ssh([3661, 8]),
    expect: { keepalive: 'configured', env: {}, argv: ['--lock-wait', '10', ...HOST_ARGS], effective: [3661, 8], lockWait: 32969 },
  },
  {
    // (10+1) x 100 = 1100 -> 1120, and 1120 > I x C = 1000 (the guide's rule)
    name: 'interval 100 x 10: W above I x C',
    args: HOST_ARGS,
    ssh: ssh([100, 10]),
    expect: { keepalive: 'configured', env: {}, argv: ['--lock-wait', '10', ...HOST_ARGS], effective: [100, 10], lockWait: 1120 },
  },
  {
    name: "-o ServerAliveCountMax=3 in the user's BORG_RSH is the user's: only the interval is added",
    args: HOST_ARGS,
    env: { BORG_RSH: 'ssh -o ServerAliveCountMax=3' },
    ssh: ssh([0, 3], ['ssh', '-o', 'ServerAliveCountMax=3'], 'BORG_RSH'),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveCountMax=3 -o ServerAliveInterval=10',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 3],
      lockWait: 640,
    },
  },
  {
    name: "-o 'serveralivecountmax 3' (space, lowercase) in BORG_RSH is the user's too",
    args: HOST_ARGS,
    env: { BORG_RSH: "ssh -o 'serveralivecountmax 3'" },
    ssh: ssh([0, 3], ['ssh', '-o', 'serveralivecountmax 3'], 'BORG_RSH'),
    expect: {
      keepalive: 'injected',
      borgRshWords: ['ssh', '-o', 'serveralivecountmax 3', ...I10],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 3],
      lockWait: 640,
    },
  },
  {
    // ssh keeps the first -o it reads: an injection after the user's would change nothing and the
    // plan would claim an interval ssh does not use. No keepalive: client bound 0 -> 640.
    name: "-o ServerAliveInterval=0 in the user's BORG_RSH: the user turned it off, nothing injected",
    args: HOST_ARGS,
    env: { BORG_RSH: 'ssh -oServerAliveInterval=0' },
    ssh: ssh([0, 3], ['ssh', '-oServerAliveInterval=0'], 'BORG_RSH'),
    expect: { keepalive: 'configured', env: {}, argv: ['--lock-wait', '10', ...HOST_ARGS], effective: [0, 3], lockWait: 640 },
  },

  // ---- through --rsh when the user gave one ----
  {
    name: '--rsh X: the options go into the --rsh value, BORG_RSH is left alone',
    args: ['create', '--rsh', 'ssh -p 23 -i /k', 'backup:repo::a', '/data'],
    env: { BORG_RSH: 'ssh -F /not-used' },
    ssh: ssh([0, 3], ['ssh', '-p', '23', '-i', '/k'], '--rsh'),
    expect: {
      keepalive: 'injected',
      env: {},
      argv: [
        '--lock-wait',
        '10',
        'create',
        '--rsh',
        'ssh -p 23 -i /k -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
        'backup:repo::a',
        '/data',
      ],
      rshAt: { index: 4, prefix: '', words: ['ssh', '-p', '23', '-i', '/k', ...I10C30] },
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    name: '--rsh=X before the command, with a quoted word',
    args: ['--rsh=ssh -i "/k k"', 'create', 'backup:repo::a', '/data'],
    ssh: ssh([0, 3], ['ssh', '-i', '/k k'], '--rsh'),
    expect: {
      keepalive: 'injected',
      env: {},
      argv: [
        '--lock-wait',
        '10',
        "--rsh=ssh -i '/k k' -o ServerAliveInterval=10 -o ServerAliveCountMax=30",
        'create',
        'backup:repo::a',
        '/data',
      ],
      rshAt: { index: 2, prefix: '--rsh=', words: ['ssh', '-i', '/k k', ...I10C30] },
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    name: '--rs=X (an abbreviation argparse accepts) becomes --rsh=X plus the options',
    args: ['create', '--rs=ssh -x', 'backup:repo::a', '/data'],
    ssh: ssh([0, 8], ['ssh', '-x'], '--rsh'),
    expect: {
      keepalive: 'injected',
      env: {},
      argv: ['--lock-wait', '10', 'create', '--rsh=ssh -x -o ServerAliveInterval=10', 'backup:repo::a', '/data'],
      effective: [10, 8],
      lockWait: 640,
    },
  },
  {
    name: 'two --rsh: the last one (the one borg uses) gets the options, the first stays as typed',
    args: ['create', '--rsh', 'ssh -a', '--rsh', 'ssh -b', 'backup:repo::a', '/data'],
    ssh: ssh([0, 3], ['ssh', '-b'], '--rsh'),
    expect: {
      keepalive: 'injected',
      env: {},
      argv: [
        '--lock-wait',
        '10',
        'create',
        '--rsh',
        'ssh -a',
        '--rsh',
        'ssh -b -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
        'backup:repo::a',
        '/data',
      ],
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    // borg: `args.rsh or BORG_RSH`: an empty --rsh falls through to BORG_RSH, so that is where
    // the options go, and the user's argv stays byte for byte.
    name: "an empty --rsh: borg uses BORG_RSH, so the options go there and the user's '' stays",
    args: ['create', '--rsh', '', 'backup:repo::a', '/data'],
    env: { BORG_RSH: 'ssh -F /c' },
    ssh: ssh([0, 3], ['ssh', '-F', '/c'], 'BORG_RSH'),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -F /c -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
      argv: ['--lock-wait', '10', 'create', '--rsh', '', 'backup:repo::a', '/data'],
      effective: [10, 30],
      lockWait: 640,
    },
  },
  {
    name: '--rsh with a configured interval: argv untouched but for --lock-wait',
    args: ['create', '--rsh', 'ssh -o ServerAliveInterval=5', 'backup:repo::a', '/data'],
    ssh: ssh([5, 3], ['ssh', '-o', 'ServerAliveInterval=5'], '--rsh'),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', 'create', '--rsh', 'ssh -o ServerAliveInterval=5', 'backup:repo::a', '/data'],
      effective: [5, 3],
      lockWait: 640,
    },
  },
  {
    name: 'borg 2: -r ssh://user@host:port, BORG_RSH',
    args: ['-r', 'ssh://u@backup:2222/./repo', 'create', 'a', '/data'],
    major: 2,
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
      argv: ['--lock-wait', '10', '-r', 'ssh://u@backup:2222/./repo', 'create', 'a', '/data'],
      effective: [10, 30],
      lockWait: 640,
    },
  },

  // ---- warn and off ----
  {
    name: 'warn: nothing changed, one warning naming the block and the two lines',
    args: HOST_ARGS,
    options: { keepaliveMode: 'warn' },
    ssh: ssh([0, 3], ['ssh'], 'default', { hostBlock: { file: '/home/u/.ssh/config', line: 12 } }),
    expect: {
      keepalive: 'warned',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [0, 3],
      lockWait: 640,
      warnings: [
        /^ssh to backup has no ServerAliveInterval.*"ServerAliveInterval 10" and "ServerAliveCountMax 30".*\/home\/u\/\.ssh\/config:12.*tborg ssh-config backup --write/,
      ],
    },
  },
  {
    name: 'warn without a block: says to add a "Host backup" block; the lines follow --tborg-keepalive',
    args: HOST_ARGS,
    options: { keepaliveMode: 'warn', keepalive: { interval: 5, countMax: 7 } },
    ssh: ssh([0, 3], ['ssh'], 'default', { hostBlock: null }),
    expect: {
      keepalive: 'warned',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [0, 3],
      lockWait: 640,
      warnings: [/"ServerAliveInterval 5" and "ServerAliveCountMax 7" in a "Host backup" block/],
    },
  },
  {
    // what ssh will really use is 300 x 3: (3+1) x 300 = 1200 -> 1220
    name: 'warn with the BatchMode default: warned, and W covers the 300 s ssh really uses',
    args: HOST_ARGS,
    options: { keepaliveMode: 'warn' },
    ssh: ssh([300, 3], ['ssh'], 'default', { intervalIsDefault: true, hostBlock: null }),
    expect: {
      keepalive: 'warned',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [300, 3],
      lockWait: 1220,
      warnings: [
        /^ssh to backup has only Debian's BatchMode default ServerAliveInterval \(300 s\): .*"ServerAliveInterval 10" and "ServerAliveCountMax 30"/,
      ],
    },
  },
  {
    name: 'warn with a configured interval: configured, silent',
    args: HOST_ARGS,
    options: { keepaliveMode: 'warn' },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [15, 4],
      lockWait: 640,
      warnings: [],
    },
  },
  {
    name: 'off: nothing changed, nothing said',
    args: HOST_ARGS,
    options: { keepaliveMode: 'off' },
    ssh: ssh([0, 3]),
    expect: { keepalive: 'off', env: {}, argv: ['--lock-wait', '10', ...HOST_ARGS], effective: [0, 3], lockWait: 640, warnings: [] },
  },

  // ---- nothing to do ----
  {
    name: 'BORG_RSH that is not ssh: not-applicable, env untouched, one plan-only note',
    args: HOST_ARGS,
    env: { BORG_RSH: "sh -c 'exec socat - TCP:backup:22'" },
    nonSsh: { words: ['sh', '-c', 'exec socat - TCP:backup:22'], source: 'BORG_RSH' },
    // No keepalive to know: the client bound is 0, the server bound the guide's 620.
    expect: {
      keepalive: 'not-applicable',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: null,
      lockWait: 640,
      warnings: [],
      planOnlyWarnings: [/^BORG_RSH \(sh -c .*\) is not ssh/],
      connectionRetries: 0,
    },
  },
  {
    name: 'local repository: not-applicable, no ssh, no warning even with --tborg-server-alive none',
    args: ['create', '/srv/repo::a', '/data'],
    options: { serverAlive: null },
    expect: {
      keepalive: 'not-applicable',
      env: {},
      argv: ['--lock-wait', '10', 'create', '/srv/repo::a', '/data'],
      effective: null,
      lockWait: 640,
      warnings: [],
      connectionRetries: 0,
    },
  },
  {
    name: 'file:// repository: not-applicable',
    args: ['list', 'file:///srv/repo'],
    expect: {
      keepalive: 'not-applicable',
      env: {},
      argv: ['--lock-wait', '10', 'list', 'file:///srv/repo'],
      effective: null,
      lockWait: 640,
      warnings: [],
      connectionRetries: 0,
    },
  },
  {
    name: "local repository with the user's --lock-wait 5: no warning (no stale borg serve locally)",
    args: ['create', '--lock-wait', '5', '/srv/repo::a', '/data'],
    expect: {
      keepalive: 'not-applicable',
      env: {},
      argv: ['create', '--lock-wait', '5', '/srv/repo::a', '/data'],
      lockWait: 5,
      userGiven: true,
      warnings: [],
    },
  },
  ...(
    [
      ['borg serve', ['serve', '--restrict-to-path', '/srv']],
      ['--version', ['--version']],
      ['help create', ['help', 'create']],
      ['create --help', ['create', '--help', 'backup:repo::a']],
      ['no arguments', []],
    ] as Array<[string, string[]]>
  ).map(
    ([name, args]): Row => ({
      name: `${name}: nothing done, argv exactly as given`,
      args,
      env: { BORG_RSH: 'ssh -F /c' },
      expect: {
        keepalive: 'not-applicable',
        env: {},
        argv: args,
        effective: null,
        lockWait: 0,
        deadline: 0,
        attemptSeconds: null,
        warnings: [],
        planOnlyWarnings: [],
        lockTimeouts: false,
        connectionRetries: 0,
        noConnectionRetry: null,
      },
    }),
  ),

  // ---- lock wait ----
  {
    name: "the user's --lock-wait 60 is respected (argv untouched), with one warning; keepalive still injected",
    args: ['create', '--lock-wait', '60', 'backup:repo::a', '/data'],
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
      argv: ['create', '--lock-wait', '60', 'backup:repo::a', '/data'],
      effective: [10, 30],
      lockWait: 60,
      userGiven: true,
      deadline: 60,
      attemptSeconds: null,
      // Not on every run (a nightly cron job would mail it every night): only once a wait happened.
      warnings: [],
      planOnlyWarnings: [
        /^--lock-wait 60 is shorter than the 10m40s a stale borg serve can hold the lock.*max\(\(30\+1\)x10, 2x\(30\+1\)x10\) \+ 20 = 640 s/,
      ],
      onWaitWarnings: [/^--lock-wait 60 is shorter/],
    },
  },
  {
    name: '--lock-wait=700 (above W): respected, no warning',
    args: ['create', '--lock-wait=700', 'backup:repo::a', '/data'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['create', '--lock-wait=700', 'backup:repo::a', '/data'],
      effective: [15, 4],
      lockWait: 700,
      userGiven: true,
      deadline: 700,
      attemptSeconds: null,
      warnings: [],
    },
  },
  {
    name: '--lock-wait 640 (exactly W): no warning',
    args: ['--lock-wait', '640', 'create', 'backup:repo::a', '/data'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '640', 'create', 'backup:repo::a', '/data'],
      effective: [15, 4],
      lockWait: 640,
      userGiven: true,
      warnings: [],
    },
  },
  {
    name: 'top-level --lock-wait 5 and command --lock-wait 900: borg takes 900, no warning',
    args: ['--lock-wait', '5', 'create', '--lock-wait', '900', 'backup:repo::a', '/data'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '5', 'create', '--lock-wait', '900', 'backup:repo::a', '/data'],
      effective: [15, 4],
      lockWait: 900,
      userGiven: true,
      warnings: [],
    },
  },
  {
    // no ClientAlive on the server: TCP keepalive, 7200 + 9 x 75 = 7875 s -> 7895
    name: '--tborg-server-alive none: the TCP keepalive bound and the sshd_config warning',
    args: HOST_ARGS,
    options: { serverAlive: null },
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=10 -o ServerAliveCountMax=30',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 30],
      lockWait: 7895,
      deadline: 7895,
      warnings: [/no ClientAliveInterval.*about 2h11m15s.*"ClientAliveInterval 10".*"ClientAliveCountMax 30"/],
    },
  },
  {
    name: "--tborg-server-alive none and the user's --lock-wait 600: two warnings",
    args: ['create', '--lock-wait', '600', 'backup:repo::a', '/data'],
    options: { serverAlive: null },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['create', '--lock-wait', '600', 'backup:repo::a', '/data'],
      effective: [15, 4],
      lockWait: 600,
      userGiven: true,
      warnings: [/no ClientAliveInterval/],
      planOnlyWarnings: [/^--lock-wait 600 is shorter than the 2h11m35s/],
      onWaitWarnings: [/^--lock-wait 600 is shorter/],
    },
  },
  {
    // keepalive 1x3: (3+1) x 1 = 4; server 1x3: 2 x 4 x 1 = 8 -> 28
    name: 'keepalive 1x3 and server 1x3 (the lab): W = 28',
    args: HOST_ARGS,
    options: { keepalive: { interval: 1, countMax: 3 }, serverAlive: { interval: 1, countMax: 3 } },
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRsh: 'ssh -o ServerAliveInterval=1 -o ServerAliveCountMax=3',
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [1, 3],
      lockWait: 28,
      deadline: 28,
    },
  },
  {
    // server 20x5: 2 x 6 x 20 = 240; client 10x30 injected: 310 -> 330
    name: 'server 20x5 below the injected client bound: the client bound decides',
    args: HOST_ARGS,
    options: { serverAlive: { interval: 20, countMax: 5 } },
    ssh: ssh([0, 3]),
    expect: {
      keepalive: 'injected',
      borgRshWords: ['ssh', ...I10C30],
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [10, 30],
      lockWait: 330,
    },
  },
  {
    name: '--tborg-max-wait 3600: the retry deadline; attempts stay 10 s',
    args: HOST_ARGS,
    options: { maxWait: 3600 },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      effective: [15, 4],
      lockWait: 640,
      deadline: 3600,
      attemptSeconds: 10,
    },
  },
  {
    name: '--tborg-max-wait 14: one 14 s attempt rather than 10 + 4',
    args: HOST_ARGS,
    options: { maxWait: 14 },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '14', ...HOST_ARGS],
      effective: [15, 4],
      lockWait: 640,
      deadline: 14,
      attemptSeconds: 14,
    },
  },
  {
    name: '--tborg-max-wait 0: a single attempt with the shortest --lock-wait borg takes',
    args: HOST_ARGS,
    options: { maxWait: 0 },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '1', ...HOST_ARGS],
      effective: [15, 4],
      lockWait: 640,
      deadline: 0,
      attemptSeconds: 1,
    },
  },
  {
    name: "--tborg-max-wait with the user's --lock-wait: the deadline is tborg's, the argv the user's",
    args: ['create', '--lock-wait', '30', 'backup:repo::a', '/data'],
    options: { maxWait: 120 },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['create', '--lock-wait', '30', 'backup:repo::a', '/data'],
      effective: [15, 4],
      lockWait: 30,
      userGiven: true,
      deadline: 120,
      attemptSeconds: null,
      onWaitWarnings: [/^--lock-wait 30 is shorter/],
    },
  },

  // ---- input that cannot be replayed ----
  {
    name: 'create - : a lost connection is not retried',
    args: ['create', 'backup:repo::a', '-'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', 'create', 'backup:repo::a', '-'],
      lockWait: 640,
      noConnectionRetry: /create -/,
    },
  },
  {
    name: 'create --paths-from-stdin: a lost connection is not retried',
    args: ['create', '--paths-from-stdin', 'backup:repo::a'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', 'create', '--paths-from-stdin', 'backup:repo::a'],
      lockWait: 640,
      noConnectionRetry: /--paths-from-stdin/,
    },
  },
  {
    name: 'extract --stdout: lock timeouts retried, a lost connection not (its stdout is its result)',
    args: ['extract', '--stdout', 'backup:repo::a', 'big.bin'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', 'extract', '--stdout', 'backup:repo::a', 'big.bin'],
      lockWait: 640,
      lockTimeouts: true,
      connectionRetries: 0,
      noConnectionRetry: /^extract --stdout writes its result to stdout/,
    },
  },
  {
    name: 'list --json: a lost connection is not retried',
    args: ['list', '--json', 'backup:repo'],
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', 'list', '--json', 'backup:repo'],
      lockWait: 640,
      connectionRetries: 0,
      noConnectionRetry: /^list writes its result to stdout/,
    },
  },
  {
    name: 'create --content-from-command: your command is not run twice',
    args: ['create', '--content-from-command', 'backup:repo::a', '--', 'pg_dump', 'db'],
    ssh: ssh([15, 4]),
    // One attempt that waits the whole wait inside borg: borg takes the lock before it runs the command.
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '640', 'create', '--content-from-command', 'backup:repo::a', '--', 'pg_dump', 'db'],
      lockWait: 640,
      lockTimeouts: false,
      connectionRetries: 0,
      noConnectionRetry: /runs your command/,
    },
  },
  {
    name: 'BORG_PASSPHRASE_FD: read by the first attempt, so a lost connection is not retried',
    args: HOST_ARGS,
    env: { BORG_PASSPHRASE_FD: '3' },
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      lockWait: 640,
      connectionRetries: 0,
      noConnectionRetry: /BORG_PASSPHRASE_FD/,
    },
  },
  {
    name: 'create of files: lost connections retried (3 by default)',
    args: HOST_ARGS,
    ssh: ssh([15, 4]),
    expect: {
      keepalive: 'configured',
      env: {},
      argv: ['--lock-wait', '10', ...HOST_ARGS],
      lockWait: 640,
      noConnectionRetry: null,
      lockTimeouts: true,
      connectionRetries: 3,
    },
  },
];

function toInput(row: Row): PlanInput {
  const env = row.env ?? {};
  const major = row.major ?? 1;
  const options: TborgOptions = { ...defaultOptions(), ...row.options };
  const commandLine = parseBorgCommandLine(row.args, env, major);
  let sshFacts: PlanInput['ssh'] = null;
  if (row.ssh) {
    const loc = commandLine.repository?.location;
    assert.ok(loc?.host, `${row.name}: the row gives ssh facts, so the line must have an ssh repository`);
    // The hand-written words must be what borg itself splits out of the user's value.
    if (row.ssh.source === 'BORG_RSH') assert.deepEqual(splitLikePython(env.BORG_RSH ?? ''), row.ssh.words, `${row.name}: BORG_RSH words`);
    if (row.ssh.source === '--rsh')
      assert.deepEqual(splitLikePython(commandLine.rsh?.value ?? ''), row.ssh.words, `${row.name}: --rsh words`);
    sshFacts = {
      rsh: { words: row.ssh.words, source: row.ssh.source },
      target: [...row.ssh.words, loc.host],
      configured: { interval: row.ssh.configured[0], countMax: row.ssh.configured[1] },
    };
    if (row.ssh.intervalIsDefault !== undefined) sshFacts.intervalIsDefault = row.ssh.intervalIsDefault;
    if (row.ssh.hostBlock !== undefined) sshFacts.hostBlock = row.ssh.hostBlock;
  }
  return {
    args: row.args,
    env,
    options,
    borg: { path: '/usr/bin/borg', version: major === 2 ? '2.0.0b5' : '1.2.4', major },
    commandLine,
    ssh: sshFacts,
    nonSshRsh: row.nonSsh ?? null,
  };
}

function pair(k: AlivePair | null | undefined): [number, number] | null {
  return k ? [k.interval, k.countMax] : null;
}

for (const row of ROWS) {
  test(`buildPlan: ${row.name}`, () => {
    const input = toInput(row);
    const argsBefore = [...row.args];
    const plan = buildPlan(input);
    const e = row.expect;
    assert.deepEqual(row.args, argsBefore, 'buildPlan must not change its input');
    assert.equal(plan.keepalive, e.keepalive, 'keepalive');

    // env: only BORG_RSH, only when injected through it.
    const { BORG_RSH: injected, ...otherEnv } = plan.env;
    assert.deepEqual(otherEnv, {}, 'no variable but BORG_RSH is ever set');
    if (e.env) assert.deepEqual(plan.env, e.env, 'env');
    if (e.borgRsh !== undefined) assert.equal(injected, e.borgRsh, 'BORG_RSH');
    const expectedWords = e.borgRshWords ?? (e.borgRsh !== undefined ? e.borgRsh.split(' ') : undefined);
    if (expectedWords) {
      assert.ok(injected !== undefined, 'BORG_RSH must be set');
      // What borg will run: Python's shlex.split of the value.
      assert.deepEqual(splitLikePython(injected), expectedWords, 'BORG_RSH as borg splits it');
    }
    if (e.keepalive !== 'injected') assert.equal(injected, undefined, 'nothing injected, no BORG_RSH');

    assert.deepEqual(plan.borg.argv, e.argv, 'first attempt argv');
    if (e.rshAt) {
      const word = plan.borg.argv[e.rshAt.index]!;
      assert.ok(word.startsWith(e.rshAt.prefix));
      assert.deepEqual(splitLikePython(word.slice(e.rshAt.prefix.length)), e.rshAt.words, '--rsh as borg splits it');
    }
    if (e.effective !== undefined) assert.deepEqual(pair(plan.ssh?.effective), e.effective, 'ssh.effective');
    if (row.ssh) assert.deepEqual(pair(plan.ssh?.configured), row.ssh.configured, 'ssh.configured is what ssh -G said');
    else assert.equal(plan.ssh, null);

    assert.equal(plan.lockWait.seconds, e.lockWait, 'lockWait.seconds');
    assert.equal(plan.lockWait.userGiven, e.userGiven ?? false, 'lockWait.userGiven');
    if (e.deadline !== undefined) assert.equal(plan.retry.deadlineSeconds, e.deadline, 'retry.deadlineSeconds');
    if (e.attemptSeconds !== undefined) assert.equal(plan.lockWait.attemptSeconds, e.attemptSeconds, 'attemptSeconds');
    if (e.lockTimeouts !== undefined) assert.equal(plan.retry.lockTimeouts, e.lockTimeouts, 'retry.lockTimeouts');
    if (e.connectionRetries !== undefined) assert.equal(plan.retry.connectionRetries, e.connectionRetries, 'retry.connectionRetries');
    if (e.noConnectionRetry !== undefined) {
      if (e.noConnectionRetry === null) assert.equal(plan.retry.noConnectionRetry, null);
      else assert.match(plan.retry.noConnectionRetry ?? '', e.noConnectionRetry);
    }

    const onRun = plan.warnings.filter((w) => w.onRun).map((w) => w.text);
    const planOnly = plan.warnings.filter((w) => !w.onRun).map((w) => w.text);
    if (e.warnings) {
      assert.equal(onRun.length, e.warnings.length, `warnings: ${JSON.stringify(onRun)}`);
      for (const [i, re] of e.warnings.entries()) assert.match(onRun[i]!, re);
    }
    if (e.planOnlyWarnings) {
      assert.equal(planOnly.length, e.planOnlyWarnings.length, `plan-only warnings: ${JSON.stringify(planOnly)}`);
      for (const [i, re] of e.planOnlyWarnings.entries()) assert.match(planOnly[i]!, re);
    }
    const onWait = plan.warnings.filter((w) => w.onWait).map((w) => w.text);
    assert.equal(onWait.length, e.onWaitWarnings?.length ?? 0, `on-wait warnings: ${JSON.stringify(onWait)}`);
    for (const [i, re] of (e.onWaitWarnings ?? []).entries()) assert.match(onWait[i]!, re);
    for (const w of plan.warnings) assert.doesNotMatch(w.text, /\n/, 'a warning is one line');
  });
}

// The rules every ssh row must keep, checked against the hand-written facts of the row.
test('buildPlan invariants over every row with an ssh repository', () => {
  let checked = 0;
  for (const row of ROWS) {
    if (!row.ssh) continue;
    const plan = buildPlan(toInput(row));
    const eff = plan.ssh!.effective;
    // The guide's rule: W > I x C of the effective keepalive.
    assert.ok(plan.lockWait.model!.seconds > eff.interval * eff.countMax, row.name);
    // W covers the server bound: 2 x (C+1) x I of what the server runs (the guide's 10 x 30 unless told).
    const server =
      row.options?.serverAlive === null
        ? 7200 + 9 * 75
        : row.options?.serverAlive
          ? 2 * (row.options.serverAlive.countMax + 1) * row.options.serverAlive.interval
          : 2 * 31 * 10;
    assert.ok(plan.lockWait.model!.seconds >= server, row.name);
    // and the client bound: (C+1) x I.
    assert.ok(plan.lockWait.model!.seconds >= (eff.countMax + 1) * eff.interval, row.name);
    // A configured interval is never touched: no BORG_RSH, and --rsh as the user typed it.
    const configured = row.ssh.configured[0] > 0 && !row.ssh.intervalIsDefault;
    if (configured || plan.keepalive !== 'injected') {
      assert.equal(plan.env.BORG_RSH, undefined, row.name);
      assert.deepEqual(plan.baseArgv, row.args, row.name);
    }
    // tborg's own --lock-wait comes first, or not at all when the user gave one.
    if (plan.lockWait.userGiven) assert.deepEqual(plan.borg.argv, plan.baseArgv, row.name);
    else assert.deepEqual(plan.borg.argv.slice(0, 2), ['--lock-wait', String(plan.lockWait.attemptSeconds)], row.name);
    checked++;
  }
  assert.ok(checked > 30, `${checked} rows`);
});

test("attemptArgv: later attempts carry their own --lock-wait, the user's words unchanged", () => {
  const row = ROWS[0]!;
  const plan: Plan = buildPlan(toInput(row));
  assert.deepEqual(attemptArgv(plan, 7), ['--lock-wait', '7', 'create', 'backup:repo::a', '/data']);
  assert.deepEqual(attemptArgv(plan, null), ['create', 'backup:repo::a', '/data']);
  const user = buildPlan(toInput({ ...row, args: ['create', '--lock-wait', '60', 'backup:repo::a', '/data'] }));
  assert.deepEqual(attemptArgv(user, 7), ['create', '--lock-wait', '60', 'backup:repo::a', '/data']);
});
