// ifi_flags bits portsync reads (linux/if.h). The decoder passes the flags through as received.

/** IFF_UP: administratively up. */
export const IFF_UP = 0x1;
/** IFF_RUNNING: operationally up (carrier). */
export const IFF_RUNNING = 0x40;
