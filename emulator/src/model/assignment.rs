//! Consumer-group shard assignment, as a pure state machine (CONSUMERS-AND-PRODUCERS.md §1).
//!
//! The server side of the heartbeat contract: a consumer reports the shards it still holds
//! (`claims`), the answer is the set it may consume. A shard moves between live consumers only
//! through a *transfer*: the old owner stops getting it in its answer, keeps holding it (and may
//! still checkpoint it) until its own heartbeat stops listing it, and only then does the next
//! owner get it. A shard is never handed to a consumer while another live consumer still claims
//! it. Consumers silent for longer than the group timeout are removed and their shards freed.
//! Balance: live consumers' shard counts converge to within one of each other.
//!
//! Which shards are assignable at all (readonly shards that are finished, and children waiting
//! for their ancestors in ordered groups, are not) is [`assignable_shards`]. Nothing here does
//! IO or reads a clock: callers pass `now`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sls_protocol::types::{ShardId, UnixNanos};

/// A shard as the assignment rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardNode {
    /// Shard id.
    pub id: ShardId,
    /// Parents (the shard it was split from, or the two it was merged from).
    pub parents: Vec<ShardId>,
    /// Readonly and its checkpoint reached its end (or it was deleted): nothing left to consume.
    pub finished: bool,
    /// The group has started on it (an owner or a checkpoint), so it never goes back to waiting.
    pub started: bool,
}

/// The shards a group may assign: not finished, and, when `ordered`, not waiting for an
/// unfinished ancestor (transitively; ancestors that are not known any more count as finished).
pub fn assignable_shards(shards: &[ShardNode], ordered: bool) -> BTreeSet<ShardId> {
    let by_id: BTreeMap<ShardId, &ShardNode> = shards.iter().map(|s| (s.id, s)).collect();
    let waits = |s: &ShardNode| -> bool {
        if !ordered || s.started {
            return false;
        }
        let mut stack: Vec<ShardId> = s.parents.clone();
        let mut seen = BTreeSet::new();
        while let Some(p) = stack.pop() {
            if !seen.insert(p) {
                continue;
            }
            if let Some(node) = by_id.get(&p) {
                if !node.finished {
                    return true;
                }
                stack.extend(node.parents.iter().copied());
            }
        }
        false
    };
    shards
        .iter()
        .filter(|s| !s.finished && !waits(s))
        .map(|s| s.id)
        .collect()
}

