// SPDX-License-Identifier: GPL-2.0
/*
 * Static inline kernel functions and macros that rvs's Rust code calls
 * (Rust cannot call an inline or take its address). Each wrapper does one
 * thing, except the transmit helpers at the end, which keep a hot path's
 * inline sequence in one out-of-line call. The Rust side is in rust/sys/.
 */
#include <linux/icmp.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/swap.h>
#include <linux/igmp.h>
#include <linux/inetdevice.h>
#include <linux/ipv6.h>
#include <linux/net.h>
#include <linux/rtnetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <linux/ip.h>
#include <linux/ip.h>
#include <net/gso.h>
#include <net/inet_ecn.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysctl.h>
#include <linux/workqueue.h>
#include <net/dst.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip_tunnels.h>
#include <net/gre.h>
#include <net/gue.h>
#include <net/udp.h>
#include <linux/ip_vs.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/route.h>
#include <net/ip6_route.h>
#include <net/ip6_checksum.h>
#include <net/addrconf.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <linux/icmpv6.h>
#include <linux/netfilter_ipv6.h>
#include <linux/sctp.h>
#include <net/sctp/checksum.h>
#include "shim.h"

/* ---- locks, RCU */
void rvs_spin_lock_init(spinlock_t *l, const char *name, struct lock_class_key *key)
{
#ifdef CONFIG_DEBUG_SPINLOCK
	__raw_spin_lock_init(spinlock_check(l), name, key, LD_WAIT_CONFIG);
#else
	/* No lock classes without lock debugging (the benchmark kernel). */
	spin_lock_init(l);
#endif
}
void rvs_spin_lock_bh(spinlock_t *l) { spin_lock_bh(l); }
void rvs_spin_unlock_bh(spinlock_t *l) { spin_unlock_bh(l); }
void rvs_call_rcu(struct rcu_head *h, rcu_callback_t f) { call_rcu(h, f); }

/* ---- per-CPU counters: `n` u64 per CPU */
u64 __percpu *rvs_pcpu_alloc(unsigned int n)
{
	return __alloc_percpu_gfp(n * sizeof(u64), sizeof(u64), GFP_KERNEL);
}
void rvs_pcpu_add(u64 __percpu *p, unsigned int i, u64 v) { this_cpu_add(p[i], v); }
/* A packet and its bytes in one call. */
void rvs_pcpu_add2(u64 __percpu *p, unsigned int i, u64 v, unsigned int j, u64 w)
{
	this_cpu_add(p[i], v);
	this_cpu_add(p[j], w);
}
/* The next possible CPU after `prev` (-1: the first); -1 after the last. */
int rvs_next_possible_cpu(int prev)
{
	unsigned int cpu = cpumask_next(prev, cpu_possible_mask);

	return cpu < nr_cpu_ids ? (int)cpu : -1;
}
/* CPU `cpu`'s copies of the n counters to out[]. */
void rvs_pcpu_read_cpu(u64 __percpu *p, unsigned int n, int cpu, u64 *out)
{
	const u64 *c = per_cpu_ptr(p, cpu);
	unsigned int i;

	for (i = 0; i < n; i++)
		out[i] = READ_ONCE(c[i]);
}
/* Adds every counter's values on the possible CPUs to out[] (zeroed by
 * the caller), in one walk of the CPUs. */
void rvs_pcpu_sum(u64 __percpu *p, unsigned int n, u64 *out)
{
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		const u64 *c = per_cpu_ptr(p, cpu);

		for (i = 0; i < n; i++)
			out[i] += READ_ONCE(c[i]);
	}
}

/* ---- periodic work */
void rvs_init_delayed_work(struct delayed_work *w, work_func_t f) { INIT_DELAYED_WORK(w, f); }
struct delayed_work *rvs_to_delayed_work(struct work_struct *w) { return to_delayed_work(w); }

/* ---- sk_buff fields behind bitfields and unions */
u32 rvs_skb_len(const struct sk_buff *skb) { return skb->len; }
void rvs_skb_set_ipvs_property(struct sk_buff *skb) { skb->ipvs_property = 1; }
u32 rvs_skb_mark(const struct sk_buff *skb) { return skb->mark; }
bool rvs_skb_csum_partial(const struct sk_buff *skb) { return skb->ip_summed == CHECKSUM_PARTIAL; }
bool rvs_skb_is_gso(const struct sk_buff *skb) { return skb_is_gso(skb); }
/* The largest fragment of an IPv6 packet reassembled by nf_defrag_ipv6 (0
 * if it came whole): what must fit the path, as ip_vs checks it. */
