// An I x C pair: ServerAliveInterval x ServerAliveCountMax (the client's ssh) or ClientAliveInterval x
// ClientAliveCountMax (the server's sshd). ssh gives up after about (C + 1) x I seconds without an
// answer (docs/facts.md "keepalives").
export interface AlivePair {
  interval: number;
  countMax: number;
}

// borg's serve guide: "ServerAliveInterval 10, ServerAliveCountMax 30" for the client and "ClientAlive
// Interval 10, ClientAliveCountMax 30" for the server (docs/usage/serve.rst). What tborg injects when
// ssh has no keepalive, what `ssh-config` writes, what `sshd-config` prints, and what tborg assumes of
// a server whose sshd_config it cannot read, unless --tborg-keepalive / --tborg-server-alive say otherwise.
export const GUIDE_ALIVE_PAIR: Readonly<AlivePair> = Object.freeze({ interval: 10, countMax: 30 });
