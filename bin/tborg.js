#!/bin/sh
':' //; while read -r k v; do case $k in SigIgn:) i=$v;; SigBlk:) b=$v;; esac; done 2>/dev/null </proc/$$/status; c=; [ -d /proc/$$/fd ] && for f in 0 1 2; do [ -e /proc/$$/fd/$f ] || c=$c$f; done; export TBORG_START_SIGNALS="$i $b $c"; exec node "$0" "$@"
// The line above is sh and a JavaScript no-op at once: node resets every signal disposition before any
// JavaScript runs, and opens /dev/null on each of stdin, stdout and stderr that is closed, so sh reads
// what tborg was started with (nohup's SIGHUP, `&`'s SIGINT, `>&-`) and passes it on for borg
// (src/run/process-start.ts). `node bin/tborg.js` skips it: then it is unknown.
import { main } from '../dist/src/cli/main.js';
import { drainBeforeDying, signalToDieOf } from '../dist/src/run/exit-signal.js';

const code = await main(process.argv.slice(2));
// borg died of a signal: die of it too, as plain borg would have, once tborg's handlers are gone
// (the same signal again now ends tborg at once) and what tborg still holds of borg's output is out.
const signal = signalToDieOf(code);
if (signal) {
  process.removeAllListeners(signal);
  await drainBeforeDying([process.stdout, process.stderr]);
  process.kill(process.pid, signal);
}
process.exitCode = code;
