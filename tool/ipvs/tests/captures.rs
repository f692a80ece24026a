// SPDX-License-Identifier: GPL-2.0
//! Real IPVS traffic, captured with an nlmon device in the test VM
//! (`make captures`, tests/capture.sh), decoded and encoded again: every
//! message must come back byte for byte, and every attribute must be one
//! the crate models (none left as `Other`).
//!
//! - ipvsadm-ip_vs.txt: ipvsadm running tests/ipvsadm-script.txt against ip_vs.ko
//! - ipvsadm-rvs.txt: the same against rvs.ko
//! - rvsadm-ip_vs.txt: the same script through rvsadm, against ip_vs.ko
//! - daemon-ip_vs.txt: sync daemon start, listing and stop against ip_vs.ko

use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR};
use netlink_packet_generic::GenlMessage;
use rvs_ipvs::consts::*;
use rvs_ipvs::nla::{DaemonAttr, DestAttr, IpvsAttr, StatsAttr, SvcAttr};
use rvs_ipvs::IpvsMessage;
use std::collections::BTreeSet;

const GENL_ID_CTRL: u16 = 0x10;

/// A captured frame: sent by user space (a request) or by the kernel.
struct Frame {
    request: bool,
    bytes: Vec<u8>,
}

fn load(name: &str) -> Vec<Frame> {
    let path = format!("{}/tests/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|line| {
            let (way, hex) = line.split_once(' ').expect("\"u|k HEX\"");
            assert!(way == "u" || way == "k", "{path}: {line}");
            assert!(hex.len() % 2 == 0, "{path}: odd hex");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            Frame {
                request: way == "u",
                bytes,
            }
        })
        .collect()
}

/// The netlink messages of one frame (a dump reply carries several).
fn messages(frame: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < frame.len() {
        let len = u32::from_ne_bytes(frame[off..off + 4].try_into().unwrap()) as usize;
        assert!(
            len >= 16 && off + len <= frame.len(),
            "bad length {len} at {off}"
        );
        out.push(&frame[off..off + len]);
        off += (len + 3) & !3;
    }
    out
}

fn stats_modelled(s: &[StatsAttr]) -> bool {
    s.iter().all(|a| matches!(a, StatsAttr::Counter(..)))
}

/// Every attribute, nested ones too, is a modelled variant.
fn all_modelled(m: &IpvsMessage) -> bool {
    m.nlas.iter().all(|a| match a {
        IpvsAttr::Service(v) => v.iter().all(|a| match a {
            SvcAttr::Stats(s) | SvcAttr::Stats64(s) => stats_modelled(s),
            SvcAttr::Other(_) => false,
            _ => true,
        }),
        IpvsAttr::Dest(v) => v.iter().all(|a| match a {
            DestAttr::Stats(s) | DestAttr::Stats64(s) => stats_modelled(s),
            DestAttr::Other(_) => false,
            _ => true,
        }),
        IpvsAttr::Daemon(v) => v.iter().all(|a| !matches!(a, DaemonAttr::Other(_))),
        IpvsAttr::Other(_) => false,
        _ => true,
    })
}

#[derive(Default)]
struct Seen {
    requests: BTreeSet<u8>,
    replies: BTreeSet<u8>,
    errors: BTreeSet<i32>,
    ipvs: usize,
}

/// Decodes and re-encodes every message of a capture; returns what it saw.
fn roundtrip(name: &str) -> Seen {
    let mut seen = Seen::default();
    let frames = load(name);
    assert!(!frames.is_empty(), "{name}: empty capture");
    for (i, frame) in frames.iter().enumerate() {
        for raw in messages(&frame.bytes) {
            let mtype = u16::from_ne_bytes([raw[4], raw[5]]);
            if mtype == GENL_ID_CTRL {
                continue; // family resolution: the controller's business
            }
            let mut msg = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(raw)
                .unwrap_or_else(|e| panic!("{name} frame {i}: {e:?}"));
            // Recompute what an encoder computes: lengths, type, cmd, version.
            msg.header.length = 0;
            if let NetlinkPayload::InnerMessage(genl) = &mut msg.payload {
                genl.finalize();
            }
            if mtype != NLMSG_ERROR && mtype != NLMSG_DONE {
                msg.finalize();
            } else {
                msg.header.length = msg.buffer_len() as u32;
            }
            let mut again = vec![0u8; msg.buffer_len()];
            msg.serialize(&mut again);
            assert_eq!(
                again, raw,
                "{name} frame {i}: re-encoded bytes differ\n{msg:?}"
            );
            match &msg.payload {
                NetlinkPayload::InnerMessage(genl) => {
                    let m = &genl.payload;
                    assert!(
                        all_modelled(m),
                        "{name} frame {i}: unmodelled attribute {m:?}"
                    );
                    seen.ipvs += 1;
                    if frame.request {
                        seen.requests.insert(m.cmd);
                    } else {
                        seen.replies.insert(m.cmd);
                    }
                }
                NetlinkPayload::Error(e) => {
                    seen.errors.insert(e.raw_code());
                }
                NetlinkPayload::Done(_) => {}
                other => panic!("{name} frame {i}: unexpected {other:?}"),
            }
        }
    }
    seen
}

