#!/bin/sh
':' //; while read -r k v; do case $k in SigIgn:) i=$v;; SigBlk:) b=$v;; esac; done 2>/dev/null </proc/$$/status; export TBORG_START_SIGNALS="$i $b"; exec node "$0" "$@"
// The line above is sh and a JavaScript no-op at once: node resets every signal disposition before any
// JavaScript runs, so sh reads the ones tborg was started with (nohup's SIGHUP, `&`'s SIGINT) and
// passes them on for borg (src/run/process-start.ts). `node bin/tborg.js` skips it: then they are unknown.
import { main } from '../dist/src/cli/main.js';
import { signalToDieOf } from '../dist/src/run/exit-signal.js';

const code = await main(process.argv.slice(2));
// borg died of a signal: die of it too, as plain borg would have, once tborg's handlers are gone.
const signal = signalToDieOf(code);
if (signal) {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}
process.exitCode = code;
