// Keel's test with a real RESP3 client library: node-redis, connected with its defaults (it
// sends HELLO 3 first). Usage: node basic.mjs PORT. Exits 0 when every check passed; prints
// what failed otherwise. Run by run.sh (ctest: clients.node_redis).
import assert from 'node:assert/strict';
import { BasicClientSideCache, createClient } from 'redis';

const port = Number(process.argv[2]);
const url = `redis://127.0.0.1:${port}`;

async function main() {
  const client = createClient({ url });
  client.on('error', (e) => console.error('client error:', e));
  await client.connect();

  const keys = ['node:s', 'node:n', 'node:f', 'node:h', 'node:set', 'node:l', 'node:t'];
  await client.del(keys);

  // The connection speaks RESP3.
  const info = await client.sendCommand(['CLIENT', 'INFO']);
  assert.match(String(info), / resp=3\n/);

  // Strings, with nulls.
  assert.equal(await client.set('node:s', 'v'), 'OK');
  assert.equal(await client.get('node:s'), 'v');
  assert.equal(await client.get('node:missing'), null);
  assert.deepEqual(await client.mGet(['node:s', 'node:missing']), ['v', null]);
  assert.equal(await client.incr('node:n'), 1);
  assert.equal(await client.incrByFloat('node:f', 1.5), '1.5');

  // A map.
  await client.hSet('node:h', { a: '1', b: '2' });
  assert.deepEqual({ ...(await client.hGetAll('node:h')) }, { a: '1', b: '2' });
  assert.deepEqual({ ...(await client.hGetAll('node:nohash')) }, {});

  // A set.
  await client.sAdd('node:set', ['x', 'y', 'z']);
  const members = await client.sMembers('node:set');
  assert.deepEqual([...members].sort(), ['x', 'y', 'z']);

  // Lists, a transaction, a CONFIG GET map.
  await client.rPush('node:l', ['a', 'b', 'c']);
  assert.deepEqual(await client.lRange('node:l', 0, -1), ['a', 'b', 'c']);
  assert.equal(await client.lPop('node:nolist'), null);
  const results = await client.multi().set('node:t', '1').get('node:t').exec();
  assert.deepEqual(results, ['OK', '1']);
  const config = await client.configGet('maxmemory');
  assert.equal(config.maxmemory, '0');

  // Verbatim text (INFO).
  const text = await client.info('server');
  assert.match(text, /redis_version:/);

  // Pub/sub: in RESP3 the subscriber is an ordinary connection that may run other commands.
  const sub = client.duplicate();
  sub.on('error', (e) => console.error('subscriber error:', e));
  await sub.connect();
  const got = [];
  let resolve;
  const two = new Promise((r) => (resolve = r));
  await sub.subscribe('node:chan', (message, channel) => {
    got.push(`${channel}:${message}`);
    if (got.length === 2) resolve();
  });
  await sub.pSubscribe('node:c*', (message, channel) => {
    got.push(`p ${channel}:${message}`);
    if (got.length === 2) resolve();
  });
  assert.equal(await sub.get('node:s'), 'v');
  assert.equal(await client.publish('node:chan', 'hello'), 2);
  await two;
  assert.deepEqual(got.sort(), ['node:chan:hello', 'p node:chan:hello']);
  await sub.unsubscribe('node:chan');
  await sub.pUnsubscribe('node:c*');
  assert.equal(await sub.ping(), 'PONG');

  // Client-side caching: the second GET is served from node-redis's cache, and a write by
  // another client invalidates it.
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
  const cached = createClient({ url, RESP: 3, clientSideCache: cache });
  cached.on('error', (e) => console.error('cached client error:', e));
  await cached.connect();
  await client.set('node:c', 'one');
  assert.equal(await cached.get('node:c'), 'one');
  assert.equal(await cached.get('node:c'), 'one');
  assert.ok(cache.stats().hitCount >= 1, `no cache hit: ${JSON.stringify(cache.stats())}`);
  assert.match(String(await cached.sendCommand(['CLIENT', 'INFO'])), / flags=t /);
  await client.set('node:c', 'two');
  let seen = 'one';
  for (let i = 0; i < 200 && seen !== 'two'; i++) {
    seen = await cached.get('node:c');
    if (seen !== 'two') await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(seen, 'two', 'the cached value was never invalidated');
  await cached.quit();

  await client.del([...keys, 'node:c']);
  await sub.quit();
  await client.quit();
}

main().then(
  () => {
    console.log('node-redis basic: all checks passed');
    process.exit(0);
  },
  (e) => {
    console.error('node-redis basic: FAILED:', e);
    process.exit(1);
  },
);
