// The configuration schema: every key, its default and its validation. Dotted names (`ptp.socketPath`) are the
// keys of docs/configuration.md; a file nests them (`{"ptp": {"socketPath": …}}`). docs/configuration.md is generated
// from this file (npm run docs:config), so each key carries a description.
import { isIP } from 'node:net';
import { z } from 'zod';

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9101')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65_535, 'port must be 0…65535');

/**
 * A Unix socket path: sun_path holds 107 bytes, and the server binds `<path>.new` before renaming it into place, so
 * the path itself may have 103. Longer ones are cut by the kernel, which no retry can fix: a configuration error.
 */
const socketPath = z
  .string()
  .min(1)
  .refine((v) => Buffer.byteLength(v) <= 103, 'a Unix socket path may have at most 103 bytes');

/** '' (disabled) or an http(s) URL, for the linuxptp-daemon calls. */
const daemonUrl = z.string().refine((v) => {
  if (v === '') return true;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, "expected '' or an http(s) URL");

/** An events.allowHosts entry: a host name, an IP address, or IP/prefix. */
function hostEntryValid(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0)
    return (
      isIP(s) !== 0 || /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(s)
    );
  const family = isIP(s.slice(0, slash));
  const prefix = s.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32);
}

export const serviceNames = ['portsync', 'ptp'] as const;
export type ServiceName = (typeof serviceNames)[number];

const backoff = z
  .object({
    initialMs: z.number().int().min(1).default(200).describe('First delay before a crashed child is restarted.'),
    maxMs: z.number().int().min(1).default(30_000).describe('Upper bound of the restart delay.'),
    factor: z.number().min(1).default(2).describe('Each consecutive restart multiplies the delay by this.'),
  })
  .strict();