fn set(v: &[u8]) -> BTreeSet<u8> {
    v.iter().copied().collect()
}

/// The table-changing and listing commands of the script, sent by the tool.
const SCRIPT_REQUESTS: &[u8] = &[
    IPVS_CMD_NEW_SERVICE,
    IPVS_CMD_SET_SERVICE,
    IPVS_CMD_DEL_SERVICE,
    IPVS_CMD_GET_SERVICE,
    IPVS_CMD_NEW_DEST,
    IPVS_CMD_SET_DEST,
    IPVS_CMD_DEL_DEST,
    IPVS_CMD_GET_DEST,
    IPVS_CMD_SET_CONFIG,
    IPVS_CMD_GET_CONFIG,
    IPVS_CMD_GET_INFO,
    IPVS_CMD_ZERO,
    IPVS_CMD_FLUSH,
];

/// What the kernel answers with data (the rest is acknowledged).
const SCRIPT_REPLIES: &[u8] = &[
    IPVS_CMD_NEW_SERVICE, // GET_SERVICE replies carry NEW_SERVICE
    IPVS_CMD_NEW_DEST,
    IPVS_CMD_SET_CONFIG, // GET_CONFIG replies carry SET_CONFIG
    IPVS_CMD_SET_INFO,   // GET_INFO replies carry SET_INFO
];

#[test]
fn ipvsadm_against_ip_vs() {
    let s = roundtrip("ipvsadm-ip_vs.txt");
    assert!(s.ipvs >= 100, "only {} IPVS messages", s.ipvs);
    assert_eq!(s.requests, set(SCRIPT_REQUESTS));
    assert_eq!(s.replies, set(SCRIPT_REPLIES));
    // Acks and the script's refusals: exists, no such entry, bad argument,
    // no such process (service), out of range.
    for e in [0, -17, -2, -22, -3, -34] {
        assert!(s.errors.contains(&e), "no error {e} in {:?}", s.errors);
    }
}

#[test]
fn ipvsadm_against_rvs() {
    let s = roundtrip("ipvsadm-rvs.txt");
    assert_eq!(s.requests, set(SCRIPT_REQUESTS));
    assert_eq!(s.replies, set(SCRIPT_REPLIES));
}

#[test]
fn rvsadm_against_ip_vs() {
    let s = roundtrip("rvsadm-ip_vs.txt");
    assert_eq!(s.requests, set(SCRIPT_REQUESTS));
    assert_eq!(s.replies, set(SCRIPT_REPLIES));
}

#[test]
fn daemons_against_ip_vs() {
    let s = roundtrip("daemon-ip_vs.txt");
    let want = [
        IPVS_CMD_NEW_DAEMON,
        IPVS_CMD_DEL_DAEMON,
        IPVS_CMD_GET_DAEMON,
    ];
    assert!(s.requests.is_superset(&set(&want)), "{:?}", s.requests);
    assert!(s.replies.contains(&IPVS_CMD_NEW_DAEMON), "{:?}", s.replies);
}

/// Decoding reads the values, not just the bytes: the first service added
/// by the script is TCP 203.0.113.10:80 with rr.
#[test]
fn decodes_values() {
    let frames = load("ipvsadm-ip_vs.txt");
    let first_new = frames
        .iter()
        .filter(|f| f.request)
        .flat_map(|f| messages(&f.bytes))
        .filter_map(|raw| NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(raw).ok())
        .find_map(|m| match m.payload {
            NetlinkPayload::InnerMessage(g) if g.payload.cmd == IPVS_CMD_NEW_SERVICE => {
                Some(g.payload)
            }
            _ => None,
        })
        .expect("a NEW_SERVICE request");
    let IpvsAttr::Service(svc) = &first_new.nlas[0] else {
        panic!("{first_new:?}")
    };
    assert!(svc.contains(&SvcAttr::Af(2)));
    assert!(svc.contains(&SvcAttr::Protocol(6)));
    assert!(svc.contains(&SvcAttr::Port(80)));
    assert!(svc.contains(&SvcAttr::SchedName("rr".into())));
    let addr = svc
        .iter()
        .find_map(|a| match a {
            SvcAttr::Addr(a) => Some(a.clone()),
            _ => None,
        })
        .expect("an address");
    assert_eq!(&addr[..4], &[203, 0, 113, 10]);
}
