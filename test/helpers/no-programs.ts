import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { sep } from 'node:path';

// Loaded by scripts/run-tests.mjs (`node --import`) into every test file's process. In a file of
// test/unit, the fast loop, starting any program is an error: those tests run without borg, ssh,
// python3 or a shell installed, so a test that needs one belongs in test/host, test/cli or test/e2e.
// Other folders are left alone. syncBuiltinESMExports makes `import { spawn } from 'node:child_process'`
// see the replacement too, whenever the test file imports it.
const UNIT = `${sep}dist${sep}test${sep}unit${sep}`;

if ((process.argv[1] ?? '').includes(UNIT)) {
  const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
  for (const name of names) {
    const refuse = (file: unknown): never => {
      throw new Error(`test/unit starts no program (${name} ${String(file)}): move this test to test/host, test/cli or test/e2e`);
    };
    Object.defineProperty(childProcess, name, { value: refuse, writable: true, configurable: true });
  }
  syncBuiltinESMExports();
}