u32 rvs_skb_frag_max6(const struct sk_buff *skb) { return IP6CB(skb)->frag_max_size; }
bool rvs_skb_gso_fits(const struct sk_buff *skb, unsigned int mtu)
{
	return skb_gso_validate_network_len(skb, mtu);
}
int rvs_skb_ensure_writable(struct sk_buff *skb, unsigned int len)
{
	return skb_ensure_writable(skb, skb_network_offset(skb) + len);
}
/* `len` bytes from `off` past the IP header copied to `to`, wherever they
 * are (head, pages, frag_list); false if the packet is shorter. */
bool rvs_skb_copy(const struct sk_buff *skb, unsigned int off, void *to, unsigned int len)
{
	return skb_copy_bits(skb, skb_network_offset(skb) + off, to, len) == 0;
}
u8 *rvs_skb_linear(struct sk_buff *skb, unsigned int len)
{
	if (!pskb_may_pull(skb, skb_network_offset(skb) + len))
		return NULL;
	return skb_network_header(skb);
}
/*
 * What the hooks look at first, in one call: the linear bytes from the IP
 * header (returned, `*linear` of them), `skb->len`, and in `*bits`
 * ipvs_property (1), pkt_type (<< 1) and "no route yet" (16).
 */
const u8 *rvs_skb_view(const struct sk_buff *skb, u32 *len, u32 *linear, u32 *bits)
{
	const u8 *nh = skb_network_header(skb);
	const u8 *tail = skb_tail_pointer(skb);

	*len = skb->len;
	*linear = tail > nh ? tail - nh : 0;
	*bits = skb->ipvs_property | skb->pkt_type << 1 | !skb_dst(skb) << 4;
	return nh;
}
/*
 * NAT's L4 checksum update for an address and a port changed, in one call;
 * `udp`: a result of 0 is sent as 0xffff (0 means "no checksum").
 */
void rvs_skb_csum_nat(struct sk_buff *skb, unsigned int off, __be32 from, __be32 to,
		      __be16 pfrom, __be16 pto, bool udp)
{
	__sum16 *sum = (__sum16 *)(skb_network_header(skb) + off);

	inet_proto_csum_replace4(sum, skb, from, to, true);
	inet_proto_csum_replace2(sum, skb, pfrom, pto, false);
	if (udp && skb->ip_summed != CHECKSUM_PARTIAL && !*sum)
		*sum = CSUM_MANGLED_0;
}
/* The same for IPv6: a 16-byte address in the pseudo-header. */
void rvs_skb_csum_nat6(struct sk_buff *skb, unsigned int off, const u8 *from, const u8 *to,
		       __be16 pfrom, __be16 pto, bool udp)
{
	__sum16 *sum = (__sum16 *)(skb_network_header(skb) + off);

	inet_proto_csum_replace16(sum, skb, (const __be32 *)from, (const __be32 *)to, true);
	inet_proto_csum_replace2(sum, skb, pfrom, pto, false);
	if (udp && skb->ip_summed != CHECKSUM_PARTIAL && !*sum)
		*sum = CSUM_MANGLED_0;
}
/* SCTP after NAT changed a port: its CRC32c (over the SCTP packet alone,
 * no pseudo-header) computed afresh and left for the receiver to check.
 * A packet whose CRC the device (or the stack at output) completes, or
 * that is segmented later, needs nothing. */
void rvs_sctp_csum(struct sk_buff *skb, unsigned int off)
{
	unsigned int at = skb_network_offset(skb) + off;
	struct sctphdr *sh = (struct sctphdr *)(skb->data + at);

	if (skb->ip_summed == CHECKSUM_PARTIAL || skb_is_gso(skb))
		return;
	sh->checksum = sctp_compute_cksum(skb, at);
	skb->ip_summed = CHECKSUM_NONE;
}
void rvs_skb_notrack(struct sk_buff *skb)
{
	nf_reset_ct(skb);
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
}
int rvs_route_me_harder(struct net *net, struct sk_buff *skb, int af)
{
	if (af == AF_INET6)
		return ip6_route_me_harder(net, skb->sk, skb);
	return ip_route_me_harder(net, skb->sk, skb, RTN_LOCAL);
}
/* IPv6 fragments are reassembled before rvs's hooks, as for ip_vs. */
int rvs_defrag6_enable(struct net *net) { return nf_defrag_ipv6_enable(net); }
void rvs_defrag6_disable(struct net *net) { nf_defrag_ipv6_disable(net); }
/* Reassembles a fragment (0: `skb` is now the whole datagram; else the
 * fragment was queued or freed and is no longer the caller's), as ip_vs's
 * ip_vs_gather_frags with ip_vs_defrag_user: the user of FORWARD, or of
 * LOCAL_OUT (the other hook that reassembles). */