export const configSchema = z
  .object({
    services: z
      .array(z.enum(serviceNames))
      .min(1, 'at least one service')
      .default(['portsync', 'ptp'])
      .describe('Services to run (comma-separated in the environment and on the command line).'),
    log: z
      .object({
        level: z
          .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
          .default('info')
          .describe('pino log level.'),
        format: z
          .enum(['auto', 'json', 'pretty'])
          .default('auto')
          .describe(
            'json: one JSON object a line with string level names (journald, collectors). pretty: one readable line a record. auto: pretty when stderr is a terminal, else json.',
          ),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        listen: hostPort
          .default('127.0.0.1:9101')
          .describe('Address of /metrics, /healthz, /readyz. Loopback unless you say otherwise.'),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .default(64)
          .describe('Further connections are answered 503 and closed, counted.'),
        idleTimeoutMs: z
          .number()
          .int()
          .min(100)
          .default(30_000)
          .describe('A connection without a request (or a request not complete) this long is closed.'),
        maxRequestsInFlight: z
          .number()
          .int()
          .min(1)
          .default(16)
          .describe('Pipelined requests one connection may have unanswered; beyond it the connection is closed.'),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        url: z
          .string()
          .default('')
          .describe(
            'redis:// URL or Unix socket path. Empty: start a private redis-server on a Unix socket (embedded mode).',
          ),
        runtimeDir: z
          .string()
          .default('/run/syncvisor')
          .describe('Directory of the embedded redis-server socket (created when missing).'),
        reconnectMaxMs: z
          .number()
          .int()
          .min(50)
          .default(500)
          .describe('Upper bound of the reconnect backoff (from 50 ms, doubling): how soon a returning Redis is seen.'),
        databaseConfig: z
          .string()
          .default('')
          .describe('Optional SONiC database_config.json; its APPL_DB, CONFIG_DB, STATE_DB ids replace 0, 4, 6.'),
      })
      .strict()
      .prefault({}),
    supervisor: z
      .object({
        maxRestarts: z.number().int().min(0).default(5).describe('Restarts of one child allowed within periodMs.'),
        periodMs: z.number().int().min(1).default(60_000).describe('Window of the restart intensity.'),
        shutdownTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(5_000)
          .describe('How long children may drain on SIGTERM/SIGINT before they are stopped.'),
        backoff: backoff.prefault({}),
      })
      .strict()
      .prefault({}),
    portsync: z
      .object({
        portPattern: z
          .string()
          .default('^(Ethernet|PortChannel)')
          .refine((s) => {
            try {
              new RegExp(s);
              return true;
            } catch {
              return false;
            }
          }, 'not a valid regular expression')
          .describe(
            "Interfaces whose names match are synced. SONiC's rule is the prefix Ethernet or PortChannel (chassis names such as Ethernet-BP0 are ports).",
          ),
      })
      .strict()
      .prefault({}),
    eoiu: z
      .object({
        mode: z
          .enum(['dump', 'marker'])
          .default('dump')
          .describe(
            'dump: our RTM_GETLINK dump is done and every expected port was seen. marker: the reference rule (ifi_change == 0), for synthetic sources.',
          ),
      })
      .strict()
      .prefault({}),
    warmRestart: z
      .object({
        timeoutSecs: z
          .number()
          .int()
          .min(0)
          .max(9999)
          .default(10)
          .describe('EOIU timeout guard of a warm start; 0 completes the initial sync at once.'),
        authority: z
          .enum(['sonic', 'stateFile'])
          .default('sonic')
          .describe(
            "Who decides warm or cold. sonic: SONiC's rule, warm iff STATE_DB WARM_RESTART_ENABLE_TABLE|system or |swss has enable=true and WARM_RESTART_TABLE|portsyncd has a restore_count. stateFile: hosts without SONiC's tables, a valid state file means warm.",
          ),
      })
      .strict()
      .prefault({}),
    stateFile: z
      .object({
        path: z
          .string()
          .default('/var/lib/syncvisor/portsyncd.json')
          .describe('Warm-restart state file; `.backup` and `.tmp` sit beside it.'),
        maxAgeDays: z
          .number()
          .min(0)
          .default(7)
          .describe('A state file older than this is deleted at start (cold start).'),
        debounceMs: z.number().int().min(0).default(200).describe('Changes are saved at most this often.'),
      })
      .strict()
      .prefault({}),
    sonic: z
      .object({
        checkEnableTable: z
          .boolean()
          .default(false)
          .describe(
            'warmRestart.authority stateFile only: a warm start also requires STATE_DB WARM_RESTART_ENABLE_TABLE|swss or |system enable=true.',
          ),
        linkRules: z
          .enum(['auto', 'on', 'off'])
          .default('auto')
          .describe(
            "portsyncd's link rules: STATE_DB PORT_TABLE|<port> is written (and the port counts toward PortInitDone) only once orchagent has consumed APPL_DB PORT_TABLE:<port>, and a cold start sets the Ethernet* netdevs that exist already admin down and ignores them for the life of the process (not with DEVICE_METADATA|localhost switch_type=dpu). auto: on iff CONFIG_DB has DEVICE_METADATA|localhost (every SONiC device has it); off: hosts without orchagent.",
          ),
      })
      .strict()
      .prefault({}),
    ptp: z
      .object({
        socketPath: socketPath.default('/cloud-native/events.sock').describe('Unix socket the PTP daemon writes to.'),
        configDir: z.string().default('/var/run').describe('Directory of the daemon-written ptp4l.N.config etc.'),
        profilePath: z
          .string()
          .default('/etc/linuxptp')
          .describe('Directory of the ConfigMap; the file read is <profilePath>/<nodeName>.'),
        nodeName: z.string().default('').describe('Node name: the `node` metric label and the ConfigMap file name.'),
        maxLineBytes: z.number().int().min(64).default(65_536).describe('Longer lines are discarded and counted.'),
        maxConnections: z
          .number()
          .int()
          .min(1)
          .default(256)
          .describe(
            'At the limit a new connection replaces the one idle longest (idle >= 1 s), else it gets `ERR` and is closed.',
          ),
        idleTimeoutMs: z
          .number()
          .int()
          .min(0)
          .default(600_000)
          .describe('A connection that sends nothing this long is closed and counted; 0 = never.'),
        queueMaxBytes: z
          .number()
          .int()
          .min(65_536)
          .default(16 * 1024 * 1024)
          .describe(
            'Bytes of lines held while the sidecar loads; when full, the sockets are not read (backpressure) and lines already read are dropped, counted.',
          ),
        restart: z
          .object({
            mode: z
              .enum(['inProcess', 'process'])
              .default('inProcess')
              .describe(
                'inProcess: restart the actor tree, keep the socket. process: exit with code 75 for an external supervisor.',
              ),
          })
          .strict()
          .prefault({}),
        emitLogsUrl: daemonUrl
          .default('http://localhost:8081/emit-logs')
          .describe(
            "linuxptp-daemon's emit-logs URL, fetched (GET) after each load and on every accepted connection so the daemon replays its state; '' disables.",
          ),
        emitLogsTimeoutMs: z.number().int().min(1).default(2_000).describe('Timeout of one emit-logs attempt.'),
        emitLogsCoalesceMs: z
          .number()
          .int()
          .min(0)
          .default(1_000)
          .describe('A connection accepted this long after an emit-logs call (or during one) is covered by it.'),
        portAliasesUrl: daemonUrl
          .default('http://localhost:8081/port-aliases')
          .describe(
            "linuxptp-daemon's interface alias map (JSON), fetched at each load and cached; offset and clock-state labels use the alias. '' disables.",
          ),
        portAliasesTimeoutMs: z.number().int().min(1).default(2_000).describe('Timeout of one port-aliases attempt.'),
        daemonRetries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(2)
          .describe('Retries after a failed emit-logs or port-aliases attempt.'),
        daemonRetryDelayMs: z.number().int().min(0).max(60_000).default(200).describe('Delay before each retry.'),
      })
      .strict()
      .prefault({}),
    events: z
      .object({
        listen: hostPort
          .default('127.0.0.1:9043')
          .describe(
            'Address of the O-RAN O-Cloud Notification API v2 (/api/ocloudNotifications/v2/); runs with the ptp service. Kubernetes sets the pod address.',
          ),
        uriBase: z
          .string()
          .default('')
          .describe('http://HOST:PORT written into UriLocation; empty: http://localhost:<listening port>.'),
        storePath: z
          .string()
          .default('/var/lib/syncvisor/events')
          .describe('Directory of subscriptions.json (subscriptions and the last overall sync-state).'),
        allowHosts: z
          .array(z.string().refine(hostEntryValid, 'expected a host name, an IP address or a CIDR block (10.0.0.0/8)'))
          .default([])
          .describe(
            'EndpointUri hosts allowed (names, IPs, CIDRs, comma-separated). Empty: any host (the API then POSTs wherever a subscriber says).',
          ),
        maxSubscriptions: z.number().int().min(1).default(10_000).describe('Further subscriptions are refused (400).'),
        maxConsumers: z
          .number()
          .int()
          .min(1)
          .default(1_000)
          .describe('Distinct EndpointUri values held; further ones are refused (400).'),
        maxBodyBytes: z.number().int().min(256).default(65_536).describe('Larger request bodies get 413.'),
        maxConnections: z.number().int().min(1).default(512).describe('Open connections to the API at most.'),
        queueMax: z
          .number()
          .int()
          .min(1)
          .default(1_000)
          .describe('Notifications queued per consumer; overflow drops the oldest, counted.'),
        timeoutMs: z.number().int().min(1).default(2_000).describe('Timeout of one POST to a consumer (CEP: 2 s).'),
        removeAfterFailures: z
          .number()
          .int()
          .min(1)
          .default(10)
          .describe("Consecutive connection failures that delete a consumer's subscriptions (CEP: 10)."),
        backoff: z
          .object({
            initialMs: z
              .number()
              .int()
              .min(0)
              .default(100)
              .describe('Pause before the next POST to a consumer after a connection failure.'),
            maxMs: z.number().int().min(0).default(5_000).describe('Upper bound of that pause (doubling).'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    inspect: z
      .object({
        enabled: z.boolean().default(false).describe('Serve the local inspector page (127.0.0.1 only).'),
        port: z.number().int().min(0).max(65535).default(9102).describe('Port of the local inspector.'),
        history: z
          .number()
          .int()
          .min(100)
          .max(1_000_000)
          .default(10_000)
          .describe('Records the local inspector keeps for time travel (events and state changes; oldest dropped).'),
        rawLines: z
          .boolean()
          .default(false)
          .describe('Show raw PTP input lines in the inspector (event payloads and contexts); withheld by default.'),
        stately: z.boolean().default(false).describe('Also attach @statelyai/inspect (Stately inspector).'),
        statelyPort: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(8080)
          .describe('Port of the Stately inspector relay (127.0.0.1 only; 0 picks a free one).'),
      })
      .strict()
      .prefault({}),
    // Where the daemon writes: the standard system paths (root under systemd, the container image) or per-user ones.
    paths: z
      .object({
        mode: z
          .enum(['auto', 'system', 'user'])
          .default('auto')
          .describe(
            'system: the defaults below as written (/run/syncvisor, /var/lib/syncvisor, /cloud-native). user: runtime files under $XDG_RUNTIME_DIR/syncvisor (else /tmp/syncvisor-UID), the state file under $XDG_STATE_HOME/syncvisor (else ~/.local/state/syncvisor). auto: system as root, user otherwise. Keys set explicitly always win.',
          ),
      })
      .strict()
      .prefault({}),
    trace: z
      .object({
        path: z.string().default('').describe('Write a JSONL trace of every event entering the actor system.'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
