// SPDX-License-Identifier: GPL-2.0
/*
 * flood IFACE DST_MAC SRC_IP VIP PORT KIND N ADDRS
 *
 * The spoofed flows of badpkt.py's `flows`, fast enough to fill a table at
 * its default bound under TCG (badpkt.py makes ~2,000 packets a second
 * there; this, batches of sendmmsg on a packet socket): N flows of KIND
 * (udp: one datagram; syn: one SYN; synack: a SYN, then the ACK that
 * completes the client's handshake) to VIP:PORT, flow i from address
 * SRC_IP + i % ADDRS, port 1024 + i / ADDRS; or (chain: ADDRS 1) N SYNs
 * from SRC_IP port 5000 to VIP ports PORT to PORT + N - 1, one bucket's
 * chain on a fwmark or port-0 service. Prints what it sent.
 * Built by `make tool` into tool/target/flood.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define FRAME 64

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One frame: Ethernet, IPv4 (no options), then UDP or TCP. */
static size_t frame(uint8_t *f, const uint8_t *eth, uint32_t src, uint32_t dst,
		    int tcp, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	size_t l4len = tcp ? 20 : 9;
	uint16_t id;

	memcpy(f, eth, 14);
	memset(ip, 0, 20 + l4len);
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)sport;
	ip[0] = 0x45;
	put16(ip + 2, 20 + l4len);
	put16(ip + 4, id);
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(l4, sport);
	put16(l4 + 2, dport);
	if (tcp) {
		uint32_t ph = 0;

		put32(l4 + 4, seq);
		l4[12] = 5 << 4;
		l4[13] = flags;
		put16(l4 + 14, 65535);
		ph = sum16(ip + 12, 8, ph) + 6 + 20;
		put16(l4 + 16, fold(sum16(l4, 20, ph)));
	} else {
		put16(l4 + 4, 9);
		l4[8] = 'x';
	}
	return 14 + 20 + l4len;
}

static int mac(const char *s, uint8_t *m)
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t frames[BATCH][FRAME];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	struct in_addr a, v;
	uint8_t eth[14];
	char path[128];
	unsigned long n, addrs, i, sent = 0;
	int fd, kind, k = 0;
	uint16_t port;
	FILE *fp;

	if (argc != 9) {
		fprintf(stderr, "usage: flood IFACE DST_MAC SRC_IP VIP PORT udp|syn|synack|chain N ADDRS\n");
		return 2;
	}
	kind = !strcmp(argv[6], "udp") ? 0 : !strcmp(argv[6], "syn") ? 1 :
	       !strcmp(argv[6], "synack") ? 2 : !strcmp(argv[6], "chain") ? 3 : -1;
	n = strtoul(argv[7], NULL, 10);
	addrs = strtoul(argv[8], NULL, 10);
	port = (uint16_t)atoi(argv[5]);
	if (kind < 0 || !addrs || mac(argv[2], eth) || !inet_aton(argv[3], &a) ||
	    !inet_aton(argv[4], &v) || n / addrs > 64000 ||
	    (kind == 3 && (addrs != 1 || port + n > 65536))) {
		fprintf(stderr, "flood: bad arguments\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", argv[1]);
	fp = fopen(path, "r");
	if (!fp || !fgets(path, sizeof(path), fp) || mac(path, eth + 6)) {
		perror("flood: the interface's address");
		return 1;
	}
	fclose(fp);
	eth[12] = 0x08;
	eth[13] = 0x00;
	ll.sll_ifindex = (int)if_nametoindex(argv[1]);
	ll.sll_protocol = htons(ETH_P_IP);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || !ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror("flood: the packet socket");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = frames[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < n; i++) {
		uint32_t src = ntohl(a.s_addr) + (uint32_t)(i % addrs), seq;
		uint16_t sport = (uint16_t)(1024 + i / addrs), dport = port;

		if (getrandom(&seq, sizeof(seq), 0) != sizeof(seq))
			seq = (uint32_t)i;
		if (kind == 3) {
			sport = 5000;
			dport = (uint16_t)(port + i);
		}
		iov[k].iov_len = frame(frames[k], eth, src, ntohl(v.s_addr), kind != 0,
				       sport, dport, 0x02, seq);
		k++;
		if (kind == 2) {
			iov[k].iov_len = frame(frames[k], eth, src, ntohl(v.s_addr), 1,
					       sport, port, 0x10, seq + 1);
			k++;
		}
		/* A SYN and its ACK in one batch, in order. */
		if (k + 2 > BATCH || i + 1 == n) {
			int off = 0;

			while (off < k) {
				int r = sendmmsg(fd, msgs + off, (unsigned int)(k - off), 0);

				if (r < 0) {
					perror("flood: sendmmsg");
					return 1;
				}
				off += r;
			}
			sent += (unsigned long)k;
			k = 0;
		}
	}
	printf("sent %lu %s flows from %lu addresses (%lu packets)\n", n, argv[6], addrs, sent);
	return 0;
}
