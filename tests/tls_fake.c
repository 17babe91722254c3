/* SPDX-License-Identifier: MIT */
/*
 * tls_fake: a server that is not the TLS peer a host expects, for the
 * host's handshake error paths from the command line. Listens on
 * 127.0.0.1 (port 0, written to PORT_FILE), and to each connection, once
 * the ClientHello has arrived:
 *   garbage  answers text that is no TLS record, and keeps the connection
 *   silent   says nothing, and keeps the connection
 *   close    closes it
 * until the host closes. One connection at a time.
 *
 *   tls_fake PORT_FILE garbage|silent|close
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char garbage[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	char tmp[4096], buf[4096];
	FILE *f;
	int lfd;

	if (argc != 3 || (strcmp(argv[2], "garbage") && strcmp(argv[2], "silent") &&
			  strcmp(argv[2], "close"))) {
		fprintf(stderr, "usage: tls_fake PORT_FILE garbage|silent|close\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
	if (getppid() == 1)
		return 0;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &l) < 0) {
		perror("tls_fake: listen");
		return 71;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f)
		return 73;
	fprintf(f, "%u\n", ntohs(a.sin_port));
	if (fclose(f) != 0 || rename(tmp, argv[1]) != 0)
		return 73;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof buf); /* the ClientHello */
		if (n > 0 && !strcmp(argv[2], "garbage") &&
		    write(fd, garbage, sizeof garbage - 1) < 0)
			perror("tls_fake: write");
		if (n > 0 && strcmp(argv[2], "close"))
			while (read(fd, buf, sizeof buf) > 0) /* until the host closes */
				;
		close(fd);
	}
}
