// The location tables shared by test/unit/location.test.ts (tborg against the expected readings)
// and test/cli/location-oracle-cli.test.ts (the same texts through each installed borg's own
// Location class): what borg 1.x and the borg 2 betas make of each text.
import type { Location } from '../../src/borg/location.js';

export const E = { BORG_REPO: 'ssh://u@envhost:2222/srv/r' };

// "<proto> [user@]host[:port] <path> [::archive]", or 'invalid'.
export function describe(l: Location | undefined): string {
  if (!l) return 'invalid';
  const host =
    l.host === null ? '' : `${l.user ? `${l.user}@` : ''}${l.host.includes(':') ? `[${l.host}]` : l.host}${l.port ? `:${l.port}` : ''} `;
  return `${l.proto} ${host}${l.path}${l.archive ? ` ::${l.archive}` : ''}`;
}

// [text, expected, env?]; borg 1.x (1.1.9 .. 1.4), parseformat.py Location.
export const BORG1: Array<[string, string, NodeJS.ProcessEnv?]> = [
  // ssh://
  ['ssh://host/srv/repo', 'ssh host /srv/repo'],
  ['ssh://user@host:2222/srv/repo::arch', 'ssh user@host:2222 /srv/repo ::arch'],
  ['ssh://host/./rel', 'ssh host /./rel'], // "/./" = relative to the remote working directory
  ['ssh://host/~/repo', 'ssh host /~/repo'],
  ['ssh://host/~user/repo', 'ssh host /~user/repo'],
  ['ssh://[::1]/repo', 'ssh [::1] /repo'],
  ['ssh://[::1]:22/./x::a', 'ssh [::1]:22 /./x ::a'],
  ['ssh://host:0/x', 'ssh host /x'], // port 0 means no port (`port and int(port) or None`)
  ['ssh://host:022/x', 'ssh host:22 /x'],
  ['ssh://user@host/path/../other', 'ssh user@host /other'],
  ['ssh://h/a//b/./c', 'ssh h /a/b/c'],
  ['ssh://host//abs', 'ssh host //abs'], // os.path.normpath keeps exactly two leading slashes
  ['ssh://host', 'invalid'],
  ['ssh://host/', 'invalid'],
  ['ssh://host:notaport/x', 'invalid'],
  ['ssh://user@[fe80::1%eth0]/x', 'invalid'],
  ['ssh:/x', 'ssh ssh /x'], // scp-style: host "ssh", path "/x"
  // scp-style
  ['host:repo', 'ssh host repo'],
  ['host:/abs/repo', 'ssh host /abs/repo'],
  ['user@host:repo', 'ssh user@host repo'],
  ['user@host:~/repo', 'ssh user@host ~/repo'],
  ['user@host:/srv/repo::arch', 'ssh user@host /srv/repo ::arch'],
  ['[::1]:repo', 'ssh [::1] repo'],
  ['[::1]:/srv/repo::x', 'ssh [::1] /srv/repo ::x'],
  ['user@[::1]:repo', 'ssh user@[::1] repo'],
  ['[foo]:repo', 'file [foo]:repo'], // not an IPv6 address: a local path
  ['a:b', 'ssh a b'],
  ['h:r::a::b', 'ssh h r ::a::b'], // the archive name may contain "::"
  ['user@host:', 'file user@host:'], // nothing after the colon: a local path
  ['user@host', 'file user@host'],
  ['@host:x', 'ssh @host x'], // host_re allows "@": the host is "@host"
  ['a@b@c:x', 'ssh a@b@c x'], // user "a", host "b@c"
  ['user@ho/st:x', 'file user@ho/st:x'],
  ['ho st:x', 'ssh ho st x'],
  ['-dash:x', 'ssh -dash x'],
  ['file:relative', 'ssh file relative'],
  // local
  ['repo', 'file repo'],
  ['/srv/repo', 'file /srv/repo'],
  ['./repo', 'file repo'],
  ['./a:b', 'file a:b'], // a "/" before the colon: not scp-style
  ['/a:b', 'file /a:b'],
  ['/srv/repo::a-2024-01-01T10:00:00', 'file /srv/repo ::a-2024-01-01T10:00:00'],
  ['repo::arch', 'file repo ::arch'],
  ['repo/', 'file repo'],
  ['..', 'file ..'],
  ['.', 'file .'],
  ['/', 'file /'],
  ['//', 'invalid'],
  ['//double/slash', 'invalid'],
  ['///triple', 'invalid'],
  ['/a::b c', 'file /a ::b c'],
  ['repo\n', 'file repo\n'],
  ['x::', 'invalid'],
  ['x:::y', 'file x :::y'], // the archive is ":y"
  ['::a/b', 'invalid'],
  [':x', 'invalid'],
  // file://
  ['file:///tmp/repo', 'file /tmp/repo'],
  ['file:///tmp/repo::arch', 'file /tmp/repo ::arch'],
  ['file://server/share/repo', 'file server/share/repo'],
  ['file://rel', 'file file:/rel'], // not file://: a relative local path
  // borg 2 forms mean something else to borg 1
  ['rest://user@host:2222/repo', 'file rest:/user@host:2222/repo'],
  ['socket:///run/borg.sock', 'file socket:/run/borg.sock'],
  // BORG_REPO: "", "::" and "::archive" take the repository from it
  ['', 'ssh u@envhost:2222 /srv/r', E],
  ['::', 'ssh u@envhost:2222 /srv/r', E],
  ['::arch', 'ssh u@envhost:2222 /srv/r ::arch', E],
  ['::a/b', 'invalid', E],
  ['', 'invalid'],
  ['::arch', 'invalid'],
  ['', 'ssh envhost r', { BORG_REPO: 'envhost:r::envarch' }], // BORG_REPO's own archive is dropped
  ['::x', 'ssh envhost r ::x', { BORG_REPO: 'envhost:r::envarch' }],
  ['', 'invalid', { BORG_REPO: '' }],
  ['repo', 'file repo', E], // an explicit repository wins
];

