/* SPDX-License-Identifier: MIT */
/* Per-thread error state: a message, an errno and an NVMe status field
 * (the model is libnbd's nbd_get_error()). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "nvme_spec.h"

static __thread char err_msg[512];
static __thread int err_errno;
static __thread uint16_t err_status;

const char *nvmeof_get_error(void)
{
	return err_msg;
}

int nvmeof_get_errno(void)
{
	return err_errno;
}

uint16_t nvmeof_last_status(void)
{
	return err_status;
}

void clear_error(void)
{
	err_msg[0] = '\0';
	err_errno = 0;
	err_status = 0;
}

/* Callers may prefix the previous message: set_error(e, "CAP: %s",
 * nvmeof_get_error()).  Format into a copy so that source and destination
 * never overlap. */
static void set_msg(const char *fmt, va_list ap)
{
	char tmp[sizeof err_msg];

	vsnprintf(tmp, sizeof tmp, fmt, ap);
	memcpy(err_msg, tmp, sizeof err_msg);
}

int set_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_msg(fmt, ap);
	va_end(ap);
	err_errno = err;
	err_status = 0;
	return -err;
}

int status_errno(uint16_t sf)
{
	unsigned sct = NVME_SF_SCT(sf), sc = NVME_SF_SC(sf);

	if (sct == NVME_SCT_GENERIC) {
		switch (sc) {
		case NVME_SC_SUCCESS:
			return 0;
		case NVME_SC_INVALID_OPCODE:
		case NVME_SC_INVALID_FIELD:
			return EINVAL;
		case NVME_SC_INVALID_NS:
			return ENXIO;
		case NVME_SC_NS_WRITE_PROTECTED:
			return EROFS;
		case NVME_SC_LBA_RANGE:
			return ENOSPC;
		case NVME_SC_CAP_EXCEEDED:
			return ENOSPC;
		case NVME_SC_ABORT_REQ:
			return ECANCELED;
		default:
			return EIO;
		}
	}
	if (sct == NVME_SCT_CMD_SPECIFIC) {
		switch (sc) {
		case NVME_SC_INVALID_LOG_PAGE:
			return EINVAL;
		case NVME_SC_CONNECT_INVALID_HOST:
			return EACCES;
		case NVME_SC_CONNECT_INVALID_PARAM:
			return ENOENT; /* e.g. unknown subsystem NQN */
		case NVME_SC_CONNECT_CTRL_BUSY:
			return EBUSY;
		default:
			return EIO;
		}
	}
	return EIO;
}

void set_last_status(uint16_t status)
{
	err_status = status;
}

static int err_status_va(uint16_t status, enum nvmeof_cmd_set set,
			 const char *fmt, va_list ap)
{
	size_t n;

	set_msg(fmt, ap);
	n = strlen(err_msg);
	if (n < sizeof err_msg - 1)
		snprintf(err_msg + n, sizeof err_msg - n, ": %s",
			 status_str_cmdset(status, set));
	err_status = status;
	err_errno = status_errno(status);
	if (err_errno == 0)
		err_errno = EIO;
	return -err_errno;
}

int set_error_status(uint16_t status, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_status_va(status, CMDSET_ADMIN, fmt, ap);
	va_end(ap);
	return rc;
}

int set_error_status_cmdset(uint16_t status, enum nvmeof_cmd_set set,
			    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_status_va(status, set, fmt, ap);
	va_end(ap);
	return rc;
}

static const char *generic_sc_name(unsigned sc)
{
	switch (sc) {
	case 0x00: return "Successful Completion";
	case 0x01: return "Invalid Command Opcode";
	case 0x02: return "Invalid Field in Command";
	case 0x03: return "Command ID Conflict";
	case 0x04: return "Data Transfer Error";
	case 0x05: return "Commands Aborted due to Power Loss Notification";
	case 0x06: return "Internal Error";
	case 0x07: return "Command Abort Requested";
	case 0x08: return "Command Aborted due to SQ Deletion";
	case 0x0b: return "Invalid Namespace or Format";
	case 0x0c: return "Command Sequence Error";
	case 0x0d: return "Invalid SGL Segment Descriptor";
	case 0x0e: return "Invalid Number of SGL Descriptors";
	case 0x0f: return "Data SGL Length Invalid";
	case 0x11: return "SGL Descriptor Type Invalid";
	case 0x16: return "SGL Offset Invalid";
	case 0x20: return "Namespace is Write Protected";
	case 0x21: return "Command Interrupted";
	case 0x22: return "Transient Transport Error";
	case 0x80: return "LBA Out of Range";
	case 0x81: return "Capacity Exceeded";
	case 0x82: return "Namespace Not Ready";
	default: return NULL;
	}
}

static const char *cmd_specific_sc_name(unsigned sc, enum nvmeof_cmd_set set)
{
	if (sc >= 0x80 && set == CMDSET_NVM) {
		switch (sc) {
		case 0x80: return "Conflicting Attributes";
		case 0x81: return "Invalid Protection Information";
		case 0x82: return "Attempted Write to Read Only Range";
		/* Linux nvmet: the backing store cannot do it (e.g. Write
		 * Zeroes on tmpfs, which lacks FALLOC_FL_ZERO_RANGE). */
		case 0x83: return "Operation Not Supported by the namespace's backing store";
		default: return NULL;
		}
	}
	if (sc >= 0x80 && set == CMDSET_ADMIN && sc < 0x90)
		return NULL;
	switch (sc) {
	case 0x01: return "Invalid Queue Identifier";
	case 0x02: return "Invalid Queue Size";
	case 0x05: return "Asynchronous Event Request Limit Exceeded";
	case 0x09: return "Invalid Log Page";
	case 0x0d: return "Feature Identifier Not Saveable";
	case 0x0e: return "Feature Not Changeable";
	case 0x80: return "Connect Incompatible Format";
	case 0x81: return "Connect Controller Busy";
	case 0x82: return "Connect Invalid Parameters";
	case 0x83: return "Connect Restart Discovery";
	case 0x84: return "Connect Invalid Host";
	case 0x90: return "Discovery Restart";
	case 0x91: return "Authentication Required";
	default: return NULL;
	}
}

const char *nvmeof_status_str(uint16_t status)
{
	return status_str_cmdset(status, CMDSET_ADMIN);
}

const char *status_str_cmdset(uint16_t status, enum nvmeof_cmd_set set)
{
	static __thread char buf[160];
	unsigned sct = NVME_SF_SCT(status), sc = NVME_SF_SC(status);
	const char *name = NULL;

	if (sct == NVME_SCT_GENERIC)
		name = generic_sc_name(sc);
	else if (sct == NVME_SCT_CMD_SPECIFIC)
		name = cmd_specific_sc_name(sc, set);
	else if (sct == NVME_SCT_MEDIA)
		name = "Media and Data Integrity Error";
	else if (sct == NVME_SCT_PATH)
		name = "Path Related Status";
	snprintf(buf, sizeof buf, "%s (SCT %xh SC %02xh%s)",
		 name ? name : "Unknown status", sct, sc,
		 NVME_SF_DNR(status) ? ", DNR" : "");
	return buf;
}
