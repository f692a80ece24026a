// SPDX-License-Identifier: GPL-2.0

//! The IPVS generic netlink ABI (include/uapi/linux/ip_vs.h): names and
//! numbers exactly as in the C header. Pure data, shared with the host crate.

// An ABI table: every number of the header, used or not yet.
#![allow(dead_code)]

/// Family name.
pub(crate) const IPVS_GENL_NAME: &str = "IPVS";
/// Family version.
pub(crate) const IPVS_GENL_VERSION: u32 = 0x1;
/// `IP_VS_VERSION_CODE`: 1.2.1.
pub(crate) const IP_VS_VERSION_CODE: u32 = 0x010201;

/// Commands (`enum IPVS_CMD_*`).
pub(crate) mod cmd {
    pub(crate) const UNSPEC: u8 = 0;
    pub(crate) const NEW_SERVICE: u8 = 1;
    pub(crate) const SET_SERVICE: u8 = 2;
    pub(crate) const DEL_SERVICE: u8 = 3;
    pub(crate) const GET_SERVICE: u8 = 4;
    pub(crate) const NEW_DEST: u8 = 5;
    pub(crate) const SET_DEST: u8 = 6;
    pub(crate) const DEL_DEST: u8 = 7;
    pub(crate) const GET_DEST: u8 = 8;
    pub(crate) const NEW_DAEMON: u8 = 9;
    pub(crate) const DEL_DAEMON: u8 = 10;
    pub(crate) const GET_DAEMON: u8 = 11;
    pub(crate) const SET_CONFIG: u8 = 12;
    pub(crate) const GET_CONFIG: u8 = 13;
    pub(crate) const SET_INFO: u8 = 14;
    pub(crate) const GET_INFO: u8 = 15;
    pub(crate) const ZERO: u8 = 16;
    pub(crate) const FLUSH: u8 = 17;
}

/// Top-level command attributes (`IPVS_CMD_ATTR_*`).
pub(crate) mod cmd_attr {
    pub(crate) const UNSPEC: u16 = 0;
    pub(crate) const SERVICE: u16 = 1;
    pub(crate) const DEST: u16 = 2;
    pub(crate) const DAEMON: u16 = 3;
    pub(crate) const TIMEOUT_TCP: u16 = 4;
    pub(crate) const TIMEOUT_TCP_FIN: u16 = 5;
    pub(crate) const TIMEOUT_UDP: u16 = 6;
    pub(crate) const MAX: u16 = TIMEOUT_UDP;
}

/// Info attributes (`IPVS_INFO_ATTR_*`).
/// `IPVS_DAEMON_ATTR_*`.
pub(crate) mod daemon_attr {
    pub(crate) const STATE: u16 = 1;
    pub(crate) const MCAST_IFN: u16 = 2;
    pub(crate) const SYNC_ID: u16 = 3;
    pub(crate) const SYNC_MAXLEN: u16 = 4;
    pub(crate) const MCAST_GROUP: u16 = 5;
    pub(crate) const MCAST_GROUP6: u16 = 6;
    pub(crate) const MCAST_PORT: u16 = 7;
    pub(crate) const MCAST_TTL: u16 = 8;
    pub(crate) const MAX: u16 = 8;
}

pub(crate) mod info_attr {
    pub(crate) const UNSPEC: u16 = 0;
    pub(crate) const VERSION: u16 = 1;
    pub(crate) const CONN_TAB_SIZE: u16 = 2;
}

/// Service attributes (`IPVS_SVC_ATTR_*`).
pub(crate) mod svc_attr {
    pub(crate) const AF: u16 = 1;
    pub(crate) const PROTOCOL: u16 = 2;
    pub(crate) const ADDR: u16 = 3;
    pub(crate) const PORT: u16 = 4;
    pub(crate) const FWMARK: u16 = 5;
    pub(crate) const SCHED_NAME: u16 = 6;
    pub(crate) const FLAGS: u16 = 7;
    pub(crate) const TIMEOUT: u16 = 8;
    pub(crate) const NETMASK: u16 = 9;
    pub(crate) const STATS: u16 = 10;
    pub(crate) const PE_NAME: u16 = 11;
    pub(crate) const STATS64: u16 = 12;
    pub(crate) const MAX: u16 = STATS64;
}

/// Destination attributes (`IPVS_DEST_ATTR_*`).
pub(crate) mod dest_attr {
    pub(crate) const ADDR: u16 = 1;
    pub(crate) const PORT: u16 = 2;
    pub(crate) const FWD_METHOD: u16 = 3;
    pub(crate) const WEIGHT: u16 = 4;
    pub(crate) const U_THRESH: u16 = 5;
    pub(crate) const L_THRESH: u16 = 6;
    pub(crate) const ACTIVE_CONNS: u16 = 7;
    pub(crate) const INACT_CONNS: u16 = 8;
    pub(crate) const PERSIST_CONNS: u16 = 9;
    pub(crate) const STATS: u16 = 10;
    pub(crate) const ADDR_FAMILY: u16 = 11;
    pub(crate) const STATS64: u16 = 12;
    pub(crate) const TUN_TYPE: u16 = 13;
    pub(crate) const TUN_PORT: u16 = 14;
    pub(crate) const TUN_FLAGS: u16 = 15;
    pub(crate) const MAX: u16 = TUN_FLAGS;
}