int rvs_defrag(struct net *net, struct sk_buff *skb, bool forward)
{
	int err;

	local_bh_disable();
	err = ip_defrag(net, skb, forward ? IP_DEFRAG_VS_FWD : IP_DEFRAG_VS_OUT);
	local_bh_enable();
	if (!err)
		ip_send_check(ip_hdr(skb));
	return err;
}
/* `info` in host order (the MTU of "fragmentation needed"/"too big"). */
void rvs_icmp_send(struct sk_buff *skb, int af, int type, int code, u32 info)
{
	/* A local program's packet (LOCAL_OUT) has no device yet. */
	if (!skb->dev && skb_dst(skb))
		skb->dev = dev_net(skb_dst(skb)->dev)->loopback_dev;
	if (af == AF_INET6)
		icmpv6_send(skb, type, code, info);
	else
		icmp_send(skb, type, code, htonl(info));
}

/* The sum an ICMP (or, with its pseudo-header, ICMPv6) message from `off`
 * (its header) to the end of the packet: 0 when right. */
static __sum16 rvs_icmp_sum(struct sk_buff *skb, unsigned int off, int af)
{
	unsigned int len = skb->len - off;
	__wsum c = skb_checksum(skb, skb_network_offset(skb) + off, len, 0);

	if (af == AF_INET6)
		return csum_ipv6_magic(&ipv6_hdr(skb)->saddr, &ipv6_hdr(skb)->daddr, len,
				       IPPROTO_ICMPV6, c);
	return csum_fold(c);
}
bool rvs_icmp_csum_ok(struct sk_buff *skb, unsigned int off, int af)
{
	return skb_csum_unnecessary(skb) || !rvs_icmp_sum(skb, off, af);
}
void rvs_icmp_csum_set(struct sk_buff *skb, unsigned int off, int af)
{
	/* The checksum is at the same offset in both headers. */
	struct icmphdr *ic = (struct icmphdr *)(skb_network_header(skb) + off);

	ic->checksum = 0;
	ic->checksum = rvs_icmp_sum(skb, off, af);
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

/*
 * ---- routes: a held `struct dst_entry`, released by rvs_dst_put.
 * The output route of family `af` to `daddr` (4 or 16 bytes), its source
 * address (`src_out`, as many bytes), the path MTU, whether `daddr` is this
 * host, and the cookie that checks a cached IPv6 route (ip_vs's
 * __ip_vs_route_output_v6 and do_output_route4).
 */
struct dst_entry *rvs_route(struct net *net, int af, const u8 *daddr, u8 tos, bool known_nh,
			    u8 *src_out, unsigned int *mtu, bool *local, u32 *cookie)
{
	if (af == AF_INET6) {
		struct flowi6 fl6 = {
			.flowi6_flags = known_nh ? FLOWI_FLAG_KNOWN_NH : 0,
		};
		struct dst_entry *dst;

		memcpy(&fl6.daddr, daddr, sizeof(fl6.daddr));
		dst = ip6_route_output(net, NULL, &fl6);
		if (dst->error)
			goto err6;
		if (ipv6_addr_any(&fl6.saddr) &&
		    ipv6_dev_get_saddr(net, ip6_dst_idev(dst)->dev, &fl6.daddr, 0, &fl6.saddr))
			goto err6;
		memcpy(src_out, &fl6.saddr, sizeof(fl6.saddr));
		*mtu = dst_mtu(dst);
		*local = dst->dev && (dst->dev->flags & IFF_LOOPBACK);
		*cookie = rt6_get_cookie(dst_rt6_info(dst));
		return dst;
err6:
		dst_release(dst);
		return NULL;
	} else {
		struct flowi4 fl4 = {
			.flowi4_tos = RT_TOS(tos),
			.flowi4_flags = known_nh ? FLOWI_FLAG_KNOWN_NH : 0,
		};
		struct rtable *rt;

		memcpy(&fl4.daddr, daddr, sizeof(fl4.daddr));
		rt = ip_route_output_key(net, &fl4);
		if (IS_ERR(rt))
			return NULL;
		memcpy(src_out, &fl4.saddr, sizeof(fl4.saddr));
		*mtu = dst_mtu(&rt->dst);
		*local = rt->rt_flags & RTCF_LOCAL;
		*cookie = 0;
		return &rt->dst;
	}
}
void rvs_dst_put(struct dst_entry *dst) { dst_release(dst); }
/* A cached route still good (ip_vs's __ip_vs_dst_check). */
bool rvs_dst_valid(struct dst_entry *dst, u32 cookie)
{
	return !dst->obsolete || dst_check(dst, cookie);
}
unsigned int rvs_dst_mtu(struct dst_entry *dst) { return dst_mtu(dst); }

/*
 * ip_vs's "send or continue": the packet now belongs to rvs; it leaves by
 * LOCAL_OUT on the route `rt` (whose reference it takes when `held`; a
 * cached route is lent for the RCU read section, as ip_vs does with
 * skb_dst_set_noref), untracked, as a forwarded packet.
 */
static void rvs_prepare_out(struct sk_buff *skb, struct dst_entry *dst, bool held, int af)
{
	skb_dst_drop(skb);
	if (held)
		skb_dst_set(skb, dst);
	else
		skb_dst_set_noref(skb, dst);
	skb->ipvs_property = 1;
	skb->ignore_df = 1;
	rvs_skb_notrack(skb);
	if (skb->sk && skb->dev)
		skb_orphan(skb);
	skb_forward_csum(skb);
	/* A local program's packet keeps its departure time (pacing). */
	if (skb->dev)
		skb_clear_tstamp(skb);
	if (af == AF_INET6)
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
	else
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
}

int rvs_send_routed(struct net *net, struct sk_buff *skb, struct dst_entry *dst, bool held,
		    int af)
{
	rvs_prepare_out(skb, dst, held, af);
	return NF_HOOK(af == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4, NF_INET_LOCAL_OUT, net, NULL,
		       skb, NULL, skb_dst(skb)->dev, dst_output);
}

/* The GUE header, with remote checksum offload's private data when the
 * packet's checksum is left to the real server (ip_vs's ipvs_gue_encap). */
static int rvs_push_gue(struct net *net, struct sk_buff *skb, bool remcsum, __be16 port,
			u8 inner)
{
	size_t optlen = remcsum ? GUE_PLEN_REMCSUM + GUE_LEN_PRIV : 0;
	size_t hdrlen = sizeof(struct guehdr) + optlen;
	struct guehdr *gueh = skb_push(skb, hdrlen);
	struct udphdr *udph;

	gueh->control = 0;
	gueh->version = 0;
	gueh->hlen = optlen >> 2;
	gueh->flags = 0;
	gueh->proto_ctype = inner;
	if (remcsum) {
		__be32 *flags = (__be32 *)&gueh[1];
		__be16 *pd = (__be16 *)&flags[1];
		u16 start = skb_checksum_start_offset(skb);

		if (start < hdrlen)
			return -EINVAL;
		start -= hdrlen;
		gueh->flags |= GUE_FLAG_PRIV;
		*flags = GUE_PFLAG_REMCSUM;
		pd[0] = htons(start);
		pd[1] = htons(start + skb->csum_offset);
		if (!skb_is_gso(skb)) {
			skb->ip_summed = CHECKSUM_NONE;
			skb->encapsulation = 0;
		}
	}
	udph = skb_push(skb, sizeof(*udph));
	skb_reset_transport_header(skb);
	udph->dest = port;
	udph->source = udp_flow_src_port(net, skb, 0, 0, false);
	udph->len = htons(skb->len);
	udph->check = 0;
	return 0;
}

/* The packet (IPv4 or IPv6) in an outer header of family `af` to `daddr`
 * from `saddr` (4 or 16 bytes) on route `dst` (as rvs_send_routed), after
 * a GUE (UDP port `port`) or GRE header for those tunnel types; `flags`:
 * IP_VS_TUNNEL_ENCAP_FLAG_*. As ip_vs_tunnel_xmit and its _v6. */
int rvs_send_tunnel(struct net *net, struct sk_buff *skb, struct dst_entry *dst, bool held,
		    int af, const u8 *saddr, const u8 *daddr, bool df, u8 type, u16 port,
		    u16 flags)
{
	bool inner6 = ip_hdr(skb)->version == 6;
	u8 inner = inner6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	u8 tos = inner6 ? ipv6_get_dsfield(ipv6_hdr(skb)) : ip_hdr(skb)->tos;
	u8 ttl = inner6 ? ipv6_hdr(skb)->hop_limit : ip_hdr(skb)->ttl;
	u8 proto = inner;
	bool csum = flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
	bool remcsum = type == IP_VS_CONN_F_TUNNEL_TYPE_GUE &&
		       (flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM) &&
		       skb->ip_summed == CHECKSUM_PARTIAL;
	unsigned int outer = af == AF_INET6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	unsigned int room = LL_RESERVED_SPACE(dst->dev) + outer;
	IP_TUNNEL_DECLARE_FLAGS(tflags) = { };
	int gso = af == AF_INET6 ? SKB_GSO_IPXIP6 : SKB_GSO_IPXIP4;

	if (type == IP_VS_CONN_F_TUNNEL_TYPE_GUE) {
		room += sizeof(struct udphdr) + sizeof(struct guehdr);
		if (remcsum)
			room += GUE_PLEN_REMCSUM + GUE_LEN_PRIV;
		gso |= csum || (flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM) ?
			SKB_GSO_UDP_TUNNEL_CSUM : SKB_GSO_UDP_TUNNEL;
		if (remcsum)
			gso |= SKB_GSO_TUNNEL_REMCSUM;
	} else if (type == IP_VS_CONN_F_TUNNEL_TYPE_GRE) {
		if (csum)
			__set_bit(IP_TUNNEL_CSUM_BIT, tflags);
		room += gre_calc_hlen(tflags);
		gso |= csum ? SKB_GSO_GRE_CSUM : SKB_GSO_GRE;
	}
	if (skb_cow_head(skb, room) || iptunnel_handle_offloads(skb, gso))
		goto drop;
	rvs_prepare_out(skb, dst, held, af);
	held = false;
	skb_set_inner_ipproto(skb, inner);
	if (type == IP_VS_CONN_F_TUNNEL_TYPE_GUE) {
		bool nocheck = !(csum || (flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM));

		if (rvs_push_gue(net, skb, remcsum, htons(port), inner))
			goto drop;
		if (af == AF_INET6)
			udp6_set_csum(nocheck, skb, (const struct in6_addr *)saddr,
				      (const struct in6_addr *)daddr, skb->len);
		else
			udp_set_csum(nocheck, skb, *(const __be32 *)saddr,
				     *(const __be32 *)daddr, skb->len);
		proto = IPPROTO_UDP;
	} else if (type == IP_VS_CONN_F_TUNNEL_TYPE_GRE) {
		gre_build_header(skb, gre_calc_hlen(tflags), tflags,
				 htons(inner6 ? ETH_P_IPV6 : ETH_P_IP), 0, 0);
		proto = IPPROTO_GRE;
	}
	if (af == AF_INET6) {
		struct ipv6hdr *ip6h;
		unsigned int payload = skb->len;

		skb_push(skb, sizeof(struct ipv6hdr));
		skb_reset_network_header(skb);
		ip6h = ipv6_hdr(skb);
		ip6h->version = 6;
		ip6h->nexthdr = proto;
		ip6h->payload_len = htons(payload);
		memset(&ip6h->flow_lbl, 0, sizeof(ip6h->flow_lbl));
		ipv6_change_dsfield(ip6h, 0, INET_ECN_encapsulate(tos, tos));
		memcpy(&ip6h->daddr, daddr, sizeof(ip6h->daddr));
		memcpy(&ip6h->saddr, saddr, sizeof(ip6h->saddr));
		ip6h->hop_limit = ttl;
		skb->protocol = htons(ETH_P_IPV6);
		return ip6_local_out(net, skb->sk, skb);
	} else {
		struct iphdr *iph;

		skb_push(skb, sizeof(struct iphdr));
		skb_reset_network_header(skb);
		iph = ip_hdr(skb);
		iph->version = 4;
		iph->ihl = sizeof(struct iphdr) >> 2;
		iph->frag_off = df ? htons(IP_DF) : 0;
		iph->protocol = proto;
		iph->tos = INET_ECN_encapsulate(tos, tos);
		memcpy(&iph->daddr, daddr, sizeof(iph->daddr));
		memcpy(&iph->saddr, saddr, sizeof(iph->saddr));
		iph->ttl = ttl;
		iph->tot_len = htons(skb->len);
		skb->protocol = htons(ETH_P_IP);
		ip_select_ident(net, skb, NULL);
		ip_send_check(iph);
		return ip_local_out(net, skb->sk, skb);
	}
drop:
	if (held)
		dst_release(dst);
	kfree_skb(skb);
	return -ENOMEM;
}

/* ---- /proc/net files whose contents one Rust function writes */
struct proc_dir_entry *rvs_proc_create(struct net *net, const char *name,
				       int (*show)(struct seq_file *, void *), void *data)
{
	return proc_create_net_single(name, 0444, net->proc_net, show, data);
}
void rvs_proc_remove(struct net *net, const char *name)
{
	remove_proc_entry(name, net->proc_net);
}
struct net *rvs_seq_net(struct seq_file *seq) { return seq_file_single_net(seq); }
/* A reader's private state: the namespace's part, then `place` bytes of
 * the listing's own (zeroed at open), 8-byte aligned. */
#define RVS_SEQ_PLACE_OFF ALIGN(sizeof(struct seq_net_private), 8)
struct proc_dir_entry *rvs_proc_create_seq(struct net *net, const char *name,
					   const struct seq_operations *ops, void *data,
					   size_t place)
{
	return proc_create_net_data(name, 0444, net->proc_net, ops,
				    RVS_SEQ_PLACE_OFF + place, data);
}
void *rvs_seq_data(struct seq_file *seq) { return pde_data(file_inode(seq->file)); }
void *rvs_seq_place(struct seq_file *seq) { return (char *)seq->private + RVS_SEQ_PLACE_OFF; }

/* ---- might_sleep() for the Rust wrappers of sleeping functions */
void rvs_might_sleep(void) { might_sleep(); }

/* ---- free and buffer memory in pages (ip_vs's update_defense_level) */
unsigned long rvs_avail_pages(void)
{
	struct sysinfo i;

	si_meminfo(&i);
	return i.freeram + i.bufferram;
}

/* ---- sysctl tables: a per-namespace copy whose data points at `vals` */
struct ctl_table_header *rvs_sysctl_register(struct net *net, const char *path,
					     struct ctl_table *tmpl, size_t n, int *vals,
					     u64 unpriv_ro, u64 unpriv_hidden)
{
	struct ctl_table *t = kmemdup(tmpl, n * sizeof(*t), GFP_KERNEL_ACCOUNT);
	bool unpriv = net->user_ns != &init_user_ns;
	struct ctl_table_header *h;
	size_t i, j = 0, off = 0;

	if (!t)
		return NULL;
	for (i = 0; i < n; i++) {
		int *data = &vals[off];

		off += tmpl[i].maxlen / sizeof(int);
		/* Not there at all, or read-only, where the namespace's owner is
		 * not the machine's. */
		if (unpriv && i < 64 && (unpriv_hidden >> i & 1))
			continue;
		t[j] = tmpl[i];
		t[j].data = data;
		if (unpriv && i < 64 && (unpriv_ro >> i & 1))
			t[j].mode = 0444;
		j++;
	}
	h = register_net_sysctl_sz(net, path, t, j);
	if (!h)
		kfree(t);
	return h;
}
void rvs_sysctl_unregister(struct ctl_table_header *h)
{
	const struct ctl_table *t = h->ctl_table_arg;

	unregister_net_sysctl_table(h);
	kfree(t);
}

/* The checking handler of rvs's sysctls, as ip_vs_ctl.c checks them; the
 * entry's extra1 says which check (rust/sys/sysctl.rs, Check): sync_version
 * 0 or 1 and sync_retries 0 to 3 (proc_dointvec_minmax), sync_ports a
 * power of two, sync_threshold (threshold, period) both non-negative and
 * the threshold below a non-zero period, drop_entry and drop_packet 0 to 3
 * (proc_do_defense_mode). Anything else is refused with EINVAL and changes
 * nothing. */
enum { RVS_CHECK_VERSION, RVS_CHECK_RETRIES, RVS_CHECK_PORTS, RVS_CHECK_THRESHOLD,
       RVS_CHECK_DEFENSE };

static int rvs_proc_int_range(const struct ctl_table *table, int write, void *buffer,
			      size_t *lenp, loff_t *ppos, int min, int max)
{
	struct ctl_table tmp = *table;

	tmp.extra1 = &min;
	tmp.extra2 = &max;
	return proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
}

static int rvs_proc_sync_ports(const struct ctl_table *table, int write, void *buffer,
			       size_t *lenp, loff_t *ppos)
{
	int *valp = table->data;
	int val = READ_ONCE(*valp);
	struct ctl_table tmp = { .data = &val, .maxlen = sizeof(int), .mode = table->mode };
	int rc = proc_dointvec(&tmp, write, buffer, lenp, ppos);

	if (write && rc == 0 && READ_ONCE(*valp) != val) {
		if (val < 1 || !is_power_of_2(val))
			rc = -EINVAL;
		else
			WRITE_ONCE(*valp, val);
	}
	return rc;
}

static int rvs_proc_sync_threshold(const struct ctl_table *table, int write, void *buffer,
				   size_t *lenp, loff_t *ppos)
{
	static DEFINE_MUTEX(lock);
	int *valp = table->data;
	int val[2];
	struct ctl_table tmp = { .data = val, .maxlen = sizeof(val), .mode = table->mode };
	int rc;

	mutex_lock(&lock);
	val[0] = READ_ONCE(valp[0]);
	val[1] = READ_ONCE(valp[1]);
	rc = proc_dointvec(&tmp, write, buffer, lenp, ppos);
	if (write && rc == 0) {
		if (val[0] < 0 || val[1] < 0 || (val[0] >= val[1] && val[1])) {
			rc = -EINVAL;
		} else {
			WRITE_ONCE(valp[0], val[0]);
			WRITE_ONCE(valp[1], val[1]);
		}
	}
	mutex_unlock(&lock);
	return rc;
}

int rvs_proc_checked(const struct ctl_table *table, int write, void *buffer,
		     size_t *lenp, loff_t *ppos)
{
	switch ((uintptr_t)table->extra1) {
	case RVS_CHECK_VERSION:
		return rvs_proc_int_range(table, write, buffer, lenp, ppos, 0, 1);
	case RVS_CHECK_RETRIES:
	case RVS_CHECK_DEFENSE:
		return rvs_proc_int_range(table, write, buffer, lenp, ppos, 0, 3);
	case RVS_CHECK_PORTS:
		return rvs_proc_sync_ports(table, write, buffer, lenp, ppos);
	case RVS_CHECK_THRESHOLD:
		return rvs_proc_sync_threshold(table, write, buffer, lenp, ppos);
	}
	return -EINVAL;
}

/* ---- slab caches with cacheline-aligned objects */
struct kmem_cache *rvs_kmem_cache_create(const char *name, unsigned int size, unsigned int align)
{
	/* Not merged with other caches: its figures in /proc/slabinfo are rvs's. */
	return kmem_cache_create(name, size, align, SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE, NULL);
}
/* Charged to the memory cgroup in force (see rvs_memcg_enter); in softirq
 * with none set, to none. GFP_NOWAIT, not GFP_ATOMIC: no dip into the
 * reserves for an entry, and no __GFP_HIGH, with which a charge would be
 * forced past the cgroup's memory.max (the cgroup's limit is then a real
 * bound of the namespace's table, and a flood cannot push it over). */
void *rvs_kmem_cache_alloc(struct kmem_cache *c)
{
	return kmem_cache_alloc(c, GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT);
}

/* ---- memory cgroups (include/linux/memcontrol.h, sched/mm.h): a
 * namespace's connection entries are charged to the cgroup of whoever
 * gave it its first service, from any context. */
void *rvs_memcg_of_current(void)
{
#ifdef CONFIG_MEMCG
	return get_mem_cgroup_from_mm(current->mm);
#else
	return NULL;
#endif
}
void rvs_memcg_put(void *memcg) { mem_cgroup_put(memcg); }
void *rvs_memcg_enter(void *memcg) { return set_active_memcg(memcg); }
void rvs_memcg_leave(void *old) { set_active_memcg(old); }

/* ---- sync daemon sockets (ip_vs_sync.c's make_send_sock and
 * make_receive_sock): UDP over IPv4 or IPv6 multicast, and a receive hook
 * that calls back into rvs (rvs_sock_rx_ready, rust/sys/sock.rs). */
int rvs_dev_ifindex(struct net *net, const char *name, unsigned int *mtu)
{
	struct net_device *dev;
	int ifindex = -ENODEV;

	rcu_read_lock();
	dev = dev_get_by_name_rcu(net, name);
	if (dev) {
		ifindex = dev->ifindex;
		*mtu = READ_ONCE(dev->mtu);
	}
	rcu_read_unlock();
	return ifindex;
}

static void rvs_sock_size(struct sock *sk, bool snd, int val)
{
	lock_sock(sk);
	if (snd) {
		val = clamp_t(int, val, (SOCK_MIN_SNDBUF + 1) / 2, READ_ONCE(sysctl_wmem_max));
		sk->sk_sndbuf = val * 2;
		sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	} else {
		val = clamp_t(int, val, (SOCK_MIN_RCVBUF + 1) / 2, READ_ONCE(sysctl_rmem_max));
		sk->sk_rcvbuf = val * 2;
		sk->sk_userlocks |= SOCK_RCVBUF_LOCK;
	}
	release_sock(sk);
}

struct socket *rvs_sync_sock(struct net *net, bool master, int ifindex, int af,
			     const u8 *group, u16 port, u8 ttl, int bufsize, int *err)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa;
	struct socket *sock;
	struct sock *sk;
	int salen, r;

	memset(&sa, 0, sizeof(sa));
	if (af == AF_INET6) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons(port);
		memcpy(&sa.in6.sin6_addr, group, 16);
		salen = sizeof(sa.in6);
	} else {
		sa.in.sin_family = AF_INET;
		sa.in.sin_port = htons(port);
		memcpy(&sa.in.sin_addr, group, 4);
		salen = sizeof(sa.in);
	}
	r = sock_create_kern(net, af, SOCK_DGRAM, IPPROTO_UDP, &sock);
	if (r < 0)
		goto out;
	sk = sock->sk;
	if (master) {
		lock_sock(sk);
		inet_sk(sk)->mc_index = ifindex;
		WRITE_ONCE(inet_sk(sk)->mc_ttl, ttl);
		WRITE_ONCE(inet_sk(sk)->pmtudisc, IP_PMTUDISC_DONT);
#if IS_ENABLED(CONFIG_IPV6)
		if (af == AF_INET6) {
			struct ipv6_pinfo *np = inet6_sk(sk);

			WRITE_ONCE(np->mcast_oif, ifindex);
			WRITE_ONCE(np->mcast_hops, ttl);
			WRITE_ONCE(np->pmtudisc, IP_PMTUDISC_DONT);
		}
#endif
		release_sock(sk);
		inet_assign_bit(MC_LOOP, sk, 0);
#if IS_ENABLED(CONFIG_IPV6)
		if (af == AF_INET6)
			inet6_assign_bit(MC6_LOOP, sk, 0);
#endif
		if (bufsize > 0)
			rvs_sock_size(sk, true, bufsize);
		if (af == AF_INET) {
			/* From the address of the multicast interface. */
			struct sockaddr_in src = { .sin_family = AF_INET };
			struct net_device *dev = dev_get_by_index(net, ifindex);

			if (!dev) {
				r = -ENODEV;
				goto fail;
			}
			src.sin_addr.s_addr = inet_select_addr(dev, 0, RT_SCOPE_UNIVERSE);
			dev_put(dev);
			r = kernel_bind(sock, (struct sockaddr *)&src, sizeof(src));
			if (r < 0)
				goto fail;
		}
		r = kernel_connect(sock, (struct sockaddr *)&sa, salen, 0);
		if (r < 0)
			goto fail;
	} else {
		sk->sk_reuse = SK_CAN_REUSE;
		if (bufsize > 0)
			rvs_sock_size(sk, false, bufsize);
		sk->sk_bound_dev_if = ifindex;
		r = kernel_bind(sock, (struct sockaddr *)&sa, salen);
		if (r < 0)
			goto fail;
		rtnl_lock();
		lock_sock(sk);
#if IS_ENABLED(CONFIG_IPV6)
		if (af == AF_INET6) {
			r = ipv6_sock_mc_join(sk, ifindex, &sa.in6.sin6_addr);
		} else
#endif
		{
			struct ip_mreqn mreq;

			memset(&mreq, 0, sizeof(mreq));
			mreq.imr_multiaddr = sa.in.sin_addr;
			mreq.imr_ifindex = ifindex;
			r = ip_mc_join_group(sk, &mreq);
		}
		release_sock(sk);
		rtnl_unlock();
		if (r < 0)
			goto fail;
	}
	return sock;
