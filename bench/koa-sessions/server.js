// Koa + koa-session with its external store on Redis, under node:cluster:
// the peer of examples/sessions. The primary forks one worker per CPU, each
// serves the Koa app through http.createServer(app.callback()) on the shared
// port and holds one ioredis connection. A request answers `visits: N\n`,
// N counting the requests of its cookie session (cookie `sid`, unsigned
// like the wasm example's, 30 min TTL renewed by every request).
//
//   node server.js --listen 127.0.0.1:8082 --redis redis://127.0.0.1:6379
//
// koa-session reads then writes the whole session (GET, then SET PX):
// two Redis round trips a request, as the wasm example makes two store
// calls (get, compare-and-swap). Unlike the example it does not detect a
// concurrent update of one session (last write wins).
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');
const Koa = require('koa');
const { createSession: session } = require('koa-session');
const Redis = require('ioredis');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const listen = arg('listen', '127.0.0.1:8082');
const redisURL = arg('redis', 'redis://127.0.0.1:6379');
const sep = listen.lastIndexOf(':');
const host = listen.slice(0, sep).replace(/^\[|\]$/g, '');
const port = Number(listen.slice(sep + 1));
const ttl = 30 * 60 * 1000;

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`koa-sessions: bad --listen ${JSON.stringify(listen)} (want host:port)`);
  process.exit(2);
}

function redisStore(redis) {
  return {
    async get(key) {
      const v = await redis.get('session:' + key);
      return v ? JSON.parse(v) : undefined;
    },
    async set(key, sess, maxAge) {
      await redis.set('session:' + key, JSON.stringify(sess), 'PX', maxAge);
    },
    async destroy(key) {
      await redis.del('session:' + key);
    },
  };
}

function app() {
  const a = new Koa();
  const redis = new Redis(redisURL, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  redis.on('error', (e) => console.error(`koa-sessions: redis: ${e.message}`));
  a.use(session({ key: 'sid', maxAge: ttl, signed: false, httpOnly: true, sameSite: 'lax', store: redisStore(redis) }, a));
  a.use((ctx) => {
    const n = (ctx.session.visits || 0) + 1;
    ctx.session.visits = n;
    ctx.set('content-type', 'text/plain; charset=utf-8');
    ctx.set('cache-control', 'no-store');
    ctx.body = `visits: ${n}\n`;
  });
  return a;
}

if (cluster.isPrimary) {
  const n = os.availableParallelism();
  for (let i = 0; i < n; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    if (!w.exitedAfterDisconnect) console.error(`koa-sessions: worker ${w.process.pid} exited (${signal || code})`);
  });
  process.on('SIGTERM', () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.exit(0);
  });
} else {
  http.createServer(app().callback()).listen(port, host);
}
