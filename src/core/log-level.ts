// borg's level names (Python logging), for tborg's own lines: the level a message is shown at, and
// the `levelname` of a --log-json line (borg's logger.py JsonFormatter).
export type LogLevel = 'INFO' | 'WARNING' | 'ERROR';
