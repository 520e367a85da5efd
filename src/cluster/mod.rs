//! Scored pairs → clusters, without chaining.
//!
//! Plain connected components let one weak bridge glue two large groups (and,
//! on a million consumers, chain almost everyone into one cluster). Here the
//! components of the auto-merge pairs are rebuilt greedily from their
//! strongest pairs down: two groups join only when the pairs between them
//! say so ([`dense_enough`]): at least `min_density` of those pairs were
//! scored, and the scored ones are on average at least `min_density` likely
//! matches (average linkage). A true duplicate group is nearly a clique
//! (everyone resembles everyone); a chain A–B–C–D is not, so it stops
//! growing where its links thin out. Every scored pair inside a component
//! counts, not only those of the auto-merge band: a review-band pair is
//! likelier a match than not, and a pair scored far below says "two". A
//! pair blocking never found says nothing either way.
//!
//! Clusters are numbered by the smallest record rank they contain, so ids do
//! not depend on thread timing or on the order the edges arrive in.

use crate::matching::model::Model;
use std::collections::HashMap;

/// A scored pair of two records (by rank) with its match weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub a: u32,
    pub b: u32,
    pub weight: f64,
}

/// The default mean match probability of the pairs between two groups for
/// them to join.
pub const MIN_DENSITY: f64 = 0.5;

/// Whether two groups of records are linked densely enough to be one
/// cluster: of the `possible` pairs between them, `scored` were scored,
/// with match probabilities summing to `probability`. At least
/// `min_density` of the pairs must have been scored (a chain's far ends
/// never were), and the scored ones must be on average at least
/// `min_density` likely matches (a pair scored far below says "two
/// customers"). The one rule of the guard: the batch's clustering and the
/// service's merges of a retrained model both ask it.
pub fn dense_enough(probability: f64, scored: usize, possible: usize, min_density: f64) -> bool {
    scored > 0
        && scored as f64 >= min_density * possible as f64
        && probability >= min_density * scored as f64
}

/// Cluster `n` records over their scored pairs `edges`: the pairs at or
/// above `merge_at` (the auto-merge band's weight) link records; every pair
/// inside the components they make counts in the density test. Returns, per
/// record, its cluster's representative: the smallest record number in the
/// cluster (a singleton is its own).
pub fn cluster(n: usize, edges: &[Edge], merge_at: f64, min_density: f64) -> Vec<u32> {
    let mut components = UnionFind::new(n);
    for e in edges.iter().filter(|e| e.weight >= merge_at) {
        components.union(e.a, e.b);
    }
    // The pairs inside each component of more than one record.
    let mut by_component: HashMap<u32, Vec<Edge>> = HashMap::new();
    for e in edges {
        if e.a != e.b {
            let root = components.find(e.a);
            if root == components.find(e.b) {
                by_component.entry(root).or_default().push(*e);
            }
        }
    }
    let mut result: Vec<u32> = (0..n as u32).collect();
    let mut roots: Vec<u32> = by_component.keys().copied().collect();
    roots.sort_unstable();
    for root in roots {
        let mut es = by_component.remove(&root).unwrap_or_default();
        for (record, rep) in split_component(&mut es, merge_at, min_density) {
            result[record as usize] = rep;
        }
    }
    result
}

/// What is known of two records for [`two_sides`]: a steward's word, or
/// the model's match weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Link {
    /// Labelled one customer.
    Same,
    /// Labelled two customers.
    Apart,
    Weight(f64),
}

/// Part the records `0..n` of one entity in two around `a` and `b`, which a
/// steward said are two customers: how to split it. The sides grow one
/// record at a time, each time by the record with the strongest link to a
/// member of a side (a `Same` link is the strongest there is); a record
/// `Apart` from a member of a side joins it only when it is apart from
/// both. Ties go to the lower record and to `a`'s side. Returns, per
/// record, whether it is on `b`'s side. O(n²) calls of `link`.
pub fn two_sides(n: usize, a: usize, b: usize, link: impl Fn(usize, usize) -> Link) -> Vec<bool> {
    assert!(a < n && b < n && a != b, "two records of the {n}");
    let mut side: Vec<Option<bool>> = vec![None; n];
    // Per record and side: the strongest link to a member, and whether it is
    // apart from one.
    let mut best = vec![[f64::NEG_INFINITY; 2]; n];
    let mut apart = vec![[false; 2]; n];
    let mut join = |r: usize, s: bool, side: &mut [Option<bool>]| {
        side[r] = Some(s);
        for u in (0..n).filter(|&u| side[u].is_none()) {
            match link(r, u) {
                Link::Same => best[u][s as usize] = f64::INFINITY,
                Link::Apart => apart[u][s as usize] = true,
                Link::Weight(w) => best[u][s as usize] = best[u][s as usize].max(w),
            }
        }
        // The next record to join and its side.
        let mut next: Option<(f64, usize, bool)> = None;
        for u in (0..n).filter(|&u| side[u].is_none()) {
            let both = apart[u][0] && apart[u][1];
            for s in [false, true] {
                let w = best[u][s as usize];
                if (both || !apart[u][s as usize]) && next.is_none_or(|(top, ..)| w > top) {
                    next = Some((w, u, s));
                }
            }
        }
        next
    };
    join(a, false, &mut side);
    let mut next = join(b, true, &mut side);
    while let Some((_, r, s)) = next {
        next = join(r, s, &mut side);
    }
    side.into_iter().map(|s| s == Some(true)).collect()
}

