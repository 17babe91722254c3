/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sysexits.h>

#include "sysexit.h"

int nvmeof_sysexit(int err, uint16_t status, bool connecting)
{
	if (status)
		return EX_PROTOCOL;
	switch (err) {
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN:
	case ENETDOWN: case EADDRNOTAVAIL: case EADDRINUSE:
		return EX_UNAVAILABLE;
	case ETIMEDOUT:
		return connecting ? EX_UNAVAILABLE : EX_IOERR;
	case EPROTO: case EBADMSG: case EPROTONOSUPPORT: case ENOTSUP:
		return EX_PROTOCOL;
	/* Without an NVMe status: the host has no identity (nqn.c). */
	case ENOENT:
		return connecting ? EX_CONFIG : EX_IOERR;
	case EACCES: case EBUSY: case EINVAL:
		return connecting ? EX_PROTOCOL : EX_IOERR;
	case ENOMEM: case EAGAIN: case EMFILE: case ENFILE:
		return EX_OSERR;
	case EKEYREJECTED: /* TLS: the target knows no such PSK */
	case ENOKEY:       /* TLS: the port requires it, no key given */
		return EX_CONFIG;
	default:
		return EX_IOERR;
	}
}
