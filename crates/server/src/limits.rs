//! Limits of the HTTP front that keep a flood of requests or connections from starving the
//! probes: connection caps and timeouts (used by [`crate::listener`]), token buckets for failed
//! authentication per client address and for writes per token, and caps on open event streams.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Limits of the HTTP front; `vedette serve` flags set them.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpLimits {
    /// Most HTTP connections open at once; `None` derives it from the open-file limit
    /// ([`default_max_connections`]), leaving the rest to probes, the store and webhooks.
    pub max_connections: Option<usize>,
    /// A connection whose request head has not fully arrived this long after it opened (or
    /// after the previous response) is closed.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight and no bytes read or written for this long is
    /// closed.
    pub idle_timeout: Duration,
    /// Most event streams open at once (also held to half the connection cap).
    pub max_streams: usize,
    /// Most event streams open at once with one token.
    pub max_streams_per_token: usize,
    /// Failed authentications a client address may make per minute (and in a burst) before
    /// its token-bearing requests get 429; 0 turns the limit off.
    pub auth_failures_per_minute: u32,
    /// Writes (`POST`, `PUT`, `PATCH`, `DELETE`) one token may make per second (the burst is
    /// twice that) before it gets 429; 0 turns the limit off.
    pub writes_per_second: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: None,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_streams: 256,
            max_streams_per_token: 16,
            auth_failures_per_minute: 100,
            writes_per_second: 200,
        }
    }
}

impl HttpLimits {
    /// Why these limits are unusable, naming the flag, if they are.
    pub fn check(&self) -> Result<(), String> {
        if self.max_connections == Some(0) {
            return Err("--max-connections must be at least 1".to_owned());
        }
        if self.header_read_timeout.is_zero() {
            return Err("--header-read-timeout must be longer than 0 s".to_owned());
        }
        if self.idle_timeout.is_zero() {
            return Err("--idle-timeout must be longer than 0 s".to_owned());
        }
        if self.max_streams == 0 || self.max_streams_per_token == 0 {
            return Err("--max-streams and --max-streams-per-token must be at least 1".to_owned());
        }
        Ok(())
    }

    /// The connection cap in force: the configured one, else derived from the open-file limit.
    pub fn connection_cap(&self) -> usize {
        self.max_connections
            .unwrap_or_else(|| default_max_connections(open_file_limit()))
    }
}

/// The soft limit on open files of this process (`RLIMIT_NOFILE`); 1024 when unknown.
pub fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct passed to it.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } == 0;
    if ok && limit.rlim_cur != libc::RLIM_INFINITY {
        limit.rlim_cur
    } else {
        1024
    }
}

/// Half the open-file limit, between 8 and 16,384: the other half stays for probes (a socket
/// or two per running check), the database, webhook deliveries and log files.
pub fn default_max_connections(open_files: u64) -> usize {
    usize::try_from(open_files / 2).map_or(16_384, |n| n.clamp(8, 16_384))
}

/// A token bucket: holds up to `burst` tokens and gains `per_second` each second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets by key, with at most `max_keys` keys: when full, full buckets (which carry no
/// information) are dropped first, then the least recently used.
#[derive(Debug)]
pub struct RateTable<K> {
    buckets: Mutex<HashMap<K, Bucket>>,
    per_second: f64,
    burst: f64,
    max_keys: usize,
}

/// Why a request was refused: how long until the bucket holds a token again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for a `Retry-After` header (at least 1).
    pub fn seconds(self) -> u64 {
        let whole = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        whole.max(1)
    }
}

impl<K: Eq + Hash + Clone> RateTable<K> {
    /// A table of buckets holding `burst` tokens and refilling `per_second`.
    pub fn new(per_second: f64, burst: f64, max_keys: usize) -> Self {
        Self {
            buckets: Mutex::new(HashMap::new()),
            per_second,
            burst,
            max_keys: max_keys.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let gained = now.duration_since(bucket.updated).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + gained).min(self.burst);
        bucket.updated = now;
    }

