// SPDX-License-Identifier: GPL-2.0
//! Host and service names for listings without `-n`, looked up through
//! the C library as ipvsadm does (gethostbyaddr, getservbyport), so
//! /etc/hosts, /etc/services and nsswitch give the same answers.

use rvs_ipvs::consts::*;
use std::ffi::{CStr, CString};
use std::net::IpAddr;

/// The host name of `addr`, or the address itself.
pub fn host(addr: IpAddr) -> String {
    let (bytes, af): (Vec<u8>, i32) = match addr {
        IpAddr::V4(a) => (a.octets().to_vec(), libc::AF_INET),
        IpAddr::V6(a) => (a.octets().to_vec(), libc::AF_INET6),
    };
    // SAFETY: `bytes` is a valid address of the given family and length;
    // the returned entry is read at once, before any other lookup.
    unsafe {
        let he = gethostbyaddr(bytes.as_ptr().cast(), bytes.len() as u32, af);
        if !he.is_null() && !(*he).h_name.is_null() {
            return CStr::from_ptr((*he).h_name).to_string_lossy().into_owned();
        }
    }
    addr.to_string()
}

#[repr(C)]
struct HostEnt {
    h_name: *mut libc::c_char,
    h_aliases: *mut *mut libc::c_char,
    h_addrtype: libc::c_int,
    h_length: libc::c_int,
    h_addr_list: *mut *mut libc::c_char,
}

extern "C" {
    fn gethostbyaddr(addr: *const libc::c_void, len: u32, af: libc::c_int) -> *mut HostEnt;
}

/// The service name of `port` for `proto`, or the number.
pub fn service(port: u16, proto: u16) -> String {
    let pname = match proto {
        IPPROTO_TCP => "tcp",
        IPPROTO_UDP => "udp",
        IPPROTO_SCTP => "sctp",
        _ => return port.to_string(),
    };
    let Ok(p) = CString::new(pname) else {
        return port.to_string();
    };
    // SAFETY: `p` is a valid C string; the entry is read at once.
    unsafe {
        let se = libc::getservbyport(i32::from(port.to_be()), p.as_ptr());
        if !se.is_null() && !(*se).s_name.is_null() {
            return CStr::from_ptr((*se).s_name).to_string_lossy().into_owned();
        }
    }
    port.to_string()
}
