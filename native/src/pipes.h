/* A pool of pipes for splice pipelines (file -> pipe -> file or socket). */
#ifndef USYNC_PIPES_H
#define USYNC_PIPES_H

struct usync_pipes {
	unsigned count;
	unsigned size;       /* bytes each pipe holds (F_SETPIPE_SZ, or the kernel default if refused) */
	int (*fd)[2];        /* [i][0] read end, [i][1] write end */
};

/* Opens `count` pipes asking for `size` bytes each; 0 or -errno (nothing left open on failure). */
int usync_pipes_open(struct usync_pipes *p, unsigned count, unsigned size);
/* Replaces pipe i (e.g. one left holding bytes after a failure); 0 or -errno. */
int usync_pipes_renew(struct usync_pipes *p, unsigned i);
/* Closes every pipe; idempotent. */
void usync_pipes_close(struct usync_pipes *p);

#endif
