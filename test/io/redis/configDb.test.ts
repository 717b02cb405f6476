import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { textToBytes } from '../../../src/io/redis/byteText.js';
import { readConfigPorts, readWarmRestartConfig } from '../../../src/io/redis/configDb.js';

const client = new Redis({ path: inject('redisSocket'), db: 41 });
afterAll(() => client.disconnect());

describe('CONFIG_DB reads', () => {
  it('reads PORT|* in natural port order, skipping other tables and keys of other types', async () => {
    await client.flushdb();
    await client.hset('PORT|Ethernet8', { lanes: '9' });
    await client.hset('PORT|Ethernet0', { lanes: '1', speed: '100000' });
    await client.hset('PORT|Ethernet12', { lanes: '13' });
    await client.hset('PORTCHANNEL|PortChannel1', { mtu: '9100' });
    await client.set('PORT|Ethernet99', 'not a hash');
    const ports = await readConfigPorts(client, '|');
    expect([...ports.keys()]).toEqual(['Ethernet0', 'Ethernet8', 'Ethernet12']);
    expect(ports.get('Ethernet0')).toEqual({ lanes: '1', speed: '100000' });
  });

  it('reads keys, field names and values as bytes: nothing becomes U+FFFD', async () => {
    await client.flushdb();
    const description = Buffer.concat([Buffer.of(0xff, 0xfe, 0x80), Buffer.from('Port é€😀'), Buffer.of(0x00)]);
    await client.hset('PORT|Ethernet0', 'description', description, Buffer.of(0x80, 0x61), Buffer.of(0xfe));
    await client.hset(Buffer.from([...Buffer.from('PORT|Eth'), 0xff]), 'lanes', '3');
    const ports = await readConfigPorts(client, '|');
    expect(Object.fromEntries(ports)).toEqual({
      Ethernet0: { description: '\udcff\udcfe\udc80Port é€😀\u0000', '\udc80a': '\udcfe' },
      'Eth\udcff': { lanes: '3' },
    });
    expect(textToBytes(ports.get('Ethernet0')!.description!).equals(description)).toBe(true);
  });

  it('reads WARM_RESTART|swss, empty when absent', async () => {
    await client.flushdb();
    expect(await readWarmRestartConfig(client, '|')).toEqual({});
    await client.hset('WARM_RESTART|swss', { portsyncd_timer: '30' });
    expect(await readWarmRestartConfig(client, '|')).toEqual({ portsyncd_timer: '30' });
  });
});