    fn wait_for_one(&self, bucket: &Bucket) -> RetryAfter {
        RetryAfter(Duration::from_secs_f64(
            (1.0 - bucket.tokens).max(0.0) / self.per_second,
        ))
    }

    /// Whether `key` has a token left, without taking it.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), RetryAfter> {
        let mut buckets = self.lock();
        let Some(bucket) = buckets.get_mut(key) else {
            return Ok(());
        };
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            Ok(())
        } else {
            Err(self.wait_for_one(bucket))
        }
    }

    /// Takes a token from `key`'s bucket, or says how long until one is there.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), RetryAfter> {
        let mut buckets = self.lock();
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            self.evict(&mut buckets, now);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(self.wait_for_one(bucket))
        }
    }

    /// Keys with a bucket.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key has a bucket.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Frees at least a tenth of the table: refilled buckets first, then the oldest.
    fn evict(&self, buckets: &mut HashMap<K, Bucket>, now: Instant) {
        let full_after = Duration::from_secs_f64(self.burst / self.per_second);
        buckets.retain(|_, b| now.duration_since(b.updated) < full_after);
        let target = self.max_keys - self.max_keys.div_ceil(10);
        if buckets.len() > target {
            let mut ages: Vec<(Instant, K)> = buckets
                .iter()
                .map(|(k, b)| (b.updated, k.clone()))
                .collect();
            ages.sort_by_key(|(updated, _)| *updated);
            for (_, key) in ages.into_iter().take(buckets.len() - target) {
                buckets.remove(&key);
            }
        }
    }
}

/// The key of a client address for the failed-authentication limit: IPv4 addresses as they
/// are, IPv6 addresses by their /64 (one host usually holds a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Most client addresses (or tokens) whose buckets are remembered.
pub const MAX_TRACKED_KEYS: usize = 10_000;

/// Why an event stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefused {
    /// The token holds its share of streams.
    PerToken(usize),
    /// The server holds as many streams as it allows.
    Total(usize),
}

#[derive(Debug, Default)]
struct StreamCounts {
    total: usize,
    by_token: HashMap<String, (usize, CancellationToken)>,
}

/// Open event streams, by token: enforces the caps and ends a token's streams when it is
/// revoked.
#[derive(Debug)]
pub struct Streams {
    counts: Mutex<StreamCounts>,
    max_total: usize,
    max_per_token: usize,
}

/// An open event stream; dropping it releases its place. `revoked` is cancelled when its token
/// is revoked through this server.
#[derive(Debug)]
pub struct StreamPermit {
    streams: Arc<Streams>,
    token_id: String,
    /// Cancelled when the token is revoked.
    pub revoked: CancellationToken,
}

impl Streams {
    /// A registry allowing `max_total` streams, `max_per_token` of them per token.
    pub fn new(max_total: usize, max_per_token: usize) -> Self {
        Self {
            counts: Mutex::new(StreamCounts::default()),
            max_total,
            max_per_token,
        }
    }

    fn lock(&self) -> MutexGuard<'_, StreamCounts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place for a stream of `token_id`, or says which cap is reached.
    pub fn open(self: &Arc<Self>, token_id: &str) -> Result<StreamPermit, StreamRefused> {
        let mut counts = self.lock();
        if counts.total >= self.max_total {
            return Err(StreamRefused::Total(self.max_total));
        }
        let entry = counts
            .by_token
            .entry(token_id.to_owned())
            .or_insert_with(|| (0, CancellationToken::new()));
        if entry.0 >= self.max_per_token {
            return Err(StreamRefused::PerToken(self.max_per_token));
        }
        entry.0 += 1;
        let revoked = entry.1.clone();
        counts.total += 1;
        Ok(StreamPermit {
            streams: Arc::clone(self),
            token_id: token_id.to_owned(),
            revoked,
        })
    }

    /// Ends every open stream of `token_id`.
    pub fn revoke(&self, token_id: &str) {
        if let Some((_, revoked)) = self.lock().by_token.get(token_id) {
            revoked.cancel();
        }
    }

