// SPDX-License-Identifier: GPL-2.0

//! Direct routing: the packet goes unchanged (VIP still its destination)
//! to the real server's MAC address on the director's segment: the route
//! is to the real server's address as the next hop (FLOWI_FLAG_KNOWN_NH),
//! the neighbour layer resolves it.

use super::{route_onward, Via};
use crate::conn::Conn;
use crate::proto::Ip;
use crate::sys::netns::Net;
use crate::sys::skb::Owned;
use crate::sys::skb::Verdict;

pub(crate) fn xmit(net: &Net, mut skb: Owned<'_>, c: &Conn, ip: &Ip, via: Via<'_>) -> Verdict {
    let rt = match route_onward(net, &mut skb, ip, (via, ip.af, &c.daddr), true, 0) {
        Ok(rt) => rt,
        Err(v) => return v,
    };
    skb.send(net, rt)
}
