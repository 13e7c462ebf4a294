// Koa under node:cluster, the seed's own stack, as a benchmark system: the
// primary forks one worker per CPU, each worker serves a Koa app through
// http.createServer(app.callback()) on the shared port. The responses carry
// the same status, content-type and body bytes as the wasm guests and
// bench/internal/native.
//
//   node server.js --listen 127.0.0.1:8081 --plugin hello-wat|hello-sdk|hello-raw|echo
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');
const Koa = require('koa');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const listen = arg('listen', '127.0.0.1:8081');
const plugin = arg('plugin', 'hello-wat');
const sep = listen.lastIndexOf(':');
const host = listen.slice(0, sep).replace(/^\[|\]$/g, '');
const port = Number(listen.slice(sep + 1));

function hello(type, body) {
  return (ctx) => {
    ctx.set('content-type', type); // set first: Koa keeps it for a string body
    ctx.body = body;
  };
}

// echo answers like bench/guests/echo: method, URI, lowercase headers (each a
// list of values, names sorted as Go's encoding/json sorts map keys), body.
async function echo(ctx) {
  const chunks = [];
  for await (const c of ctx.req) chunks.push(c);
  const body = Buffer.concat(chunks).toString('latin1');
  const headers = {};
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    (headers[k] ||= []).push(raw[i + 1]);
  }
  const sorted = {};
  for (const k of Object.keys(headers).sort()) sorted[k] = headers[k];
  ctx.set('content-type', 'application/json');
  ctx.body = JSON.stringify({ method: ctx.method, uri: ctx.originalUrl, headers: sorted, body_len: body.length, body });
}

const handlers = {
  'hello-wat': hello('text/plain', 'hello from wat\n'),
  'hello-sdk': hello('text/plain; charset=utf-8', 'hello from wasm\n'),
  'hello-raw': hello('text/plain; charset=utf-8', 'hello from wasm\n'),
  echo,
};

if (!handlers[plugin]) {
  console.error(`koa: unknown --plugin ${JSON.stringify(plugin)} (want ${Object.keys(handlers).join(', ')})`);
  process.exit(2);
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`koa: bad --listen ${JSON.stringify(listen)} (want host:port)`);
  process.exit(2);
}

if (cluster.isPrimary) {
  const n = os.availableParallelism();
  for (let i = 0; i < n; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    if (!w.exitedAfterDisconnect) console.error(`koa: worker ${w.process.pid} exited (${signal || code})`);
  });
  process.on('SIGTERM', () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.exit(0);
  });
} else {
  const app = new Koa();
  app.use(handlers[plugin]);
  http.createServer(app.callback()).listen(port, host);
}
