//! Asynchronous server policies: who gets in, and whether early data is
//! fresh. The [`Acceptor`](super::Acceptor) runs them at the connection's
//! decision point, each with a deadline, and fails closed.

use std::fmt;
use std::future::{Future, ready};
use std::io;
use std::pin::Pin;

use crate::early_data::StrikeRegister;
use crate::{ClientHello, EarlyDataOffer, Identity, Rejection, Time};

/// A boxed future a policy returns (`'static`, so it may hold clones of
/// the policy's handles, such as a Redis connection).
pub type PolicyFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Decides whether a client gets in, from what its first flight shows: the
/// pattern, the claimed IK device key, the peer address, the early-data
/// offer. Accept with an optional application [`Identity`] (the connection
/// reports it once the client confirms the handshake), or reject with a
/// [`Rejection`] that becomes the client's alert.
///
/// Implemented for every `Fn(ClientHello) -> impl Future<Output =
/// Result<Option<Identity>, Rejection>>`, so an `async` closure works:
///
/// ```
/// # use lwsec::{ClientHello, Identity, Rejection};
/// # use std::{collections::HashMap, sync::Arc};
/// let devices: Arc<HashMap<[u8; 32], String>> = Arc::default(); // a database in real life
/// let authorizer = move |hello: ClientHello| {
///     let devices = devices.clone();
///     async move {
///         let key = hello.claimed_client_key().ok_or(Rejection::NotAuthorized)?;
///         let user = devices.get(key.as_bytes()).ok_or(Rejection::NotAuthorized)?;
///         Ok(Some(Identity::new(user.clone().into_bytes()).map_err(|_| Rejection::NotAuthorized)?))
///     }
/// };
/// # let _ = lwsec::tokio::Acceptor::new(Arc::new(lwsec::ServerConfig::new(
/// #     lwsec::StaticKeyPair::from_private_bytes([1; 32])))).with_authorizer(authorizer);
/// ```
///
/// The call runs concurrently with every other handshake; a slow lookup
/// delays only its own client. A call that misses the acceptor's deadline
/// rejects the client with [`Rejection::PolicyUnavailable`].
pub trait Authorizer: Send + Sync + 'static {
    /// Decides on the client that sent `hello`.
    fn authorize(&self, hello: &ClientHello) -> PolicyFuture<Result<Option<Identity>, Rejection>>;
}

impl<F, Fut> Authorizer for F
where
    F: Fn(ClientHello) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Identity>, Rejection>> + Send + 'static,
{
    fn authorize(&self, hello: &ClientHello) -> PolicyFuture<Result<Option<Identity>, Rejection>> {
        Box::pin(self(hello.clone()))
    }
}

/// Judges whether a first flight's early data is fresh: returns `Ok(true)`
/// and records the flight (and, for IK, the device's timestamp) in one
/// atomic step if it was not seen before, `Ok(false)` for a replay, a
/// flight from before the guard started, or a full guard
/// (`spec/PROTOCOL.md` section 4.9). An error, or missing the acceptor's
/// deadline, rejects the early data; the handshake goes on.
///
/// [`StrikeRegister`] (one process) and
/// [`RedisReplayGuard`](super::RedisReplayGuard) (a fleet, feature `redis`)
/// implement it.
pub trait ReplayGuard: Send + Sync + fmt::Debug + 'static {
    /// Checks and records `offer` at the server's time `now`.
    fn check(&self, offer: &EarlyDataOffer, now: Time) -> PolicyFuture<io::Result<bool>>;
}

impl ReplayGuard for StrikeRegister {
    fn check(&self, offer: &EarlyDataOffer, now: Time) -> PolicyFuture<io::Result<bool>> {
        Box::pin(ready(Ok(StrikeRegister::check(self, offer, now))))
    }
}
