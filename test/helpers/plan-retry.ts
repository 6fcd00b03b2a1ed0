import type { Plan } from '../../src/plan/plan.js';

// A plan's retry part with nothing special: 60 s of lock timeouts, 3 lost connections, no connect
// wait, no user command, no landed check. The pure tables of attempts, next-step and landed spread it
// and override what a row is about.
export const RETRY_DEFAULTS: Plan['retry'] = {
  deadlineSeconds: 60,
  lockTimeouts: true,
  connectionRetries: 3,
  noConnectionRetry: null,
  connectWaitSeconds: 0,
  userCommand: null,
  boundSource: 'model',
  boundSeconds: 60,
  landedCheck: null,
};
