// SPDX-License-Identifier: GPL-2.0
//! rvsload: traffic for the data-plane benchmark (tests/bench-dp.sh), run
//! in the test VM's network namespaces. Each mode prints one number.
//!
//! ```text
//! rvsload udp-sink PORT SECS             count datagrams for SECS s; print the count
//! rvsload udp-flood ADDR PORT SECS LEN   LEN-byte datagrams as fast as they go
//!                                        for SECS s; print the count sent
//! rvsload udp-spray ADDR PORT N SRC...   N datagrams, each from its own source
//!                                        (address, port) over the SRC addresses
//!                                        (raw socket); print N
//! rvsload tcp-serve PORT                 accept connections until killed; each
//!                                        is read to its end, then closed
//! rvsload tcp-conns ADDR PORT SECS       open and close connections for SECS s
//!                                        (one at a time); print connections/s
//! rvsload tcp-bulk ADDR PORT SECS        stream for SECS s; print Mbit/s (bytes
//!                                        the server read: its close is awaited)
//! rvsload sctp-serve PORT                tcp-serve's server for SCTP associations
//! rvsload sctp-conns ADDR PORT SECS      tcp-conns with SCTP associations
//! ```
//!
//! ADDR and SRC are IPv4 or IPv6 addresses; the servers take both.

