// A real redis-server for a test: on 127.0.0.1 at a free port, no persistence, stopped (SIGTERM) afterwards.
// Tests that need one skip with a printed reason when the redis-server binary is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;
if (!HAS_REDIS) console.warn('[skip] redis-server not found (apt-get install redis-server): fleet tests are skipped');

export interface RedisServer { port: number; url: string; process: ChildProcess; stop(): Promise<void> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts redis-server; extra arguments e.g. ['--requirepass', 'secret']; tls: serve TLS only (rediss://),
 *  with this certificate and key. Resolves once it accepts connections. */
export async function startRedis(extra: string[] = [], tls?: { cert: string; key: string }): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const ports = tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    const child = spawn('redis-server', [...ports, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout!.on('data', (d) => { out += d; if (/Ready to accept connections/.test(out)) resolve(true); });
      child.on('exit', () => resolve(false));
    });
    if (ready) {
      const stop = () => new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      return { port, url: tls ? `rediss://localhost:${port}` : `redis://127.0.0.1:${port}`, process: child, stop };
    }
    // the port was taken between the probe and the start: try another
    if (attempt >= 4) throw new Error(`redis-server did not start: ${out.slice(-500)}`);
  }
}
