// SPDX-License-Identifier: GPL-2.0
/*
 * tbcount: a QEMU TCG plugin that counts the guest's instructions per
 * translation block, for instruction profiles of the packet path (which
 * kernel function executes how many instructions per packet) under TCG,
 * where sampling profilers attribute poorly. Our own code, written against
 * the documented plugin ABI (version 1, QEMU 7.2).
 *
 *   qemu-system-x86_64 ... -plugin /path/tbcount.so,dir=DIR
 *
 * While the VM runs, a file DIR/tbreq.NAME (made by the guest in its
 * output directory) asks for a snapshot: the plugin writes DIR/tbsnap.NAME
 * ("pc instructions executions" per block, kernel addresses only; user
 * space summed as pc 0) and removes the request. Two snapshots around a
 * measurement give its exact instruction counts (tests/tools/tbprof.py).
 *
 * Build: gcc -O2 -shared -fPIC -o tbcount.so tbcount.c -lpthread
 */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_info_t;
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
enum { INLINE_ADD_U64 = 0 };

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op,
						     void *ptr, uint64_t imm);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

struct ent {
	uint64_t pc;
	uint64_t count;
	uint32_t n;
	struct ent *next;
};

#define NBUCKETS (1u << 20)
static struct ent **tab;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char dir[4096];

static struct ent *get(uint64_t pc, uint32_t n)
{
	uint64_t h = (pc ^ ((uint64_t)n << 48)) * 0x9e3779b97f4a7c15ull;
	struct ent **b = &tab[h >> 44 & (NBUCKETS - 1)], *e;

	for (e = *b; e; e = e->next)
		if (e->pc == pc && e->n == n)
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->pc = pc;
	e->n = n;
	e->next = *b;
	*b = e;
	return e;
}

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t pc = qemu_plugin_tb_vaddr(tb);
	uint32_t n = qemu_plugin_tb_n_insns(tb);
	struct ent *e;

	(void)id;
	if (pc < 0xffff800000000000ull)
		pc = 0;
	pthread_mutex_lock(&lock);
	e = get(pc, n);
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &e->count, 1);
}

static void snapshot(const char *name)
{
	char path[8300], tmp[8400];
	FILE *f;
	unsigned i;

	snprintf(path, sizeof(path), "%s/tbsnap.%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	for (i = 0; i < NBUCKETS; i++)
		for (struct ent *e = tab[i]; e; e = e->next)
			if (e->count)
				fprintf(f, "%llx %u %llu\n", (unsigned long long)e->pc, e->n,
					(unsigned long long)__atomic_load_n(&e->count, __ATOMIC_RELAXED));
	pthread_mutex_unlock(&lock);
	fclose(f);
	rename(tmp, path);
}

static void *poll_requests(void *arg)
{
	(void)arg;
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *de;

		if (d) {
			while ((de = readdir(d))) {
				char req[8300];

				if (strncmp(de->d_name, "tbreq.", 6))
					continue;
				snapshot(de->d_name + 6);
				snprintf(req, sizeof(req), "%s/%s", dir, de->d_name);
				unlink(req);
			}
			closedir(d);
		}
		usleep(100000);
	}
	return NULL;
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc,
			       char **argv)
{
	pthread_t t;

	(void)info;
	snprintf(dir, sizeof(dir), "%s", ".");
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "dir=", 4))
			snprintf(dir, sizeof(dir), "%s", argv[i] + 4);
	tab = calloc(NBUCKETS, sizeof(*tab));
	if (!tab)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
	pthread_create(&t, NULL, poll_requests, NULL);
	pthread_detach(t);
	return 0;
}
