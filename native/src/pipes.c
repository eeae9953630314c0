/* Pipe pool for the splice pipelines (see pipes.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "pipes.h"

static int open_one(int fd[2], unsigned want, unsigned *got)
{
	if (pipe2(fd, O_CLOEXEC) < 0)
		return -errno;
	int sz = fcntl(fd[1], F_SETPIPE_SZ, (int)want);
	if (sz < 0) /* over pipe-max-size or the user's pipe quota: keep the default size */
		sz = fcntl(fd[1], F_GETPIPE_SZ);
	if (sz > 0 && (unsigned)sz < *got)
		*got = (unsigned)sz;
	return 0;
}

int usync_pipes_open(struct usync_pipes *p, unsigned count, unsigned size)
{
	p->fd = calloc(count, sizeof *p->fd);
	if (!p->fd)
		return -ENOMEM;
	p->size = size;
	for (p->count = 0; p->count < count; p->count++) {
		int rc = open_one(p->fd[p->count], size, &p->size);
		if (rc < 0) {
			usync_pipes_close(p);
			return rc;
		}
	}
	return 0;
}

int usync_pipes_renew(struct usync_pipes *p, unsigned i)
{
	close(p->fd[i][0]);
	close(p->fd[i][1]);
	unsigned got = p->size;
	int rc = open_one(p->fd[i], p->size, &got);
	if (rc == 0 && got < p->size) {
		/* smaller than its siblings: refuse it rather than overflow it */
		close(p->fd[i][0]);
		close(p->fd[i][1]);
		rc = -ENOMEM;
	}
	if (rc < 0)
		p->fd[i][0] = p->fd[i][1] = -1;
	return rc;
}

void usync_pipes_close(struct usync_pipes *p)
{
	for (unsigned i = 0; i < p->count; i++) {
		if (p->fd[i][0] >= 0)
			close(p->fd[i][0]);
		if (p->fd[i][1] >= 0)
			close(p->fd[i][1]);
	}
	free(p->fd);
	p->fd = NULL;
	p->count = 0;
}
