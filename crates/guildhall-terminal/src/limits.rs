//! Connection limits: a global cap and a per-IP cap, taken before the SSH handshake
//! and given back when the connection ends (the [`Permit`] is dropped).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The gateway holds `max_connections` connections.
    Full,
    /// This address holds `max_per_ip` connections.
    TooManyFromAddress,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Full => "full",
            Refusal::TooManyFromAddress => "per_ip",
        }
    }
}

/// Counts connections, in total and per address.
#[derive(Clone, Debug)]
pub struct Limits {
    inner: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_ip: usize,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Permit {
    limits: Limits,
    ip: IpAddr,
}

impl Limits {
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Limits {
            inner: Arc::default(),
            max_total,
            max_per_ip,
        }
    }

    /// Admits a connection from `ip`, or says why not.
    pub fn admit(&self, ip: IpAddr) -> Result<Permit, Refusal> {
        let mut counts = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if counts.total >= self.max_total {
            return Err(Refusal::Full);
        }
        let from_ip = counts.by_ip.entry(ip).or_insert(0);
        if *from_ip >= self.max_per_ip {
            return Err(Refusal::TooManyFromAddress);
        }
        *from_ip += 1;
        counts.total += 1;
        metrics::gauge!("terminal_connections").set(counts.total as f64);
        Ok(Permit {
            limits: self.clone(),
            ip,
        })
    }

    /// Connections held now.
    pub fn current(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.limits.inner.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.by_ip.remove(&self.ip);
            }
        }
        metrics::gauge!("terminal_connections").set(counts.total as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_and_places_come_back() {
        let limits = Limits::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = limits.admit(a).unwrap();
        let _a2 = limits.admit(a).unwrap();
        assert_eq!(limits.admit(a).unwrap_err(), Refusal::TooManyFromAddress);
        let _b1 = limits.admit(b).unwrap();
        assert_eq!(limits.admit(b).unwrap_err(), Refusal::Full);
        drop(a1);
        assert_eq!(limits.current(), 2);
        let _b2 = limits.admit(b).unwrap();
        assert_eq!(limits.admit(b).unwrap_err(), Refusal::Full);
    }
}
