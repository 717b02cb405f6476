// Records real kernel netlink datagrams into test/fixtures/netlink/*.json (hex), for the decoder's unit tests.
// Needs root and the built addon. Run: npx tsx scripts/record-netlink-fixtures.ts
// Scenarios, each in a fresh step of one namespace: a dump of Ethernet0/Ethernet4 (veth) + Ethernet8 enslaved to a
// bridge; creating a veth pair; admin up of both ends (carrier → RUNNING); MTU change; admin down; deleting a link.
import { writeFileSync, mkdirSync } from 'node:fs';
import { release } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNetlinkSocket } from '../src/io/netlink/socket.js';
import { canUseNetns, createNetns } from '../test/support/netns.js';

const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/netlink');
const DUMP_SEQ = 4242;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const ok = canUseNetns();
  if (ok !== true) throw new Error(`cannot record: ${ok}`);
  mkdirSync(outDir, { recursive: true });
  const ns = createNetns('svrec');
  let batch: Buffer[] = [];
  const sock = openNetlinkSocket({
    netns: ns.path,
    onMessages: (d) => batch.push(...d),
    onOverflow: (s) => console.error(`overflow (${s}) while recording`),
  });
  const take = async (): Promise<Buffer[]> => {
    await sleep(300);
    const got = batch;
    batch = [];
    return got;
  };
  const save = (name: string, description: string, datagrams: Buffer[], extra: Record<string, unknown> = {}): void => {
    const file = path.join(outDir, `${name}.json`);
    const body = { description, kernel: release(), ...extra, datagrams: datagrams.map((d) => d.toString('hex')) };
    writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
    console.log(`${file}: ${datagrams.length} datagrams`);
  };
  try {
    ns.addVethPair('Ethernet0', 'Ethernet4');
    ns.ip(['link', 'add', 'Bridge1', 'type', 'bridge']);
    ns.addVethPair('Ethernet8', 'Peer8');
    ns.ip(['link', 'set', 'dev', 'Ethernet8', 'master', 'Bridge1']);
    await take();

    sock.dump(DUMP_SEQ);
    save(
      'dump',
      'RTM_GETLINK dump: lo, Ethernet0/Ethernet4 (veth pair, down), Bridge1, Ethernet8 (veth, master Bridge1), Peer8',
      await take(),
      { seq: DUMP_SEQ, portId: sock.portId },
    );

    ns.addVethPair('Ethernet12', 'Ethernet16');
    save('create', 'ip link add Ethernet12 type veth peer name Ethernet16', await take());

    ns.set('Ethernet12', 'up');
    ns.set('Ethernet16', 'up');
    save('up', 'ip link set Ethernet12 up; ip link set Ethernet16 up (carrier comes up: RUNNING)', await take());

    ns.mtu('Ethernet12', 9100);
    save('mtu', 'ip link set Ethernet12 mtu 9100', await take());

    ns.set('Ethernet16', 'down');
    save('down', 'ip link set Ethernet16 down (peer Ethernet12 loses carrier)', await take());

    ns.del('Ethernet12');
    save('delete', 'ip link del Ethernet12 (its peer Ethernet16 goes too)', await take());
  } finally {
    sock.close();
    ns.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
