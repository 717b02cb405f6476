import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileIfExists, writeFileAtomic } from '../../../src/io/events/persist.js';
import { endpointPolicy } from '../../../src/io/events/endpoint.js';
import { encodeCloudEvent, rfc3339Nano } from '../../../src/io/events/cloudEvent.js';
import { goJson, nameUuid } from '../../../src/io/events/ids.js';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'syncvisor-evpersist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('events persistence', () => {
  it('writes atomically, replaces a leftover tmp file, never follows a planted symlink', async () => {
    const path = join(dir, 'subscriptions.json');
    await writeFileAtomic(path, 'one');
    expect(readFileSync(path, 'utf8')).toBe('one');
    writeFileSync(`${path}.tmp`, 'leftover');
    await writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, `${path}.tmp`);
    await writeFileAtomic(path, 'three');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(path, 'utf8')).toBe('three');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });

  it('reads refuse a symlink and an oversized file; a missing file is undefined', async () => {
    expect(await readFileIfExists(join(dir, 'none'), 100)).toBeUndefined();
    const link = join(dir, 'link.json');
    symlinkSync(join(dir, 'victim'), link);
    await expect(readFileIfExists(link, 100)).rejects.toThrow(/not a regular file/);
    writeFileSync(join(dir, 'big'), 'x'.repeat(200));
    await expect(readFileIfExists(join(dir, 'big'), 100)).rejects.toThrow(/larger/);
  });
});

describe('endpoint policy', () => {
  it('http(s) only; an allow-list of names and CIDRs', () => {
    const open = endpointPolicy([]);
    expect(open.check('http://10.1.2.3:9000/e')).toBeUndefined();
    expect(open.check('ftp://x/e')).toMatch(/http/);
    expect(open.check('not a url')).toMatch(/valid URL/);
    expect(open.check('http://u:p@h/e')).toMatch(/credentials/);
    expect(open.check(`http://h/${'x'.repeat(3000)}`)).toMatch(/longer/);
    const p = endpointPolicy(['consumer.ns.svc', '10.128.0.0/14', '::1']);
    expect(p.check('http://consumer.ns.svc:9090/e')).toBeUndefined();
    expect(p.check('http://10.129.4.5/e')).toBeUndefined();
    expect(p.check('http://[::1]:80/e')).toBeUndefined();
    expect(p.check('http://169.254.169.254/latest')).toMatch(/allowHosts/);
    expect(p.check('http://other.svc/e')).toMatch(/allowHosts/);
    expect(() => endpointPolicy(['10.0.0.0/40'])).toThrow(/prefix/);
  });

  it('events.* configuration: defaults, and a bad allow-list entry is a configuration error', () => {
    const c = loadConfig({ flags: {} });
    expect(c.events).toMatchObject({
      listen: '127.0.0.1:9043',
      removeAfterFailures: 10,
      timeoutMs: 2000,
      allowHosts: [],
    });
    expect(loadConfig({ flags: { 'events.allowHosts': 'consumer.ns.svc,10.128.0.0/14' } }).events.allowHosts).toEqual([
      'consumer.ns.svc',
      '10.128.0.0/14',
    ]);
    expect(() => loadConfig({ flags: { 'events.allowHosts': '10.0.0.0/40' } })).toThrow(ConfigError);
  });
});

describe('envelope and ids', () => {
  it('key order, string values, Go escaping, name-based client ids', () => {
    const body = encodeCloudEvent({
      id: 'i',
      source: '/sync/ptp-status/lock-state',
      type: 't',
      time: 'T',
      values: [{ ResourceAddress: '/a', data_type: 'metric', value_type: 'decimal64.3', value: '-5' }],
    });
    expect(body).toBe(
      '{"specversion":"1.0","id":"i","source":"/sync/ptp-status/lock-state","type":"t","time":"T","data":{"version":"1.0","values":[{"ResourceAddress":"/a","data_type":"metric","value_type":"decimal64.3","value":"-5"}]}}',
    );
    expect(rfc3339Nano()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(goJson({ u: 'http://h/e?a=1&b=<2>' })).toBe('{"u":"http://h/e?a=1\\u0026b=\\u003c2\\u003e"}');
    // A version-3 UUID in the URL namespace (Go's uuid.NewMD5(uuid.NameSpaceURL, …), Python's uuid.uuid3).
    expect(nameUuid('http://127.0.0.1:29101/event')).toBe('e82ef2b8-32d3-394a-9733-94cbedd45d83');
    expect(nameUuid('a')).toBe(nameUuid('a'));
  });
});