// borg 2 as installed here (2.0.0b5): -r/--repo values.
export const BORG2: Array<[string, string, NodeJS.ProcessEnv?]> = [
  ['ssh://user@host:2222/srv/repo', 'ssh user@host:2222 /srv/repo'],
  ['ssh://host/./rel', 'ssh host /./rel'],
  ['ssh://[::1]:22/./x', 'ssh [::1]:22 /./x'],
  ['ssh://host/srv/r::ignored', 'ssh host /srv/r'], // re.match without an end anchor
  ['host:repo', 'file host:repo'], // scp-style is a local path in borg 2
  ['user@host:~/repo', 'file user@host:~/repo'],
  ['[::1]:repo', 'file ['], // the local path stops at "::"
  ['/srv/repo', 'file /srv/repo'],
  ['repo::x', 'file repo'],
  ['file:///tmp/repo', 'file /tmp/repo'],
  ['socket:///run/s', 'file socket:/run/s'],
  ['ssh://host', 'invalid'],
  ['//double', 'invalid'],
  [':x', 'invalid'],
  ['', 'ssh u@envhost:2222 /srv/r', E],
  ['', 'invalid'],
  ['', 'invalid', { BORG_REPO: '' }],
];

// The borg 2 betas, from each beta's own Location class (run over the same texts with
// src/borg/helpers/parseformat.py of the tag); a beta not named behaves like the one before it.
// b23 is master the day before its release, b24 from its changelog (location-grammar.ts), b25 the sid
// root's parseformat.py. Local paths are made absolute against cwd /work/dir.
export const GENERATIONS: Array<[string, Record<string, string>]> = [
  ['host:repo', { b5: 'file host:repo', b13: 'file /work/dir/host:repo' }],
  ['ssh://user@host:2222/srv/repo', { b5: 'ssh user@host:2222 /srv/repo', b13: 'ssh user@host:2222 srv/repo' }],
  ['ssh://host/./rel', { b5: 'ssh host /./rel', b13: 'ssh host rel' }],
  ['ssh://host/~/repo', { b5: 'ssh host /~/repo', b13: 'ssh host ~/repo' }],
  ['ssh://host//abs', { b5: 'ssh host //abs', b13: 'ssh host /abs' }],
  ['ssh://user@host:2222/srv/repo::arch', { b5: 'ssh user@host:2222 /srv/repo', b13: 'ssh user@host:2222 srv/repo::arch' }],
  ['[::1]:repo', { b5: 'file [', b13: 'file /work/dir/[::1]:repo' }],
  ['file:///tmp/repo', { b5: 'file /tmp/repo' }],
  ['file://server/share/repo', { b5: 'file server/share/repo', b13: 'invalid' }],
  [
    'socket:///run/borg.sock',
    { b5: 'file socket:/run/borg.sock', b6: 'socket /run/borg.sock', b22: 'file /work/dir/socket:/run/borg.sock' },
  ],
  [
    'sftp://user@host:22/srv/repo',
    {
      b5: 'file sftp:/user@host:22/srv/repo',
      b10: 'sftp user@host:22 /srv/repo',
      b13: 'sftp user@host:22 srv/repo',
      b22: 'sftp sftp://user@host:22/srv/repo',
    },
  ],
  [
    'rclone://remote:path',
    { b5: 'file rclone:/remote:path', b11: 'rclone remote:path', b13: 'rclone //remote:path', b22: 'rclone rclone://remote:path' },
  ],
  ['rclone:remote:path', { b5: 'file rclone:remote:path', b13: 'rclone remote:path', b22: 'rclone rclone:remote:path' }],
  [
    's3:profile@https://s3.example.com:9000/bucket/path',
    {
      b5: 'file s3:profile@https:/s3.example.com:9000/bucket/path',
      b13: 'file /work/dir/s3:profile@https:/s3.example.com:9000/bucket/path',
      b20: 's3 profile@s3.example.com:9000 bucket/path',
      b22: 's3 s3:profile@https://s3.example.com:9000/bucket/path',
    },
  ],
  ['b2:/bucket/p', { b5: 'file b2:/bucket/p', b13: 'file /work/dir/b2:/bucket/p', b20: 'b2 bucket/p', b22: 'b2 b2:/bucket/p' }],
  [
    'http://user:pw@host:8080/',
    {
      b5: 'file http:/user:pw@host:8080',
      b13: 'file /work/dir/http:/user:pw@host:8080',
      b21: 'http user@host:8080 /',
      b22: 'http http://user:pw@host:8080/',
    },
  ],
  [
    'rest://user@host:2222/repo',
    {
      b5: 'file rest:/user@host:2222/repo',
      b13: 'file /work/dir/rest:/user@host:2222/repo',
      b22: 'rest user@host:2222 repo',
      b25: 'file /work/dir/rest:/user@host:2222/repo',
    },
  ],
  [
    'rest:///abs/repo',
    { b5: 'file rest:/abs/repo', b13: 'file /work/dir/rest:/abs/repo', b22: 'rest abs/repo', b25: 'file /work/dir/rest:/abs/repo' },
  ],
  [
    'rest://host//abs',
    { b5: 'file rest:/host/abs', b13: 'file /work/dir/rest:/host/abs', b22: 'rest host /abs', b25: 'file /work/dir/rest:/host/abs' },
  ],
  ['//double/slash', { b5: 'invalid' }],
  ['repo', { b5: 'file repo', b13: 'file /work/dir/repo' }],
  ['./a:b', { b5: 'file a:b', b13: 'file /work/dir/a:b' }],
  ['h:r::a::b', { b5: 'file h:r', b13: 'file /work/dir/h:r::a::b' }],
  ['ssh://host', { b5: 'invalid' }],
  ['ssh://host:0/x', { b5: 'ssh host /x', b13: 'ssh host x' }],
  ['ssh://h/a//b/./c', { b5: 'ssh h /a/b/c', b13: 'ssh h a/b/c' }],
  ['ssh:foo', { b5: 'file ssh:foo', b13: 'file /work/dir/ssh:foo', b24: 'invalid' }],
  ['ssh://host/', { b5: 'invalid' }],
  ['file:relative', { b5: 'file file:relative', b13: 'file /work/dir/file:relative', b24: 'invalid' }],
  ['rest:foo', { b5: 'file rest:foo', b13: 'file /work/dir/rest:foo', b24: 'invalid', b25: 'file /work/dir/rest:foo' }],
  ['sftp:x', { b5: 'file sftp:x', b13: 'file /work/dir/sftp:x', b22: 'sftp sftp:x' }],
];
export const BETAS = [1, 5, 6, 9, 10, 11, 12, 13, 19, 20, 21, 22, 23, 24, 25];
