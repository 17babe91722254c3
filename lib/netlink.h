/* SPDX-License-Identifier: MIT */
/* netlink.c: host interfaces through rtnetlink (libnl-route-3).  Internal to
 * libnvmeof, not installed.  Errors follow internal.h: a negative errno and
 * a message for nvmeof_get_error() that names the interface. */
#ifndef NVMEOF_NETLINK_H
#define NVMEOF_NETLINK_H

#include <stdbool.h>
#include <sys/socket.h>

/* The source address for connections leaving through ifname (host_iface):
 * an address of that family on the interface, AF_UNSPEC meaning IPv4 when it
 * has one, else IPv6.  Usable addresses come first (not tentative, not
 * deprecated, then global before link-local; a link-local IPv6 address gets
 * sin6_scope_id = the interface); among equals, the kernel's first.  Port 0.
 * -ENODEV: no such interface.  -EADDRNOTAVAIL: no address of that family.
 * -EINVAL: bad name or family. */
int nl_iface_source_addr(const char *ifname, int family,
			 struct sockaddr_storage *out, socklen_t *outlen);

/* Watches one interface, by name, for the reconnect logic.  The interface is
 * "up" when it exists, is administratively up and operational (IFF_UP and
 * IFF_RUNNING: carrier), and has at least one IPv4 or IPv6 address.
 *
 * The socket is non-blocking and subscribed to RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR
 * and RTNLGRP_IPV6_IFADDR.  When nl_watch_fd() is readable, call
 * nl_watch_process(): it drains the pending messages and, if any concerned
 * this interface, looks at the interface again and calls cb(arg, up) when
 * "up" differs from last time.  Events in one call are coalesced: a flap
 * that is over before the call reports nothing.  cb runs in the calling
 * thread and must not close the watcher.  A watcher is used by one thread. */
struct nl_watch;

/* The interface must exist at open (a misspelt name fails at once); it may
 * disappear and come back later.  NULL with errno set and the message in
 * nvmeof_get_error() on failure. */
struct nl_watch *nl_watch_open(const char *ifname,
			       void (*cb)(void *arg, bool up), void *arg);
/* The descriptor to poll for POLLIN. */
int nl_watch_fd(struct nl_watch *w);
/* Returns the number of callbacks made (0 or 1), or a negative errno. */
int nl_watch_process(struct nl_watch *w);
/* "up" as last seen (at open, or by the last nl_watch_process()). */
bool nl_watch_up(struct nl_watch *w);
/* NULL is allowed. */
void nl_watch_close(struct nl_watch *w);

#endif
