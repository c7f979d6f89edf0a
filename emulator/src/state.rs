//! Shared state every handler gets: store, clock, config. Cheap to clone.

use std::sync::Arc;

use crate::clock::VirtualClock;
use crate::config::Config;
use crate::faults::Faults;
use crate::storage::Store;

/// Handler state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Time source (movable through the admin API).
    pub clock: Arc<VirtualClock>,
    /// Fault rules, quotas, journal.
    pub faults: Faults,
    /// Configuration.
    pub config: Arc<Config>,
}