use std::io::{self, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

fn usage() -> ExitCode {
    eprintln!(
        "usage: rvsload udp-sink PORT SECS | udp-flood ADDR PORT SECS LEN | \
         udp-spray ADDR PORT N SRC... | tcp-serve PORT | tcp-conns ADDR PORT SECS | \
         tcp-bulk ADDR PORT SECS | sctp-serve PORT | sctp-conns ADDR PORT SECS"
    );
    ExitCode::from(2)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> Option<T> {
    args.get(i)?.parse().ok()
}

/// The wildcard address of `a`'s family.
fn any(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

fn udp_sink(port: u16, secs: u64) -> io::Result<u64> {
    // IPv6's wildcard takes IPv4 too (bindv6only is 0).
    let s = UdpSocket::bind(("::", port))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    let end = Instant::now() + Duration::from_secs(secs);
    let mut buf = [0u8; 2048];
    let mut n = 0u64;
    while Instant::now() < end {
        match s.recv(&mut buf) {
            Ok(_) => n += 1,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn udp_flood(addr: IpAddr, port: u16, secs: u64, len: usize) -> io::Result<u64> {
    let s = UdpSocket::bind((any(addr), 0))?;
    s.connect((addr, port))?;
    let buf = vec![0x5au8; len];
    let end = Instant::now() + Duration::from_secs(secs);
    let mut n = 0u64;
    // The clock is read every 64 datagrams.
    while Instant::now() < end {
        for _ in 0..64 {
            match s.send(&buf) {
                Ok(_) => n += 1,
                // A full queue or an ICMP error reported on the socket.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(n)
}

/// A socket of `a`'s family (`ty`, `proto`), owned.
fn socket(a: IpAddr, ty: i32, proto: i32) -> io::Result<OwnedFd> {
    let af = if a.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // SAFETY: plain socket(2) call; the descriptor is owned right away.
    let fd = unsafe { libc::socket(af, ty, proto) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A socket address in the kernel's form, and its length.
fn sockaddr(a: IpAddr, port: u16) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match a {
        IpAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: port.to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(v4).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and
            // suitably aligned for it.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            // SAFETY: all-zero is a valid sockaddr_in6.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = port.to_be();
            sin6.sin6_addr.s6_addr = v6.octets();
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn cvt(r: i32) -> io::Result<i32> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A raw socket for UDP bound to `src` (the kernel writes the IP header;
/// we write the UDP header: IPv4's checksum 0 as it allows, IPv6's
/// computed by the kernel, IPV6_CHECKSUM).
fn raw_udp(src: IpAddr) -> io::Result<OwnedFd> {
    let fd = socket(src, libc::SOCK_RAW, libc::IPPROTO_UDP)?;
    if src.is_ipv6() {
        let off: libc::c_int = 6;
        // SAFETY: a valid int option of the size passed.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_CHECKSUM,
                (&off as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
    }
    let (sa, len) = sockaddr(src, 0);
    // SAFETY: `sa` is a valid socket address of the length passed.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    })?;
    Ok(fd)
}

fn udp_spray(addr: IpAddr, port: u16, n: u64, srcs: &[IpAddr]) -> io::Result<u64> {
    const FIRST: u16 = 1024;
    let per = u64::from(u16::MAX - FIRST) + 1;
    if srcs.is_empty() || n > per * srcs.len() as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not enough source addresses for N (64512 ports each)",
        ));
    }
    let (dst, dlen) = sockaddr(addr, 0);
    let mut sent = 0u64;
    for src in srcs {
        let fd = raw_udp(*src)?;
        let mut sport = FIRST;
        while sent < n {
            let mut pkt = [0u8; 12];
            pkt[0..2].copy_from_slice(&sport.to_be_bytes());
            pkt[2..4].copy_from_slice(&port.to_be_bytes());
            pkt[4..6].copy_from_slice(&12u16.to_be_bytes());
            pkt[8..12].copy_from_slice(b"rvs!");
            // SAFETY: valid buffer and socket address of the sizes passed.
            let r = unsafe {
                libc::sendto(
                    fd.as_raw_fd(),
                    pkt.as_ptr().cast(),
                    pkt.len(),
                    0,
                    (&dst as *const libc::sockaddr_storage).cast(),
                    dlen,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ENOBUFS) {
                    thread::sleep(Duration::from_millis(1));
                    continue;
                }
                return Err(e);
            }
            sent += 1;
            if sport == u16::MAX {
                break;
            }
            sport += 1;
        }
    }
    Ok(sent)
}

/// Reads a connection to its end, then drops (closes) it.
fn drain(mut c: TcpStream) {
    thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
}

fn tcp_serve(port: u16) -> io::Result<u64> {
    let l = TcpListener::bind(("::", port))?;
    for c in l.incoming() {
        let Ok(c) = c else { continue };
        drain(c);
    }
    Ok(0)
}

/// One-to-one SCTP sockets behave as TCP's for what is done here (read,
/// write, shutdown, close): the descriptor is handed to a TcpStream.
fn sctp_serve(port: u16) -> io::Result<u64> {
    let l = socket(
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        libc::SOCK_STREAM,
        libc::IPPROTO_SCTP,
    )?;
    let (sa, len) = sockaddr(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
    // SAFETY: `sa` is a valid socket address of the length passed.
    cvt(unsafe {
        libc::bind(
            l.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    })?;
    // SAFETY: a bound socket.
    cvt(unsafe { libc::listen(l.as_raw_fd(), 128) })?;
    loop {
        // SAFETY: a listening socket; the peer's address is not wanted.
        let fd = unsafe { libc::accept(l.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut()) };
        if fd < 0 {
            continue;
        }
        // SAFETY: a fresh descriptor that nothing else owns.
        drain(unsafe { TcpStream::from_raw_fd(fd) });
    }
}

/// A connected SCTP association to `addr`:`port`, as a TcpStream.
fn sctp_connect(addr: IpAddr, port: u16) -> io::Result<TcpStream> {
    let fd = socket(addr, libc::SOCK_STREAM, libc::IPPROTO_SCTP)?;
    let (sa, len) = sockaddr(addr, port);
    // SAFETY: `sa` is a valid socket address of the length passed.
    cvt(unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    })?;
    Ok(TcpStream::from(fd))
}

fn tcp_conns(addr: IpAddr, port: u16, secs: u64, sctp: bool) -> io::Result<f64> {
    let to = SocketAddr::from((addr, port));
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs);
    let mut n = 0u64;
    let mut buf = [0u8; 16];
    while Instant::now() < end {
        let mut c = if sctp {
            sctp_connect(addr, port)?
        } else {
            TcpStream::connect_timeout(&to, Duration::from_secs(5))?
        };
        c.shutdown(Shutdown::Write)?;
        // The server's close: the whole exchange went both ways. (An SCTP
        // association that ended reads as ENOTCONN.)
        c.set_read_timeout(Some(Duration::from_secs(5)))?;
        loop {
            match c.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if sctp && e.raw_os_error() == Some(libc::ENOTCONN) => break,
                Err(e) => return Err(e),
            }
        }
        n += 1;
    }
    Ok(n as f64 / t0.elapsed().as_secs_f64())
}

fn tcp_bulk(addr: IpAddr, port: u16, secs: u64) -> io::Result<f64> {
    let mut c =
        TcpStream::connect_timeout(&SocketAddr::from((addr, port)), Duration::from_secs(5))?;
    let buf = vec![0xa5u8; 1 << 16];
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs);
    let mut bytes = 0u64;
    while Instant::now() < end {
        c.write_all(&buf)?;
        bytes += buf.len() as u64;
    }
    c.shutdown(Shutdown::Write)?;
    c.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut b = [0u8; 16];
    while c.read(&mut b)? != 0 {}
    Ok(bytes as f64 * 8.0 / 1e6 / t0.elapsed().as_secs_f64())
}

fn run(args: &[String]) -> Option<io::Result<String>> {
    let mode = args.get(1)?.as_str();
    Some(match mode {
        "udp-sink" => udp_sink(arg(args, 2)?, arg(args, 3)?).map(|n| n.to_string()),
        "udp-flood" => udp_flood(arg(args, 2)?, arg(args, 3)?, arg(args, 4)?, arg(args, 5)?)
            .map(|n| n.to_string()),
        "udp-spray" => {
            let srcs: Option<Vec<IpAddr>> = args.get(5..)?.iter().map(|a| a.parse().ok()).collect();
            udp_spray(arg(args, 2)?, arg(args, 3)?, arg(args, 4)?, &srcs?).map(|n| n.to_string())
        }
        "tcp-serve" => tcp_serve(arg(args, 2)?).map(|n| n.to_string()),
        "tcp-conns" => {
            tcp_conns(arg(args, 2)?, arg(args, 3)?, arg(args, 4)?, false).map(|r| format!("{r:.0}"))
        }
        "sctp-serve" => sctp_serve(arg(args, 2)?).map(|n| n.to_string()),
        "sctp-conns" => {
            tcp_conns(arg(args, 2)?, arg(args, 3)?, arg(args, 4)?, true).map(|r| format!("{r:.0}"))
        }
        "tcp-bulk" => {
            tcp_bulk(arg(args, 2)?, arg(args, 3)?, arg(args, 4)?).map(|r| format!("{r:.1}"))
        }
        _ => return None,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        None => usage(),
        Some(Ok(s)) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Some(Err(e)) => {
            eprintln!("rvsload {}: {e}", args.get(1).map_or("", String::as_str));
            ExitCode::FAILURE
        }
    }
}
