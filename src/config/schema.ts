// The configuration schema: every key, its default and its validation. Dotted names (`ptp.socketPath`) are the
// keys of ARCHITECTURE.md; a file nests them (`{"ptp": {"socketPath": …}}`). docs/configuration.md is generated
// from this file (npm run docs:config), so each key carries a description.
import { z } from 'zod';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9101');

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
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        listen: hostPort
          .default('127.0.0.1:9101')
          .describe('Address of /metrics, /healthz, /readyz. Loopback unless you say otherwise.'),
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
          .default('^(Ethernet|PortChannel)\\d+$')
          .refine((s) => {
            try {
              new RegExp(s);
              return true;
            } catch {
              return false;
            }
          }, 'not a valid regular expression')
          .describe('Interfaces whose names match are synced.'),
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
          .describe(
            'EOIU timeout guard; 0 completes the initial sync at once. CONFIG_DB WARM_RESTART|swss portsyncd_timer wins when set.',
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
          .describe('Warm start also requires STATE_DB WARM_RESTART_ENABLE_TABLE|swss or |system enable=true.'),
      })
      .strict()
      .prefault({}),
    ptp: z
      .object({
        socketPath: z.string().default('/cloud-native/events.sock').describe('Unix socket the PTP daemon writes to.'),
        configDir: z.string().default('/var/run').describe('Directory of the daemon-written ptp4l.N.config etc.'),
        profilePath: z
          .string()
          .default('/etc/linuxptp')
          .describe('Directory of the ConfigMap; the file read is <profilePath>/<nodeName>.'),
        nodeName: z.string().default('').describe('Node name: the `node` metric label and the ConfigMap file name.'),
        maxLineBytes: z.number().int().min(64).default(65_536).describe('Longer lines are discarded and counted.'),
        maxConnections: z.number().int().min(1).default(256).describe('Further connections are refused and counted.'),
        queueMax: z
          .number()
          .int()
          .min(1)
          .default(10_000)
          .describe('Lines held while the sidecar loads; overflow drops the oldest, counted.'),
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
        emitLogsUrl: z
          .string()
          .default('')
          .describe('Optional URL fetched (GET) after each load so the daemon replays its state.'),
        emitLogsTimeoutMs: z.number().int().min(1).default(2_000).describe('Timeout of that GET.'),
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