fail:
	sock_release(sock);
out:
	*err = r;
	return NULL;
}

struct rvs_rx_hook {
	void (*ready)(const void *ctx);
	const void *ctx;
	/* The socket's own callback, put back when the hook goes: once the
	 * hook is cleared the socket calls nothing of rvs's, so it may outlive
	 * the module (a datagram under way, a socket not yet released). */
	void (*orig)(struct sock *sk);
};

static void rvs_sock_data_ready(struct sock *sk)
{
	struct rvs_rx_hook *h;

	read_lock_bh(&sk->sk_callback_lock);
	h = sk->sk_user_data;
	if (h)
		h->ready(h->ctx);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* Calls ready(ctx) whenever a datagram is queued on the socket; with
 * ready NULL, never again (a call under way has ended on return), and the
 * socket's own sk_data_ready is back. */
int rvs_sock_set_rx(struct socket *sock, void (*ready)(const void *), const void *ctx)
{
	struct sock *sk = sock->sk;
	struct rvs_rx_hook *h = NULL, *old;

	if (ready) {
		h = kmalloc(sizeof(*h), GFP_KERNEL);
		if (!h)
			return -ENOMEM;
		h->ready = ready;
		h->ctx = ctx;
	}
	write_lock_bh(&sk->sk_callback_lock);
	old = sk->sk_user_data;
	if (h) {
		h->orig = old ? old->orig : sk->sk_data_ready;
		sk->sk_data_ready = rvs_sock_data_ready;
	} else if (old) {
		sk->sk_data_ready = old->orig;
	}
	sk->sk_user_data = h;
	write_unlock_bh(&sk->sk_callback_lock);
	kfree(old);
	return 0;
}

int rvs_sock_send(struct socket *sock, const void *buf, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };

	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}

/* One datagram; *local says whether its source is an address of the
 * socket's namespace (a sender on this host: any local user can reach a
 * multicast group's socket through the loopback of its own sends). */
int rvs_sock_recv(struct socket *sock, void *buf, size_t len, bool *local)
{
	struct sockaddr_storage from = {};
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from) };
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct net *net = sock_net(sock->sk);
	int r;

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, len);
	r = sock_recvmsg(sock, &msg, MSG_DONTWAIT);
	*local = false;
	if (r < 0)
		return r;
	if (from.ss_family == AF_INET) {
		__be32 a = ((struct sockaddr_in *)&from)->sin_addr.s_addr;

		*local = inet_addr_type(net, a) == RTN_LOCAL;
#if IS_ENABLED(CONFIG_IPV6)
	} else if (from.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&from)->sin6_addr;

		*local = ipv6_addr_v4mapped(a) ?
			inet_addr_type(net, a->s6_addr32[3]) == RTN_LOCAL :
			ipv6_chk_addr(net, a, NULL, 0);
#endif
	}
	return r;
}

void rvs_sock_release(struct socket *sock) { sock_release(sock); }
unsigned long rvs_nr_free_buffer_pages(void) { return nr_free_buffer_pages(); }
