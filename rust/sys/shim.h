/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of rust/sys/shim.c; the Rust side declares them in rust/sys/. */
#ifndef RVS_SHIM_H
#define RVS_SHIM_H

void rvs_spin_lock_init(spinlock_t *l, const char *name, struct lock_class_key *key);
void rvs_spin_lock_bh(spinlock_t *l);
void rvs_spin_unlock_bh(spinlock_t *l);
void rvs_call_rcu(struct rcu_head *h, rcu_callback_t f);

u64 __percpu *rvs_pcpu_alloc(unsigned int n);
void rvs_pcpu_add(u64 __percpu *p, unsigned int i, u64 v);
void rvs_pcpu_add2(u64 __percpu *p, unsigned int i, u64 v, unsigned int j, u64 w);
void rvs_pcpu_sum(u64 __percpu *p, unsigned int n, u64 *out);
int rvs_next_possible_cpu(int prev);
void rvs_pcpu_read_cpu(u64 __percpu *p, unsigned int n, int cpu, u64 *out);

void rvs_init_delayed_work(struct delayed_work *w, work_func_t f);
struct delayed_work *rvs_to_delayed_work(struct work_struct *w);

u32 rvs_skb_len(const struct sk_buff *skb);
void rvs_skb_set_ipvs_property(struct sk_buff *skb);
u32 rvs_skb_mark(const struct sk_buff *skb);
bool rvs_skb_csum_partial(const struct sk_buff *skb);
bool rvs_skb_copy(const struct sk_buff *skb, unsigned int off, void *to, unsigned int len);
void rvs_sctp_csum(struct sk_buff *skb, unsigned int off);
bool rvs_skb_is_gso(const struct sk_buff *skb);
u32 rvs_skb_frag_max6(const struct sk_buff *skb);
bool rvs_skb_gso_fits(const struct sk_buff *skb, unsigned int mtu);
int rvs_skb_ensure_writable(struct sk_buff *skb, unsigned int len);
u8 *rvs_skb_linear(struct sk_buff *skb, unsigned int len);
const u8 *rvs_skb_view(const struct sk_buff *skb, u32 *len, u32 *linear, u32 *bits);
void rvs_skb_csum_nat(struct sk_buff *skb, unsigned int off, __be32 from, __be32 to,
		      __be16 pfrom, __be16 pto, bool udp);
void rvs_skb_csum_nat6(struct sk_buff *skb, unsigned int off, const u8 *from, const u8 *to,
		       __be16 pfrom, __be16 pto, bool udp);
void rvs_skb_notrack(struct sk_buff *skb);
int rvs_route_me_harder(struct net *net, struct sk_buff *skb, int af);
int rvs_defrag6_enable(struct net *net);
void rvs_defrag6_disable(struct net *net);
int rvs_defrag(struct net *net, struct sk_buff *skb, bool forward);
void rvs_icmp_send(struct sk_buff *skb, int af, int type, int code, u32 info);

bool rvs_icmp_csum_ok(struct sk_buff *skb, unsigned int off, int af);
void rvs_icmp_csum_set(struct sk_buff *skb, unsigned int off, int af);

struct dst_entry *rvs_route(struct net *net, int af, const u8 *daddr, u8 tos, bool known_nh,
			    u8 *src_out, unsigned int *mtu, bool *local, u32 *cookie);
void rvs_dst_put(struct dst_entry *dst);
bool rvs_dst_valid(struct dst_entry *dst, u32 cookie);
unsigned int rvs_dst_mtu(struct dst_entry *dst);
int rvs_send_routed(struct net *net, struct sk_buff *skb, struct dst_entry *dst, bool held,
		    int af);
int rvs_send_tunnel(struct net *net, struct sk_buff *skb, struct dst_entry *dst, bool held,
		    int af, const u8 *saddr, const u8 *daddr, bool df, u8 type, u16 port,
		    u16 flags);

struct proc_dir_entry *rvs_proc_create(struct net *net, const char *name,
				       int (*show)(struct seq_file *, void *), void *data);
void rvs_proc_remove(struct net *net, const char *name);
struct net *rvs_seq_net(struct seq_file *seq);
struct proc_dir_entry *rvs_proc_create_seq(struct net *net, const char *name,
					   const struct seq_operations *ops, void *data,
					   size_t place);
void *rvs_seq_data(struct seq_file *seq);
void *rvs_seq_place(struct seq_file *seq);

struct ctl_table_header *rvs_sysctl_register(struct net *net, const char *path,
					     struct ctl_table *tmpl, size_t n, int *vals,
					     u64 unpriv_ro, u64 unpriv_hidden);
void rvs_sysctl_unregister(struct ctl_table_header *h);
void rvs_might_sleep(void);
unsigned long rvs_avail_pages(void);
int rvs_proc_checked(const struct ctl_table *table, int write, void *buffer,
		     size_t *lenp, loff_t *ppos);

struct kmem_cache *rvs_kmem_cache_create(const char *name, unsigned int size, unsigned int align);
void *rvs_kmem_cache_alloc(struct kmem_cache *c);
void *rvs_memcg_of_current(void);
void rvs_memcg_put(void *memcg);
void *rvs_memcg_enter(void *memcg);
void rvs_memcg_leave(void *old);

int rvs_dev_ifindex(struct net *net, const char *name, unsigned int *mtu);
struct socket *rvs_sync_sock(struct net *net, bool master, int ifindex, int af,
			     const u8 *group, u16 port, u8 ttl, int bufsize, int *err);
int rvs_sock_set_rx(struct socket *sock, void (*ready)(const void *), const void *ctx);
int rvs_sock_send(struct socket *sock, const void *buf, size_t len);
int rvs_sock_recv(struct socket *sock, void *buf, size_t len, bool *local);
void rvs_sock_release(struct socket *sock);
unsigned long rvs_nr_free_buffer_pages(void);

#endif
