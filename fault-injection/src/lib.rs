//! `sls-fault-injection`: seeded, replayable faults (emulator rules, proxy, process faults).
//!
//! Not built yet: tracked by issue #5. It deliberately exports nothing.
