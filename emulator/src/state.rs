//! Shared state every handler gets: store, clock, config. Cheap to clone.

use std::sync::Arc;

use crate::access::{Access, DEFAULT_ACCOUNT_ID};
use crate::clock::{Clock, VirtualClock};
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
    /// Access keys and their policies.
    pub access: Access,
    /// Configuration.
    pub config: Arc<Config>,
}

impl AppState {
    /// The state for an opened store: fault layer seeded from `config.fault_seed`, the
    /// emulator's clock on top of `clock`, the owner key from the flags as the only key.
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: Config) -> AppState {
        AppState {
            store,
            clock: Arc::new(VirtualClock::new(clock)),
            faults: Faults::new(config.fault_seed),
            access: Access::new(
                &config.access_key_id,
                &config.access_key_secret,
                &config.region,
                DEFAULT_ACCOUNT_ID,
            ),
            config: Arc::new(config),
        }
    }
}
