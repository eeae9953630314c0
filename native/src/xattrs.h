/*
 * Extended attributes (-X): an entry's attributes as one packed list, and a packed list applied to an
 * entry. The packed form is also XATTRS's payload (docs/PROTOCOL.md): per attribute name_len u8,
 * name, value_len u32 LE, value.
 */
#ifndef USYNC_XATTRS_H
#define USYNC_XATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Namespaces kept: "user." alone, or (root) everything but "system." (ACLs are -A's, not -X's). A
 * receiver as root making a kept file's attributes the sender's leaves "security." alone too
 * (RECEIVED): capabilities it never grants, labels its own policy gave the file.
 */
enum usync_xattr_scope { USYNC_XATTR_USER = 1, USYNC_XATTR_ALL = 2, USYNC_XATTR_RECEIVED = 3 };

/* The most a packed list may hold (XATTRS's payload limit). */
#define USYNC_XATTRS_MAX 65535u

/*
 * The attributes of fd in scope, packed into *out (malloc'd, *len bytes; NULL and 0 when there are
 * none or the file system has none). 0, -E2BIG when they would exceed USYNC_XATTRS_MAX, or -errno.
 */
int usync_xattrs_get(int fd, int scope, uint8_t **out, size_t *len);

/* Sets every attribute of a packed list on fd. 0, -EINVAL for a malformed list, or -errno. */
int usync_xattrs_set(int fd, const uint8_t *p, size_t len);

/* Copies fd's attributes in scope onto to. 0 or -errno. */
int usync_xattrs_copy(int from, int to, int scope);

/*
 * Makes to's attributes in scope those of from: with apply, differing values set and names from lacks
 * removed. 0 when they were already the same, 1 when they differed (and, with apply, now match), or
 * -errno.
 */
int usync_xattrs_sync(int from, int to, int scope, bool apply);

#endif
