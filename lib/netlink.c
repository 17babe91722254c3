/* SPDX-License-Identifier: MIT */
/*
 * Host interfaces through rtnetlink (rtnetlink(7)) with libnl-route-3: the
 * source address of an interface for host_iface, and a watcher of one
 * interface's link and addresses for reconnects.
 *
 * Queries go through libnl (link by name, address dump).  The watcher's
 * event socket is set up by libnl but read here with recvfrom(): messages
 * are only looked at for the interface index or name, and reading the
 * descriptor directly keeps EAGAIN and ENOBUFS (lost events) in our hands.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "internal.h"
#include "netlink.h"

#define WATCH_BUF 32768       /* one datagram; larger ones are "events lost" */
#define WATCH_MAX_READS 256   /* per call, so a flood cannot hold the caller */

/* libnl's NLE_* codes, as errno. */
static int nlerr_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return ENODEV;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_INVAL:
		return EINVAL;
	default:
		return EIO;
	}
}

static int check_ifname(const char *ifname)
{
	if (!ifname || !*ifname)
		return set_error(EINVAL, "no interface name");
	if (strlen(ifname) >= IFNAMSIZ)
		return set_error(EINVAL,
				 "interface name '%s' is longer than %d characters",
				 ifname, IFNAMSIZ - 1);
	return 0;
}

static int rt_open(struct nl_sock **skp, const char *ifname)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk)
		return set_error(ENOMEM, "interface '%s': no memory for a netlink socket",
				 ifname);
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return set_error(nlerr_errno(r),
				 "interface '%s': cannot open a route netlink socket: %s",
				 ifname, nl_geterror(r));
	}
	*skp = sk;
	return 0;
}

/* ifindex and flags of the interface called ifname.  1 if there is none. */
static int link_get(struct nl_sock *sk, const char *ifname, int *ifindex,
		    unsigned *flags)
{
	struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(sk, 0, ifname, &link);

	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
		return 1;
	if (r < 0)
		return set_error(nlerr_errno(r), "interface '%s': link query failed: %s",
				 ifname, nl_geterror(r));
	*ifindex = rtnl_link_get_ifindex(link);
	if (flags)
		*flags = rtnl_link_get_flags(link);
	rtnl_link_put(link);
	return 0;
}

/* Lower is better; -1: unusable. */
static int addr_rank(struct rtnl_addr *a)
{
	unsigned f = rtnl_addr_get_flags(a);
	int rank = 0;

	if (f & IFA_F_DADFAILED)
		return -1;
	if (f & IFA_F_TENTATIVE)
		rank += 4; /* RFC 4862 §5.4: not usable until DAD completes */
	if (f & IFA_F_DEPRECATED)
		rank += 2; /* RFC 4862 §5.5.4: avoid for new connections */
	if (rtnl_addr_get_scope(a) == RT_SCOPE_LINK)
		rank += 1;
	return rank;
}

static bool addr_to_sockaddr(struct rtnl_addr *a, int ifindex,
			     struct sockaddr_storage *out, socklen_t *outlen)
{
	struct nl_addr *l = rtnl_addr_get_local(a);
	int fam = rtnl_addr_get_family(a);

	if (!l)
		return false;
	memset(out, 0, sizeof *out);
	if (fam == AF_INET && nl_addr_get_len(l) == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, nl_addr_get_binary_addr(l), 4);
		*outlen = sizeof *sin;
		return true;
	}
	if (fam == AF_INET6 && nl_addr_get_len(l) == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, nl_addr_get_binary_addr(l), 16);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			sin6->sin6_scope_id = (uint32_t)ifindex;
		*outlen = sizeof *sin6;
		return true;
	}
	return false;
}

/* The best address of family (AF_UNSPEC: IPv4, else IPv6) on ifindex.
 * 0 found, 1 none, < 0 error (message set). */