/// Why a heartbeat is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    /// An unknown (never seen, or expired) consumer claimed shards; it must rejoin with `[]`.
    #[error("consumer {0} does not exist and its heartbeat claims shards; send an empty heartbeat to join")]
    UnknownConsumerWithClaims(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Consumer {
    last_seen: UnixNanos,
    claims: BTreeSet<ShardId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Ownership {
    owner: String,
    /// Set while the shard is in transfer to this consumer.
    next: Option<String>,
    /// The owner's answer has listed the shard at least once. Until then, its absence from the
    /// owner's claims is not a release (the owner cannot know it yet).
    told: bool,
}

/// Live consumers and shard ownership of one consumer group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    consumers: BTreeMap<String, Consumer>,
    owners: BTreeMap<ShardId, Ownership>,
}

impl GroupState {
    /// Removes consumers not seen for more than `timeout`; their shards become free, and
    /// transfers to them are cancelled.
    pub fn expire(&mut self, now: UnixNanos, timeout: Duration) {
        let dead: BTreeSet<String> = self
            .consumers
            .iter()
            .filter(|(_, c)| now > c.last_seen.saturating_add(timeout))
            .map(|(n, _)| n.clone())
            .collect();
        for name in &dead {
            self.consumers.remove(name);
        }
        self.owners.retain(|_, o| !dead.contains(&o.owner));
        for o in self.owners.values_mut() {
            if o.next.as_ref().is_some_and(|n| dead.contains(n)) {
                o.next = None;
            }
        }
    }

    /// Whether `consumer` is alive.
    pub fn is_alive(&self, consumer: &str) -> bool {
        self.consumers.contains_key(consumer)
    }

    /// Whether `consumer` holds `shard` (owns it, in transfer included): it may checkpoint it.
    pub fn holds(&self, consumer: &str, shard: ShardId) -> bool {
        self.owners.get(&shard).is_some_and(|o| o.owner == consumer)
    }

    /// The current owner of a shard.
    pub fn owner(&self, shard: ShardId) -> Option<&str> {
        self.owners.get(&shard).map(|o| o.owner.as_str())
    }

    /// Shards each live consumer will own once transfers complete.
    pub fn loads(&self) -> BTreeMap<String, usize> {
        let mut loads: BTreeMap<String, usize> =
            self.consumers.keys().map(|c| (c.clone(), 0)).collect();
        for o in self.owners.values() {
            let eventual = o.next.as_ref().unwrap_or(&o.owner);
            if let Some(n) = loads.get_mut(eventual) {
                *n += 1;
            }
        }
        loads
    }

    /// Live consumer names.
    pub fn consumers(&self) -> Vec<String> {
        self.consumers.keys().cloned().collect()
    }

    /// One heartbeat of `consumer` claiming `claims`, with `assignable` the shards the group may
    /// assign now. Returns the shards it may consume, ascending.
    ///
    /// `rejoin_with_claims` lets an unknown consumer that claims shards join anyway (used for a
    /// grace period after an emulator restart, when consumer state was lost).
    pub fn heartbeat(
        &mut self,
        consumer: &str,
        claims: BTreeSet<ShardId>,
        assignable: &BTreeSet<ShardId>,
        now: UnixNanos,
        timeout: Duration,
        rejoin_with_claims: bool,
    ) -> Result<Vec<ShardId>, HeartbeatError> {
        self.expire(now, timeout);
        if !self.consumers.contains_key(consumer) && !claims.is_empty() && !rejoin_with_claims {
            return Err(HeartbeatError::UnknownConsumerWithClaims(
                consumer.to_string(),
            ));
        }
        self.consumers.insert(
            consumer.to_string(),
            Consumer {
                last_seen: now,
                claims: claims.clone(),
            },
        );
        // Finished, waiting or removed shards have no owner.
        self.owners.retain(|s, _| assignable.contains(s));
        self.apply_releases(consumer, &claims);
        self.adopt_claims(consumer, &claims, assignable);
        self.rebalance(assignable);
        let mut answer = Vec::new();
        for (shard, o) in self.owners.iter_mut() {
            if o.owner == consumer && o.next.is_none() {
                o.told = true;
                answer.push(*shard);
            }
        }
        Ok(answer)
    }

    /// Shards the consumer was told about and no longer claims: a finished transfer moves to the
    /// next owner, anything else becomes free.
    fn apply_releases(&mut self, consumer: &str, claims: &BTreeSet<ShardId>) {
        let released: Vec<ShardId> = self
            .owners
            .iter()
            .filter(|(s, o)| o.owner == consumer && o.told && !claims.contains(s))
            .map(|(s, _)| *s)
            .collect();
        for shard in released {
            let next = self.owners.get(&shard).and_then(|o| o.next.clone());
            match next {
                Some(n) if self.consumers.contains_key(&n) => {
                    self.owners.insert(
                        shard,
                        Ownership {
                            owner: n,
                            next: None,
                            told: false,
                        },
                    );
                }
                _ => {
                    self.owners.remove(&shard);
                }
            }
        }
    }

    /// A claimed, free shard that nobody else claims is the consumer's again (it is evidently
    /// consuming it, e.g. after a lost answer or an emulator restart).
    fn adopt_claims(
        &mut self,
        consumer: &str,
        claims: &BTreeSet<ShardId>,
        assignable: &BTreeSet<ShardId>,
    ) {
        for &shard in claims {
            if assignable.contains(&shard)
                && !self.owners.contains_key(&shard)
                && !self.claimed_by_other(shard, consumer)
            {
                // Told: it is consuming the shard already, so it must let go before a move.
                self.owners.insert(
                    shard,
                    Ownership {
                        owner: consumer.to_string(),
                        next: None,
                        told: true,
                    },
                );
            }
        }
    }

    fn claimed_by_other(&self, shard: ShardId, consumer: &str) -> bool {
        self.consumers
            .iter()
            .any(|(n, c)| n != consumer && c.claims.contains(&shard))
    }

    /// Gives free shards to the least loaded consumers, then moves shards (by transfer) from
    /// consumers above their share to those below, until counts differ by at most one.
    fn rebalance(&mut self, assignable: &BTreeSet<ShardId>) {
        if self.consumers.is_empty() {
            return;
        }
        let targets = self.targets(assignable.len());
        let free: Vec<ShardId> = assignable
            .iter()
            .copied()
            .filter(|s| !self.owners.contains_key(s))
            .collect();
        for shard in free {
            // Someone is still letting go of it: wait for that before handing it out.
            if self.consumers.values().any(|c| c.claims.contains(&shard)) {
                continue;
            }
            let Some(to) = self.neediest(&targets, true) else {
                break;
            };
            self.owners.insert(
                shard,
                Ownership {
                    owner: to,
                    next: None,
                    told: false,
                },
            );
        }
        loop {
            let loads = self.loads();
            let over = loads
                .iter()
                .filter(|(c, n)| **n > targets.get(*c).copied().unwrap_or(0))
                .max_by_key(|(c, n)| (**n, std::cmp::Reverse((*c).clone())))
                .map(|(c, _)| c.clone());
            let (Some(from), Some(to)) = (over, self.neediest(&targets, false)) else {
                break;
            };
            // Prefer a shard the owner was never told about (it can move at once), then the
            // highest id; only shards not already in transfer.
            let candidate = self
                .owners
                .iter()
                .filter(|(_, o)| o.owner == from && o.next.is_none())
                .max_by_key(|(s, o)| (!o.told, **s))
                .map(|(s, o)| (*s, o.told));
            let Some((shard, told)) = candidate else {
                break;
            };
            let o = if told {
                // The owner knows it has the shard: it keeps it until it lets go (transfer).
                Ownership {
                    owner: from,
                    next: Some(to),
                    told: true,
                }
            } else {
                Ownership {
                    owner: to,
                    next: None,
                    told: false,
                }
            };
            self.owners.insert(shard, o);
        }
    }

    /// Each live consumer's share of `n` shards: the `n % m` most loaded get one more.
    fn targets(&self, n: usize) -> BTreeMap<String, usize> {
        let m = self.consumers.len().max(1);
        let (base, extra) = (n / m, n % m);
        let loads = self.loads();
        let mut order: Vec<(&String, &usize)> = loads.iter().collect();
        order.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        order
            .into_iter()
            .enumerate()
            .map(|(i, (c, _))| (c.clone(), base + usize::from(i < extra)))
            .collect()
    }

    /// The consumer furthest below its target (ties: fewest shards, then name). With
    /// `or_least`, the least loaded consumer when everyone has reached their target.
    fn neediest(&self, targets: &BTreeMap<String, usize>, or_least: bool) -> Option<String> {
        let loads = self.loads();
        let below = loads
            .iter()
            .filter(|(c, n)| **n < targets.get(*c).copied().unwrap_or(0))
            .min_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)))
            .map(|(c, _)| c.clone());
        if below.is_some() || !or_least {
            return below;
        }
        loads
            .iter()
            .min_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)))
            .map(|(c, _)| c.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEC: i64 = 1_000_000_000;
    const TIMEOUT_NANOS: i64 = 10 * SEC;
    const TIMEOUT: Duration = Duration::from_secs(10);

    fn set(v: &[u32]) -> BTreeSet<ShardId> {
        v.iter().copied().map(ShardId).collect()
    }

    fn ids(v: &[u32]) -> Vec<ShardId> {
        v.iter().copied().map(ShardId).collect()
    }

    #[test]
    fn three_consumers_on_ten_shards_converge_to_3_3_4() {
        let all: BTreeSet<ShardId> = (0..10).map(ShardId).collect();
        let mut g = GroupState::default();
        let mut held: BTreeMap<&str, BTreeSet<ShardId>> = BTreeMap::new();
        for round in 0..6 {
            for c in ["a", "b", "c"] {
                let claims = held.get(c).cloned().unwrap_or_default();
                let answer = g
                    .heartbeat(c, claims, &all, UnixNanos(round * SEC), TIMEOUT, false)
                    .unwrap();
                held.insert(c, answer.into_iter().collect());
            }
        }
        let mut counts: Vec<usize> = held.values().map(BTreeSet::len).collect();
        counts.sort();
        assert_eq!(counts, vec![3, 3, 4]);
        let union: BTreeSet<ShardId> = held.values().flatten().copied().collect();
        assert_eq!(union, all);
    }

    #[test]
    fn a_shard_moves_only_after_its_holder_lets_go() {
        let all = set(&[0, 1]);
        let mut g = GroupState::default();
        assert_eq!(
            g.heartbeat("a", set(&[]), &all, UnixNanos(0), TIMEOUT, false)
                .unwrap(),
            ids(&[0, 1])
        );
        // b joins: nothing free, shard 1 goes into transfer.
        assert_eq!(
            g.heartbeat("b", set(&[]), &all, UnixNanos(SEC), TIMEOUT, false)
                .unwrap(),
            Vec::<ShardId>::new()
        );
        // a is told to give up shard 1 but still holds it (and may checkpoint it).
        assert_eq!(
            g.heartbeat("a", set(&[0, 1]), &all, UnixNanos(2 * SEC), TIMEOUT, false)
                .unwrap(),
            ids(&[0])
        );
        assert!(g.holds("a", ShardId(1)));
        // While a still lists it, b does not get it.
        assert_eq!(
            g.heartbeat("b", set(&[]), &all, UnixNanos(3 * SEC), TIMEOUT, false)
                .unwrap(),
            Vec::<ShardId>::new()
        );
        assert_eq!(
            g.heartbeat("a", set(&[0, 1]), &all, UnixNanos(4 * SEC), TIMEOUT, false)
                .unwrap(),
            ids(&[0])
        );
        // a lets go; b gets it at its next heartbeat.
        assert_eq!(
            g.heartbeat("a", set(&[0]), &all, UnixNanos(5 * SEC), TIMEOUT, false)
                .unwrap(),
            ids(&[0])
        );
        assert!(g.holds("b", ShardId(1)));
        assert_eq!(
            g.heartbeat("b", set(&[]), &all, UnixNanos(6 * SEC), TIMEOUT, false)
                .unwrap(),
            ids(&[1])
        );
    }

    #[test]
    fn silent_consumers_expire_and_cannot_claim_without_rejoining() {
        let all = set(&[0, 1, 2]);
        let mut g = GroupState::default();
        g.heartbeat("a", set(&[]), &all, UnixNanos(0), TIMEOUT, false)
            .unwrap();
        g.heartbeat("b", set(&[]), &all, UnixNanos(0), TIMEOUT, false)
            .unwrap();
        let a = g
            .heartbeat("a", set(&[0, 1, 2]), &all, UnixNanos(SEC), TIMEOUT, false)
            .unwrap();
        // b goes silent; a keeps beating and gets everything once b's timeout has passed.
        let a = g
            .heartbeat(
                "a",
                a.iter().copied().collect(),
                &all,
                UnixNanos(TIMEOUT_NANOS / 2),
                TIMEOUT,
                false,
            )
            .unwrap();
        let t = TIMEOUT_NANOS + 1;
        let a2 = g
            .heartbeat(
                "a",
                a.iter().copied().collect(),
                &all,
                UnixNanos(t),
                TIMEOUT,
                false,
            )
            .unwrap();
        assert_eq!(a2, ids(&[0, 1, 2]));
        assert!(!g.is_alive("b"));
        assert_eq!(
            g.heartbeat("b", set(&[2]), &all, UnixNanos(t), TIMEOUT, false),
            Err(HeartbeatError::UnknownConsumerWithClaims("b".into()))
        );
        assert!(g
            .heartbeat("b", set(&[]), &all, UnixNanos(t), TIMEOUT, false)
            .is_ok());
    }

    #[test]
    fn ordered_children_wait_for_every_ancestor() {
        // 0 splits into 3 and 4; 4 and 5 merge into 6 (the Java README's example).
        let node = |id, parents: &[u32], finished| ShardNode {
            id: ShardId(id),
            parents: ids(parents),
            finished,
            started: false,
        };
        let shards = vec![
            node(0, &[], false),
            node(3, &[0], false),
            node(4, &[0], false),
            node(5, &[], false),
            node(6, &[4, 5], false),
        ];
        assert_eq!(assignable_shards(&shards, true), set(&[0, 5]));
        assert_eq!(assignable_shards(&shards, false), set(&[0, 3, 4, 5, 6]));
        let mut done = shards.clone();
        done[0].finished = true;
        done[2].finished = true;
        // 6 still waits for 5; 3 is free.
        assert_eq!(assignable_shards(&done, true), set(&[3, 5]));
        done[3].finished = true;
        assert_eq!(assignable_shards(&done, true), set(&[3, 6]));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Join,
        Beat(usize),
        Kill(usize),
        Tick(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => Just(Op::Join),
            8 => (0usize..8).prop_map(Op::Beat),
            1 => (0usize..8).prop_map(Op::Kill),
            2 => (0i64..(2 * TIMEOUT_NANOS)).prop_map(Op::Tick),
        ]
    }

    /// A consumer that follows the protocol: it reports everything it still consumes, and lets
    /// go of a shard only some heartbeats after being told to.
    #[derive(Debug, Default)]
    struct Client {
        alive: bool,
        consuming: BTreeSet<ShardId>,
        releasing: BTreeMap<ShardId, u8>,
    }

    struct Sim {
        g: GroupState,
        clients: Vec<Client>,
        now: i64,
        shards: BTreeSet<ShardId>,
    }

    impl Sim {
        fn name(i: usize) -> String {
            format!("c{i}")
        }

        fn beat(&mut self, i: usize, slow: u8) -> Result<(), TestCaseError> {
            let c = &mut self.clients[i];
            c.releasing.retain(|s, left| {
                if *left == 0 {
                    c.consuming.remove(s);
                    false
                } else {
                    *left -= 1;
                    true
                }
            });
            let claims = c.consuming.clone();
            let answer = match self.g.heartbeat(
                &Self::name(i),
                claims.clone(),
                &self.shards,
                UnixNanos(self.now),
                TIMEOUT,
                false,
            ) {
                Ok(a) => a,
                Err(HeartbeatError::UnknownConsumerWithClaims(_)) => {
                    // Expired: like the Python/Go clients, drop everything and rejoin.
                    c.consuming.clear();
                    c.releasing.clear();
                    return Ok(());
                }
            };
            let answer: BTreeSet<ShardId> = answer.into_iter().collect();
            for s in claims.difference(&answer) {
                c.releasing.entry(*s).or_insert(slow);
            }
            c.consuming.extend(answer.iter().copied());
            // Safety: nobody the server considers alive consumes what this one was given.
            for (j, other) in self.clients.iter().enumerate() {
                if j != i && self.g.is_alive(&Self::name(j)) {
                    let both: Vec<&ShardId> = answer.intersection(&other.consuming).collect();
                    prop_assert!(
                        both.is_empty(),
                        "c{i} given {both:?} still consumed by c{j}"
                    );
                }
            }
            Ok(())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn never_two_consumers_on_one_shard_and_balance_when_quiet(
            n_shards in 1u32..24,
            ops in proptest::collection::vec(op(), 1..120),
            slow in 0u8..3,
        ) {
            let mut sim = Sim { g: GroupState::default(), clients: Vec::new(), now: 0, shards: (0..n_shards).map(ShardId).collect() };
            for op in ops {
                match op {
                    Op::Join if sim.clients.len() < 8 => sim.clients.push(Client { alive: true, ..Default::default() }),
                    Op::Join => {}
                    Op::Beat(i) => {
                        if sim.clients.get(i).is_some_and(|c| c.alive) {
                            sim.beat(i, slow)?;
                        }
                    }
                    Op::Kill(i) => {
                        if let Some(c) = sim.clients.get_mut(i) {
                            c.alive = false;
                        }
                    }
                    Op::Tick(d) => sim.now += d,
                }
            }
            // Quiet period: the living beat every second for longer than the timeout.
            let living: Vec<usize> = (0..sim.clients.len()).filter(|i| sim.clients[*i].alive).collect();
            for _ in 0..(TIMEOUT_NANOS / SEC + 3 * i64::from(n_shards) + 10) {
                sim.now += SEC;
                for &i in &living {
                    sim.beat(i, slow)?;
                }
            }
            if living.is_empty() {
                return Ok(());
            }
            let loads = sim.g.loads();
            prop_assert_eq!(loads.len(), living.len(), "only the living remain: {:?}", loads);
            let (min, max) = (loads.values().min().copied().unwrap_or(0), loads.values().max().copied().unwrap_or(0));
            prop_assert!(max - min <= 1, "unbalanced: {:?}", loads);
            prop_assert_eq!(loads.values().sum::<usize>(), n_shards as usize, "every shard owned");
            for &i in &living {
                let owned: BTreeSet<ShardId> = sim.shards.iter().copied().filter(|s| sim.g.holds(&Sim::name(i), *s)).collect();
                prop_assert_eq!(&sim.clients[i].consuming, &owned);
            }
        }

        #[test]
        fn ordered_groups_never_assign_a_shard_with_an_unfinished_ancestor(
            parents in proptest::collection::vec(proptest::collection::vec(0u32..30, 0..3), 1..30),
            finished in proptest::collection::vec(any::<bool>(), 30),
        ) {
            // Shard i may only have parents with smaller ids (as split/merge create them).
            let shards: Vec<ShardNode> = parents
                .iter()
                .enumerate()
                .map(|(i, ps)| ShardNode {
                    id: ShardId(i as u32),
                    parents: ps.iter().copied().filter(|p| (*p as usize) < i).map(ShardId).collect(),
                    finished: finished[i],
                    started: false,
                })
                .collect();
            let ok = assignable_shards(&shards, true);
            for s in &shards {
                if !ok.contains(&s.id) {
                    continue;
                }
                prop_assert!(!s.finished);
                let mut stack = s.parents.clone();
                while let Some(p) = stack.pop() {
                    let node = &shards[p.get() as usize];
                    prop_assert!(node.finished, "shard {} assignable with unfinished ancestor {}", s.id, p);
                    stack.extend(node.parents.iter().copied());
                }
            }
        }
    }
}
