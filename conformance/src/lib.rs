//! `sls-conformance`: checks whether an endpoint behaves like SLS.
//!
//! Not built yet: tracked by issue #7. It deliberately exports nothing.