static int addr_find(struct nl_sock *sk, const char *ifname, int ifindex,
		     int family, struct sockaddr_storage *out, socklen_t *outlen)
{
	struct rtnl_addr *best[2] = { NULL, NULL }; /* [0] IPv4, [1] IPv6 */
	int best_rank[2] = { 0, 0 };
	struct nl_cache *cache;
	struct nl_object *o;
	int r;

	/* A dump that raced with a change is flagged NLM_F_DUMP_INTR
	 * (netlink(7)); libnl reports it as NLE_DUMP_INTR: take it again. */
	for (int tries = 0; tries < 4; tries++) {
		r = rtnl_addr_alloc_cache(sk, &cache);
		if (r != -NLE_DUMP_INTR)
			break;
	}
	if (r < 0)
		return set_error(nlerr_errno(r),
				 "interface '%s': address query failed: %s",
				 ifname, nl_geterror(r));
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		int fam = rtnl_addr_get_family(a), i, rank;

		if (rtnl_addr_get_ifindex(a) != ifindex)
			continue;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		if (family != AF_UNSPEC && fam != family)
			continue;
		i = fam == AF_INET6;
		rank = addr_rank(a);
		if (rank >= 0 && (!best[i] || rank < best_rank[i])) {
			best[i] = a;
			best_rank[i] = rank;
		}
	}
	r = 1;
	for (int i = 0; i < 2 && r == 1; i++)
		if (best[i] && addr_to_sockaddr(best[i], ifindex, out, outlen))
			r = 0;
	nl_cache_free(cache);
	return r;
}

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6"
							       : "IPv4 or IPv6";
}

int nl_iface_source_addr(const char *ifname, int family,
			 struct sockaddr_storage *out, socklen_t *outlen)
{
	struct nl_sock *sk;
	int r, ifindex = 0;

	r = check_ifname(ifname);
	if (r < 0)
		return r;
	if (!out || !outlen)
		return set_error(EINVAL, "interface '%s': no buffer for the address",
				 ifname);
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return set_error(EINVAL,
				 "interface '%s': address family %d is not IPv4 or IPv6",
				 ifname, family);
	r = rt_open(&sk, ifname);
	if (r < 0)
		return r;
	r = link_get(sk, ifname, &ifindex, NULL);
	if (r == 1)
		r = set_error(ENODEV, "interface '%s' does not exist", ifname);
	if (r == 0) {
		r = addr_find(sk, ifname, ifindex, family, out, outlen);
		if (r == 1)
			r = set_error(EADDRNOTAVAIL, "interface '%s' has no %s address",
				      ifname, family_name(family));
	}
	nl_socket_free(sk);
	return r;
}

/* ---- watcher ------------------------------------------------------------- */

struct nl_watch {
	struct nl_sock *ev;   /* subscribed, non-blocking, read with recvfrom */
	struct nl_sock *q;    /* queries */
	void (*cb)(void *arg, bool up);
	void *arg;
	int ifindex;          /* 0 while the interface does not exist */
	bool up;
	char ifname[IFNAMSIZ];
	/* Aligned for struct nlmsghdr (netlink(7): NLMSG_ALIGNTO). */
	unsigned char buf[WATCH_BUF] __attribute__((aligned(8)));
};

/* Look at the interface again. */
static int watch_state(struct nl_watch *w, bool *up)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned flags = 0;
	int ifindex = 0, r;

	r = link_get(w->q, w->ifname, &ifindex, &flags);
	if (r < 0)
		return r;
	if (r == 1) {
		w->ifindex = 0;
		*up = false;
		return 0;
	}
	w->ifindex = ifindex;
	if (!(flags & IFF_UP) || !(flags & IFF_RUNNING)) {
		*up = false;
		return 0;
	}
	r = addr_find(w->q, w->ifname, ifindex, AF_UNSPEC, &ss, &len);
	if (r < 0)
		return r;
	*up = r == 0;
	return 0;
}