/// Statistics attributes (`IPVS_STATS_ATTR_*`).
pub(crate) mod stats_attr {
    pub(crate) const CONNS: u16 = 1;
    pub(crate) const INPKTS: u16 = 2;
    pub(crate) const OUTPKTS: u16 = 3;
    pub(crate) const INBYTES: u16 = 4;
    pub(crate) const OUTBYTES: u16 = 5;
    pub(crate) const CPS: u16 = 6;
    pub(crate) const INPPS: u16 = 7;
    pub(crate) const OUTPPS: u16 = 8;
    pub(crate) const INBPS: u16 = 9;
    pub(crate) const OUTBPS: u16 = 10;
    pub(crate) const PAD: u16 = 11;
}

/// Name lengths (`IP_VS_SCHEDNAME_MAXLEN`, `IP_VS_PENAME_MAXLEN`).
pub(crate) const SCHEDNAME_MAXLEN: u16 = 16;
pub(crate) const PENAME_MAXLEN: u16 = 16;

/// rvs's own command of the family (not in ip_vs: numbered far from its
/// commands, which stay as they are): the connection table, dumped with
/// filters applied in the kernel.
pub(crate) const RVS_CMD_GET_CONN: u8 = 0x80;

/// The filters of a GET_CONN request (its own policy, validated strictly):
/// each given one must match.
pub(crate) mod conn_filter {
    /// A service (nested `IPVS_SVC_ATTR_*`: af, protocol, addr, port or
    /// fwmark), as IPVS_CMD_ATTR_SERVICE.
    pub(crate) const SERVICE: u16 = 1;
    /// A real server (nested `IPVS_DEST_ATTR_ADDR`, `_PORT` and
    /// `_ADDR_FAMILY`), as IPVS_CMD_ATTR_DEST.
    pub(crate) const DEST: u16 = 2;
    /// The client's address (16 bytes, an IPv4 one in the first 4), with
    /// CLIENT_AF and CLIENT_PREFIX (bits; the whole address if absent).
    pub(crate) const CLIENT: u16 = 3;
    pub(crate) const CLIENT_AF: u16 = 4;
    pub(crate) const CLIENT_PREFIX: u16 = 5;
    /// The state's name as listed (`ESTABLISHED`, `SYN_RECV`, ...).
    pub(crate) const STATE: u16 = 6;
    pub(crate) const MAX: u16 = STATE;
}

/// A GET_CONN reply: one CONN nest a message, with these attributes.
pub(crate) mod conn_attr {
    pub(crate) const CONN: u16 = 1;
    pub(crate) const AF: u16 = 1;
    pub(crate) const PROTOCOL: u16 = 2;
    /// Addresses are 16 bytes (`union nf_inet_addr`), ports network-order.
    pub(crate) const CADDR: u16 = 3;
    pub(crate) const CPORT: u16 = 4;
    pub(crate) const VADDR: u16 = 5;
    pub(crate) const VPORT: u16 = 6;
    pub(crate) const DADDR: u16 = 7;
    pub(crate) const DPORT: u16 = 8;
    /// The real server's family (a tunnel's may differ from AF).
    pub(crate) const DEST_AF: u16 = 9;
    /// The state's name, as /proc/net/ip_vs_conn lists it.
    pub(crate) const STATE: u16 = 10;
    /// Seconds until it expires.
    pub(crate) const EXPIRES: u16 = 11;
    /// `IP_VS_CONN_F_*` as ip_vs's sync sends them.
    pub(crate) const FLAGS: u16 = 12;
    /// The firewall mark of its service (0 for others).
    pub(crate) const FWMARK: u16 = 13;
}

/// rvs's own command: the connection table's figures (a `doit`; no
/// attribute in the request), for `rvsadm metrics`.
pub(crate) const RVS_CMD_GET_TABLE: u8 = 0x81;

/// Its reply's attributes (u64 counts, u32 settings).
pub(crate) mod table_attr {
    /// Padding of the 64-bit attributes.
    pub(crate) const PAD: u16 = 1;
    pub(crate) const ENTRIES: u16 = 2;
    pub(crate) const BUCKETS: u16 = 3;
    /// The most entries it takes.
    pub(crate) const MAX: u16 = 4;
    /// New connections refused because the table was full.
    pub(crate) const REFUSED_FULL: u16 = 5;
    /// Entries that gave way to new connections in a full table
    /// (evict_on_full), all classes.
    pub(crate) const EVICTED: u16 = 6;
    /// 1 while secure_tcp's state table is in force.
    pub(crate) const SECURE_TCP_ON: u16 = 7;
    /// drop_packet's rate now (one new connection in it dropped; 0: off).
    pub(crate) const DROP_RATE: u16 = 8;
    /// The sysctls of the defences, as /proc/sys/net/ipv4/vs/ has them.
    pub(crate) const AMEMTHRESH: u16 = 9;
    pub(crate) const DROP_ENTRY: u16 = 10;
    pub(crate) const DROP_PACKET: u16 = 11;
    pub(crate) const SECURE_TCP: u16 = 12;
    /// Entries by state: a STATES nest of STATE nests.
    pub(crate) const STATES: u16 = 13;
    pub(crate) const STATE: u16 = 1;
    pub(crate) const STATE_PROTOCOL: u16 = 1;
    pub(crate) const STATE_NAME: u16 = 2;
    pub(crate) const STATE_COUNT: u16 = 3;
    pub(crate) const STATE_PAD: u16 = 4;
    /// The same by class, in the order they give way: half-open entries,
    /// entries never answered (NAT), templates without connections, the
    /// least recently used idle ones.
    pub(crate) const EVICTED_HALF_OPEN: u16 = 14;
    pub(crate) const EVICTED_UNANSWERED: u16 = 15;
    pub(crate) const EVICTED_TEMPLATE: u16 = 16;
    pub(crate) const EVICTED_IDLE: u16 = 17;
}
