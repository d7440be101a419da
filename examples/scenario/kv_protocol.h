/*
 * The request protocol of the kv scenario (scenario.config): one slot per
 * client in the server's "requests" dataspace.  A client fills its slot,
 * counts `seq` up and rings the server's "doorbell"; the server answers
 * into `result`, sets `answered` to `seq` and submits the client's
 * "reply-SLOT" signal context.
 */
#ifndef _KV_PROTOCOL_H_
#define _KV_PROTOCOL_H_

enum Kv_op { KV_PUT = 1, KV_GET = 2, KV_ADD = 3, KV_BYE = 4 };

struct Kv_slot
{
	unsigned long seq;       /* the client's request number */
	unsigned long op;        /* Kv_op */
	unsigned long key;
	unsigned long value;
	unsigned long result;    /* the server's answer */
	unsigned long answered;  /* seq of the request the answer belongs to */
};

enum {
	KV_SLOTS       = 2,
	KV_KEYS        = 64,
	KV_TABLE_PAGES = 8,     /* pages of the "table" the server pages on demand */
	KV_PAGE        = 4096,
};

#endif
