// Queue URLs: redis://[user:pass@]host:port[/db] or rediss:// (TLS). Checked once, with one clear line per
// problem; the password may instead come from SALIENCY_REDIS_PASSWORD (kept out of `ps` and shell history),
// and the URL stored with a job never carries it. rediss:// trusts the system's CAs, plus SALIENCY_REDIS_CA
// (a PEM file: a private CA or a self-signed server certificate).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { SaliencyError } from '../types.ts';

export interface QueueUrl {
  /** For ioredis (and BullMQ's connection). */
  options: RedisOptions;
  /** The URL without its password: what a job records and what messages show. */
  display: string;
  tls: boolean;
  loopback: boolean;
}

const bad = (url: string, problem: string) => new SaliencyError(`queue URL "${redact(url)}": ${problem}`, 'BAD_QUEUE_URL');

/** The URL with any password replaced by ***, for messages. */
export function redact(url: string): string {
  return url.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

export function parseQueueUrl(url: string, env: NodeJS.ProcessEnv = process.env): QueueUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad(url, 'not a URL (expected redis://[user:pass@]host:port[/db] or rediss://...)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(url, `scheme must be redis:// or rediss:// (got ${u.protocol}//)`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw bad(url, 'no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw bad(url, `database must be a number like /0 (got /${dbText})`);
  if (u.search || u.hash) throw bad(url, 'query strings and fragments are not supported (a private CA: SALIENCY_REDIS_CA=<file.pem>)');
  const password = u.password ? decodeURIComponent(u.password) : env.SALIENCY_REDIS_PASSWORD || undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const tls = u.protocol === 'rediss:';
  let ca: Buffer | undefined;
  if (tls && env.SALIENCY_REDIS_CA) {
    try {
      ca = readFileSync(env.SALIENCY_REDIS_CA);
    } catch (e) {
      throw new SaliencyError(`SALIENCY_REDIS_CA ${env.SALIENCY_REDIS_CA}: ${(e as Error).message}`, 'BAD_QUEUE_URL');
    }
  }
  const options: RedisOptions = {
    host, port, db: dbText === '' ? 0 : Number(dbText), username, password,
    // BullMQ workers block on Redis: commands must wait for a reconnect instead of failing after N retries
    maxRetriesPerRequest: null,
    ...(tls ? { tls: { ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) } } : {}),
  };
  const display = `${u.protocol}//${username ? `${encodeURIComponent(username)}@` : ''}${u.host}${dbText ? `/${dbText}` : ''}`;
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return { options, display, tls, loopback };
}

/** A warning for a connection whose traffic (images, maps) is readable or writable by others, or null. */
export function exposureWarning(q: QueueUrl): string | null {
  if (q.loopback) return null;
  if (!q.tls && !q.options.password) return `warning: ${q.display} is neither TLS (rediss://) nor password-protected: anyone on that network can read and alter the queue`;
  if (!q.tls) return `warning: ${q.display} is not TLS: images and maps cross the network unencrypted (use rediss://)`;
  return null;
}
