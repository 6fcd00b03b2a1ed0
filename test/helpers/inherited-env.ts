// The environment a CLI test starts tborg with: the test's own, minus what would steer tborg or borg
// (TBORG_*, BORG_*) and node's test-runner plumbing (NODE_TEST_CONTEXT, the runner's word to the test
// file, not to tborg). `drop` removes more: a name, or a prefix when it ends in "_" (a fake borg's own
// settings, say).
export function inheritedEnv(drop: readonly string[] = []): NodeJS.ProcessEnv {
  const dropped = (key: string): boolean =>
    key.startsWith('TBORG_') ||
    key.startsWith('BORG_') ||
    key === 'NODE_TEST_CONTEXT' ||
    drop.some((d) => (d.endsWith('_') ? key.startsWith(d) : key === d));
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!dropped(key)) env[key] = value;
  return env;
}
