/*
 * P3 references in C with hiredis (Debian libhiredis-dev), compiled by bench/portsyncReplay.ts with cc.
 * Writes the same 4-field HSETs of PORT_TABLE|EthernetN in STATE_DB as the replay, `rounds` times over `ports` ports
 * (the last round's values: up if rounds is odd), over one Unix-socket connection:
 *   pipelined: redisAppendCommand in batches of `batch`, then the batch's replies read (what our writer does);
 *   sync:      one redisCommand per event, one round trip each (portsyncd's style of one write per link event).
 * Usage: hiredisPeer SOCKET DB pipelined|sync PORTS ROUNDS BATCH. Prints events/s. Exits 1 on any error reply.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int check(redisReply *r) {
  if (r == NULL || r->type == REDIS_REPLY_ERROR) {
    fprintf(stderr, "hiredisPeer: %s\n", r ? r->str : "connection error");
    return 0;
  }
  freeReplyObject(r);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: hiredisPeer SOCKET DB pipelined|sync PORTS ROUNDS BATCH\n");
    return 2;
  }
  const char *sock = argv[1];
  int db = atoi(argv[2]);
  int pipelined = strcmp(argv[3], "pipelined") == 0;
  long ports = atol(argv[4]), rounds = atol(argv[5]), batch = atol(argv[6]);
  redisContext *c = redisConnectUnix(sock);
  if (c == NULL || c->err) {
    fprintf(stderr, "hiredisPeer: cannot connect to %s\n", sock);
    return 1;
  }
  if (!check(redisCommand(c, "SELECT %d", db))) return 1;
  long events = ports * rounds;
  char key[64];
  double t = now_ms();
  long pending = 0;
  for (long i = 0; i < events; i++) {
    long p = i % ports, r = i / ports;
    const char *oper = r % 2 == 0 ? "up" : "down";
    snprintf(key, sizeof key, "PORT_TABLE|Ethernet%ld", p * 4);
    if (pipelined) {
      redisAppendCommand(c, "HSET %s admin_status %s mtu %s netdev_oper_status %s state %s", key, "up", "9100", oper,
                         "ok");
      if (++pending == batch || i == events - 1) {
        for (; pending > 0; pending--) {
          void *reply;
          if (redisGetReply(c, &reply) != REDIS_OK || !check(reply)) return 1;
        }
      }
    } else if (!check(redisCommand(c, "HSET %s admin_status %s mtu %s netdev_oper_status %s state %s", key, "up",
                                   "9100", oper, "ok"))) {
      return 1;
    }
  }
  double ms = now_ms() - t;
  printf("%.1f\n", events / ms * 1000.0);
  redisFree(c);
  return 0;
}