/// Greedy, density-guarded agglomeration of one connected component: its
/// scored pairs (`edges`), of which those at or above `merge_at` link. Each
/// record of the component comes back with its group's representative (the
/// smallest record number in the group). An engine that finds the
/// components elsewhere calls this per component with every scored pair
/// inside it, as [`cluster`] does.
pub fn split_component(edges: &mut [Edge], merge_at: f64, min_density: f64) -> Vec<(u32, u32)> {
    for e in edges.iter_mut() {
        if e.a > e.b {
            std::mem::swap(&mut e.a, &mut e.b);
        }
    }
    // Strongest first; ties by record numbers, so the order is total.
    edges.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    // Each record's scored neighbours with the pair's match probability.
    let mut adjacency: HashMap<u32, Vec<(u32, f64)>> = HashMap::new();
    for e in edges.iter().filter(|e| e.a != e.b) {
        let p = Model::probability(e.weight);
        adjacency.entry(e.a).or_default().push((e.b, p));
        adjacency.entry(e.b).or_default().push((e.a, p));
    }
    // group id → members; record → group id
    let mut group_of: HashMap<u32, u32> = adjacency.keys().map(|&r| (r, r)).collect();
    let mut members: HashMap<u32, Vec<u32>> = adjacency.keys().map(|&r| (r, vec![r])).collect();
    for e in edges.iter().take_while(|e| e.weight >= merge_at) {
        if e.a == e.b {
            continue;
        }
        let (ga, gb) = (group_of[&e.a], group_of[&e.b]);
        if ga == gb {
            continue;
        }
        let (small, large) = if members[&ga].len() <= members[&gb].len() {
            (ga, gb)
        } else {
            (gb, ga)
        };
        let (mut probability, mut scored) = (0.0, 0);
        for (_, p) in members[&small]
            .iter()
            .flat_map(|r| &adjacency[r])
            .filter(|(o, _)| group_of[o] == large)
        {
            probability += p;
            scored += 1;
        }
        let possible = members[&small].len() * members[&large].len();
        if !dense_enough(probability, scored, possible, min_density) {
            continue;
        }
        let moved = members.remove(&small).unwrap_or_default();
        for r in &moved {
            group_of.insert(*r, large);
        }
        members.get_mut(&large).expect("group exists").extend(moved);
    }
    let mut out = Vec::new();
    for ms in members.values() {
        let rep = *ms.iter().min().expect("groups are never empty");
        out.extend(ms.iter().map(|&r| (r, rep)));
    }
    out
}

struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller root wins, so roots do not depend on edge order.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: u32, b: u32, weight: f64) -> Edge {
        Edge { a, b, weight }
    }

    /// The auto-merge band's weight in these tests (probability 0.9).
    const MERGE: f64 = 3.17;

    #[test]
    fn a_pair_scored_far_below_keeps_a_record_out() {
        // 2 resembles 0 strongly, and its pair with 1 says "two people".
        let edges = [e(0, 1, 10.0), e(0, 2, 9.0), e(1, 2, -20.0)];
        assert_eq!(cluster(3, &edges, MERGE, MIN_DENSITY), vec![0, 0, 2]);
        // Never scored, the pair says nothing: one strong link of two pairs
        // is half of them scored, and enough.
        let edges = [e(0, 1, 10.0), e(0, 2, 9.0)];
        assert_eq!(cluster(3, &edges, MERGE, MIN_DENSITY), vec![0, 0, 0]);
        // Scored in the review band, it keeps the mean above one half.
        let edges = [e(0, 1, 10.0), e(0, 2, 9.0), e(1, 2, -1.0)];
        assert_eq!(cluster(3, &edges, MERGE, MIN_DENSITY), vec![0, 0, 0]);
    }

    #[test]
    fn review_band_pairs_count_towards_the_density() {
        // 3 links to the clique {0, 1, 2} by one auto-merge pair and two
        // review-band pairs (probability 0.8): on average, a match.
        let mut edges = vec![e(0, 1, 10.0), e(1, 2, 10.0), e(0, 2, 10.0), e(0, 3, 9.0)];
        edges.extend([e(1, 3, 2.0), e(2, 3, 2.0)]);
        assert_eq!(cluster(4, &edges, MERGE, MIN_DENSITY), vec![0, 0, 0, 0]);
        // Without them, one pair of three scored is too few.
        edges.truncate(4);
        assert_eq!(cluster(4, &edges, MERGE, MIN_DENSITY), vec![0, 0, 0, 3]);
        // Scored far below, they say "another customer".
        edges.extend([e(1, 3, -8.0), e(2, 3, -8.0)]);
        assert_eq!(cluster(4, &edges, MERGE, MIN_DENSITY), vec![0, 0, 0, 3]);
        // Pairs below the band never link two records by themselves.
        let edges = [e(0, 1, 2.0), e(1, 2, 3.0)];
        assert_eq!(cluster(3, &edges, MERGE, MIN_DENSITY), vec![0, 1, 2]);
    }

    #[test]
    fn cliques_are_clusters() {
        let edges = [e(0, 1, 10.0), e(1, 2, 9.0), e(0, 2, 8.0), e(3, 4, 12.0)];
        assert_eq!(
            cluster(6, &edges, MERGE, MIN_DENSITY),
            vec![0, 0, 0, 3, 3, 5]
        );
    }

    #[test]
    fn a_weak_bridge_does_not_glue_two_groups() {
        // Two triangles joined by one edge between 2 and 3.
        let mut edges = vec![e(0, 1, 10.0), e(1, 2, 10.0), e(0, 2, 10.0)];
        edges.extend([e(3, 4, 10.0), e(4, 5, 10.0), e(3, 5, 10.0)]);
        edges.push(e(2, 3, 5.0));
        let c = cluster(6, &edges, MERGE, MIN_DENSITY);
        assert_eq!(c, vec![0, 0, 0, 3, 3, 3]);
    }

    #[test]
    fn a_chain_stops_growing() {
        let edges: Vec<Edge> = (0..20)
            .map(|i| e(i, i + 1, 10.0 - i as f64 * 0.1))
            .collect();
        let c = cluster(21, &edges, MERGE, MIN_DENSITY);
        let biggest = (0..21u32)
            .map(|r| c.iter().filter(|&&x| x == r).count())
            .max()
            .unwrap();
        assert!(biggest <= 3, "{c:?}");
    }

    #[test]
    fn edge_order_does_not_matter() {
        let edges = vec![
            e(0, 1, 3.0),
            e(2, 1, 3.0),
            e(3, 4, 1.0),
            e(2, 0, 2.0),
            e(4, 2, 3.0),
        ];
        let mut reversed = edges.clone();
        reversed.reverse();
        for x in reversed.iter_mut() {
            std::mem::swap(&mut x.a, &mut x.b);
        }
        assert_eq!(
            cluster(5, &edges, MERGE, MIN_DENSITY),
            cluster(5, &reversed, MERGE, MIN_DENSITY)
        );
    }

    #[test]
    fn two_sides_grow_by_the_strongest_link_and_keep_labels() {
        use super::{two_sides, Link};
        // 0 and 3 are two customers; 1 is close to 0, 2 to 3 and 4 to 2
        // (a chain: 4 resembles 3 only through 2).
        let w = |i: usize, j: usize| {
            let (i, j) = (i.min(j), i.max(j));
            match (i, j) {
                (0, 1) => Link::Weight(20.0),
                (2, 3) => Link::Weight(15.0),
                (2, 4) => Link::Weight(12.0),
                (0, 3) => Link::Apart,
                _ => Link::Weight(-5.0),
            }
        };
        assert_eq!(two_sides(5, 0, 3, w), [false, false, true, true, true]);
        // A steward's word outweighs the model: 4 labelled one customer
        // with 1, and 2 labelled apart from 3.
        let labelled = |i: usize, j: usize| match (i.min(j), i.max(j)) {
            (1, 4) => Link::Same,
            (2, 3) => Link::Apart,
            _ => w(i, j),
        };
        assert_eq!(
            two_sides(5, 0, 3, labelled),
            [false, false, false, true, false]
        );
        // Apart from both sides: it goes by its links (a tie to a's side).
        let lost = |i: usize, j: usize| match (i.min(j), i.max(j)) {
            (0, 2) | (1, 2) => Link::Apart,
            (2, 3) => Link::Apart,
            _ => w(i, j),
        };
        assert_eq!(two_sides(4, 0, 3, lost), [false, false, false, true]);
        // Nothing known: every record with a.
        assert_eq!(
            two_sides(3, 2, 0, |_, _| Link::Weight(f64::NEG_INFINITY)),
            [true, false, false]
        );
    }
}