    /// Streams open now.
    pub fn open_count(&self) -> usize {
        self.lock().total
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut counts = self.streams.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(entry) = counts.by_token.get_mut(&self.token_id) {
            entry.0 = entry.0.saturating_sub(1);
            if entry.0 == 0 {
                counts.by_token.remove(&self.token_id);
            }
        }
    }
}

/// The limiters the API shares: failed authentication per client, writes per token and event
/// streams.
#[derive(Debug)]
pub struct Guards {
    /// Failed authentications by client address ([`client_key`]); `None` when off.
    pub auth_failures: Option<RateTable<IpAddr>>,
    /// Writes by token id; `None` when off.
    pub writes: Option<RateTable<String>>,
    /// Open event streams.
    pub streams: Arc<Streams>,
}

impl Guards {
    /// The limiters of `limits`; `connection_cap` bounds the streams to half the connections,
    /// so streams alone cannot take every connection.
    pub fn new(limits: &HttpLimits, connection_cap: usize) -> Self {
        let failures = f64::from(limits.auth_failures_per_minute);
        let writes = f64::from(limits.writes_per_second);
        Self {
            auth_failures: (limits.auth_failures_per_minute > 0)
                .then(|| RateTable::new(failures / 60.0, failures, MAX_TRACKED_KEYS)),
            writes: (limits.writes_per_second > 0)
                .then(|| RateTable::new(writes, writes * 2.0, MAX_TRACKED_KEYS)),
            streams: Arc::new(Streams::new(
                limits.max_streams.min((connection_cap / 2).max(1)),
                limits.max_streams_per_token,
            )),
        }
    }
}

impl Default for Guards {
    fn default() -> Self {
        Self::new(&HttpLimits::default(), 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_when_empty_and_refill() {
        let table = RateTable::new(1.0, 3.0, 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(table.take(&"a", t0), Ok(()));
        }
        let refused = table.take(&"a", t0).expect_err("empty");
        assert_eq!(refused.seconds(), 1);
        assert!(table.check(&"a", t0).is_err());
        assert_eq!(table.check(&"b", t0), Ok(()));
        assert_eq!(table.take(&"a", t0 + Duration::from_millis(1_100)), Ok(()));
    }

    #[test]
    fn tables_stay_bounded() {
        let table = RateTable::new(1.0, 5.0, 100);
        let t0 = Instant::now();
        for n in 0..1_000u32 {
            let _ = table.take(&n, t0 + Duration::from_millis(u64::from(n)));
        }
        assert!(table.len() <= 100, "{}", table.len());
        // The newest key is remembered.
        assert!(table.take(&999, t0 + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn stream_caps_and_revocation() {
        let streams = Arc::new(Streams::new(3, 2));
        let a1 = streams.open("a").unwrap();
        let _a2 = streams.open("a").unwrap();
        assert_eq!(streams.open("a").unwrap_err(), StreamRefused::PerToken(2));
        let b1 = streams.open("b").unwrap();
        assert_eq!(streams.open("c").unwrap_err(), StreamRefused::Total(3));
        drop(b1);
        assert_eq!(streams.open_count(), 2);
        streams.revoke("a");
        assert!(a1.revoked.is_cancelled());
        drop(a1);
        assert!(streams.open("c").is_ok());
    }

    #[test]
    fn unusable_limits_name_their_flag() {
        assert_eq!(HttpLimits::default().check(), Ok(()));
        let zero = |adjust: fn(&mut HttpLimits)| {
            let mut limits = HttpLimits::default();
            adjust(&mut limits);
            limits.check().expect_err("invalid")
        };
        assert!(zero(|l| l.max_connections = Some(0)).contains("--max-connections"));
        assert!(zero(|l| l.idle_timeout = Duration::ZERO).contains("--idle-timeout"));
        assert!(zero(|l| l.header_read_timeout = Duration::ZERO).contains("--header-read-timeout"));
        assert!(zero(|l| l.max_streams_per_token = 0).contains("--max-streams-per-token"));
    }

    #[test]
    fn connection_cap_leaves_half_the_files() {
        assert_eq!(default_max_connections(256), 128);
        assert_eq!(default_max_connections(4), 8);
        assert_eq!(default_max_connections(1 << 20), 16_384);
    }
}