struct nl_watch *nl_watch_open(const char *ifname,
			       void (*cb)(void *arg, bool up), void *arg)
{
	struct nl_watch *w;
	int r;

	r = check_ifname(ifname);
	if (r == 0 && !cb)
		r = set_error(EINVAL, "interface '%s': no callback to watch with", ifname);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	w = calloc(1, sizeof *w);
	if (!w) {
		errno = -set_error(ENOMEM, "interface '%s': no memory for a watcher",
				   ifname);
		return NULL;
	}
	strcpy(w->ifname, ifname); /* length checked above */
	w->cb = cb;
	w->arg = arg;

	r = rt_open(&w->ev, ifname);
	if (r < 0)
		goto fail;
	/* Subscribe before the first look, so no change falls in between. */
	r = nl_socket_add_memberships(w->ev, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
				      RTNLGRP_IPV6_IFADDR, 0);
	if (r == 0)
		r = nl_socket_set_nonblocking(w->ev);
	if (r < 0) {
		r = set_error(nlerr_errno(r),
			      "interface '%s': cannot subscribe to link events: %s",
			      ifname, nl_geterror(r));
		goto fail;
	}
	r = rt_open(&w->q, ifname);
	if (r < 0)
		goto fail;
	r = watch_state(w, &w->up);
	if (r == 0 && w->ifindex == 0)
		r = set_error(ENODEV, "interface '%s' does not exist", ifname);
	if (r < 0)
		goto fail;
	return w;
fail:
	nl_watch_close(w);
	errno = -r;
	return NULL;
}

int nl_watch_fd(struct nl_watch *w)
{
	return nl_socket_get_fd(w->ev);
}

bool nl_watch_up(struct nl_watch *w)
{
	return w->up;
}

/* IFLA_IFNAME of a link message equals ours? */
static bool link_msg_names(const struct nl_watch *w, struct nlmsghdr *nlh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	struct rtattr *rta = IFLA_RTA(ifi);
	int len = (int)IFLA_PAYLOAD(nlh);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_IFNAME)
			return strnlen(RTA_DATA(rta), RTA_PAYLOAD(rta)) ==
				       strlen(w->ifname) &&
			       memcmp(RTA_DATA(rta), w->ifname, strlen(w->ifname)) == 0;
	return false;
}

static bool msg_concerns(const struct nl_watch *w, struct nlmsghdr *nlh)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			return false;
		if (w->ifindex &&
		    ((struct ifinfomsg *)NLMSG_DATA(nlh))->ifi_index == w->ifindex)
			return true;
		return link_msg_names(w, nlh);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
			return false;
		return w->ifindex &&
		       (int)((struct ifaddrmsg *)NLMSG_DATA(nlh))->ifa_index == w->ifindex;
	default:
		return false;
	}
}

int nl_watch_process(struct nl_watch *w)
{
	int fd = nl_socket_get_fd(w->ev);
	bool look = false, up;
	int r;

	for (int i = 0; i < WATCH_MAX_READS; i++) {
		struct sockaddr_nl sa;
		socklen_t sl = sizeof sa;
		size_t off = 0;
		ssize_t n;

		n = recvfrom(fd, w->buf, sizeof w->buf, MSG_TRUNC | MSG_DONTWAIT,
			     (struct sockaddr *)&sa, &sl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* rtnetlink(7): the receive queue overflowed and
				 * events were dropped; the state must be re-read. */
				look = true;
				continue;
			}
			return set_error(errno, "interface '%s': reading link events: %s",
					 w->ifname, strerror(errno));
		}
		if ((size_t)n > sizeof w->buf) {
			look = true; /* truncated: what it said is lost */
			continue;
		}
		if (sl < sizeof sa || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
			continue; /* only the kernel speaks on these groups */
		/* netlink(7): messages follow each other at NLMSG_ALIGN. */
		while ((size_t)n - off >= sizeof(struct nlmsghdr)) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)(void *)(w->buf + off);

			if (nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > (size_t)n - off)
				break;
			if (msg_concerns(w, nlh))
				look = true;
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
	}
	if (!look)
		return 0;
	r = watch_state(w, &up);
	if (r < 0)
		return r;
	if (up == w->up)
		return 0;
	w->up = up;
	w->cb(w->arg, up);
	return 1;
}

void nl_watch_close(struct nl_watch *w)
{
	if (!w)
		return;
	if (w->ev)
		nl_socket_free(w->ev); /* closes the descriptor */
	if (w->q)
		nl_socket_free(w->q);
	free(w);
}
