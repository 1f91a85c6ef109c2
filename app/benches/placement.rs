#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Placement benchmark: 10 000 VMs of mixed Table 2 templates onto 1 000 hosts of
//! mixed sizes, compared with the lower bounds; then layouts of 100 VMs on 10 hosts,
//! small enough for the exact search. Plain `std::time`, no harness:
//! `cargo bench --bench placement`.
//!
//! Inputs come from a fixed-seed xorshift64* generator written here, so every run
//! places exactly the same data and the figures are comparable between runs.

use app::capacity::{
    lower_bounds, place, place_with, table2_templates, Bytes, CapacityPolicy, HostSpec, MiB,
    Placement, PlacementRequest, VmDemand,
};
use std::time::{Duration, Instant};

/// xorshift64* (Vigna 2014): tiny, fast and good enough to shuffle benchmark inputs.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in 0..n (modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Picks an index with the given weights.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }
}

const HOSTS: usize = 1_000;
const VMS: usize = 10_000;

fn hosts(rng: &mut XorShift) -> Vec<HostSpec> {
    let templates = table2_templates();
    (0..HOSTS)
        .map(|i| {
            let size = rng.weighted(&[30, 35, 25, 10]);
            let gib = [32, 64, 128, 256][size];
            let memory = MiB::from_gib(gib);
            let cpus = [16, 24, 32, 64][size];
            // Storage grows with the host: 16–48 GiB of pool per GiB of memory
            // (the paper's 32 GB server with ~1 TiB of disks is 32:1).
            let pool = Bytes::from_gib(gib * [16, 24, 32, 48][rng.weighted(&[20, 30, 30, 20])]);
            let hw_virt = rng.below(100) >= 3;
            let mut h = HostSpec::new(format!("host-{i:04}"), memory, cpus, hw_virt, pool);
            h.allow_emulation = !hw_virt && rng.below(3) == 0;
            if rng.below(50) == 0 && h.can_virtualize() {
                let n = 1 + rng.below(4);
                h.existing = (0..n)
                    .map(|j| {
                        let t = &templates[rng.below(templates.len() as u64) as usize];
                        t.demand(format!("old-{i:04}-{j}"))
                    })
                    .collect();
            }
            h
        })
        .collect()
}

fn requests(rng: &mut XorShift) -> Vec<PlacementRequest> {
    let templates = table2_templates();
    // Table 2 order: DNS, Mail, Web, E-Learning, Workflow, File Sharing.
    let weights = [10, 10, 50, 10, 10, 10];
    let mut out: Vec<PlacementRequest> = (0..VMS - 5)
        .map(|i| {
            let t = &templates[rng.weighted(&weights)];
            let vm = t.demand(format!("vm-{i:05}"));
            if rng.below(1000) == 0 {
                PlacementRequest::on(vm, format!("host-{:04}", rng.below(HOSTS as u64)))
            } else {
                PlacementRequest::auto(vm)
            }
        })
        .collect();
    // A few VMs larger than any host, so the unplaced path is exercised.
    out.extend((0..5).map(|i| {
        PlacementRequest::auto(VmDemand::new(
            format!("giant-{i}"),
            MiB::from_gib(512),
            8,
            Bytes::from_gib(200),
            true,
        ))
    }));
    out
}

/// A tighter bound for judging, memory and storage together: for a blend weight λ,
/// each host covers `λ·y_a/Σy_s + (1−λ)·z/Σz_s` of the demand, and any placement of
/// everything needs the largest such covers to add up to 1. Valid for every λ, so the
/// best over a grid of λ is a bound too. Also never below the hosts already in use.
fn memory_storage_bound(hosts: &[HostSpec], reqs: &[PlacementRequest], p: &CapacityPolicy) -> f64 {
    let dm: f64 = reqs.iter().map(|r| r.vm.memory.get() as f64).sum();
    let ds: f64 = reqs
        .iter()
        .map(|r| p.counted_disk(&r.vm).get() as f64)
        .sum();
    let usable: Vec<(f64, f64)> = hosts
        .iter()
        .filter(|h| h.can_virtualize())
        .map(|h| {
            (
                h.available_memory(p).get() as f64,
                h.pool_available.get() as f64,
            )
        })
        .collect();
    let mut best = 0.0f64;
    for step in 0..=100 {
        let l = f64::from(step) / 100.0;
        let mut cover: Vec<f64> = usable
            .iter()
            .map(|(m, s)| l * m / dm.max(1.0) + (1.0 - l) * s / ds.max(1.0))
            .collect();
        cover.sort_by(|a, b| b.total_cmp(a));
        let mut need = 1.0;
        let mut k = 0.0;
        for c in cover {
            if need <= c {
                k += need / c;
                need = 0.0;
                break;
            }
            need -= c;
            k += 1.0;
        }
        if need <= 0.0 {
            best = best.max(k);
        }
    }
    best
}

/// Memory bound that also counts the hosts already in use (existing or pinned VMs):
/// those are used whatever happens, their free memory absorbs part of the demand, and
/// the rest needs the largest other hosts, fractionally.
fn bound_given_used(
    hosts: &[HostSpec],
    reqs: &[PlacementRequest],
    p: &CapacityPolicy,
    forced: &std::collections::BTreeSet<&str>,
) -> f64 {
    let total: u64 = reqs.iter().map(|r| r.vm.memory.get()).sum();
    let is_forced = |h: &HostSpec| !h.existing.is_empty() || forced.contains(h.name.as_str());
    let forced_free: u64 = hosts
        .iter()
        .filter(|h| is_forced(h) && h.can_virtualize())
        .map(|h| {
            let used: u64 = h.existing.iter().map(|v| v.memory.get()).sum();
            h.available_memory(p).get().saturating_sub(used)
        })
        .sum();
    let mut rest = total.saturating_sub(forced_free) as f64;
    let mut caps: Vec<f64> = hosts
        .iter()
        .filter(|h| !is_forced(h) && h.can_virtualize())
        .map(|h| h.available_memory(p).get() as f64)
        .collect();
    caps.sort_by(|a, b| b.total_cmp(a));
    let mut k = hosts.iter().filter(|h| is_forced(h)).count() as f64;
    for c in caps {
        if rest <= 0.0 {
            break;
        }
        k += (rest / c).min(1.0);
        rest -= c;
    }
    k
}

/// 100 VMs of 2 vCPUs and 20 GiB, with memory drawn in 100 MiB steps from `lo..hi`
/// MiB, for 10 paper servers (32 GiB, `y_a` = 30720 MiB). The unit tests build the
/// same layout from the same generator (`capacity::placement::exact`).
fn hundred_on_ten(seed: u64, lo: u64, hi: u64) -> (Vec<HostSpec>, Vec<PlacementRequest>) {
    let mut rng = XorShift(seed);
    let hosts = (0..10)
        .map(|i| {
            HostSpec::new(
                format!("h{i:02}"),
                MiB::from_gib(32),
                16,
                true,
                Bytes::from_tib(2),
            )
        })
        .collect();
    let reqs = (0..100)
        .map(|i| {
            let memory = MiB(lo + rng.below(hi - lo) / 100 * 100);
            let vm = VmDemand::new(format!("vm-{i:03}"), memory, 2, Bytes::from_gib(20), false);
            PlacementRequest::auto(vm)
        })
        .collect();
    (hosts, reqs)
}

fn small_layout(label: &str, seed: u64, lo: u64, hi: u64) {
    let (hosts, reqs) = hundred_on_ten(seed, lo, hi);
    let policy = CapacityPolicy::default();
    let total: u64 = reqs.iter().map(|r| r.vm.memory.get()).sum();
    let base = place_with(&hosts, &reqs, &policy, false);
    let (p, time) = timed(|| place(&hosts, &reqs, &policy));
    let (again, _) = timed(|| place(&hosts, &reqs, &policy));
    println!(
        "100 VMs on 10 hosts, {label} ({total} MiB of {} MiB): {:.2} ms, hosts used {}, \
         unplaced {} (FFD: {} hosts, {} unplaced), lower bound {}, proven optimal {}, \
         winner {:?}, deterministic {}",
        10 * 30720,
        time.as_secs_f64() * 1e3,
        p.hosts_used.len(),
        p.unplaced.len(),
        base.hosts_used.len(),
        base.unplaced.len(),
        p.lower_bound_hosts,
        p.proven_optimal,
        p.strategy,
        p == again
    );
}

fn timed(f: impl FnOnce() -> Placement) -> (Placement, Duration) {
    let start = Instant::now();
    let p = f();
    (p, start.elapsed())
}

fn main() {
    let mut rng = XorShift(0x5EED_57AC_CA4D_0001);
    let hosts = hosts(&mut rng);
    let reqs = requests(&mut rng);
    let policy = CapacityPolicy::default();

    let pre_used = hosts.iter().filter(|h| !h.existing.is_empty()).count();
    let pinned = reqs
        .iter()
        .filter(|r| matches!(r.target, app::capacity::Target::Host(_)))
        .count();
    println!(
        "input: {} VMs ({} pinned) onto {} hosts ({} already holding VMs), thin fill {}",
        reqs.len(),
        pinned,
        hosts.len(),
        pre_used,
        policy.thin_fill_ppm()
    );

    let (base, base_time) = timed(|| place_with(&hosts, &reqs, &policy, false));
    let (p, time) = timed(|| place(&hosts, &reqs, &policy));
    let (again, _) = timed(|| place(&hosts, &reqs, &policy));
    // Bounds over the VMs that were placed: the unplaceable giants would otherwise
    // inflate them past any real packing.
    let placed: Vec<PlacementRequest> = p
        .assignments
        .iter()
        .map(|a| reqs[a.request].clone())
        .collect();
    let (frac, ceil) = lower_bounds(&hosts, &placed, &policy);
    // Hosts used whatever the packing: existing VMs, or a pinned VM that was placed.
    let pinned_to: std::collections::BTreeSet<&str> = p
        .assignments
        .iter()
        .filter(|a| a.fixed)
        .map(|a| a.host.as_str())
        .collect();
    let forced = hosts
        .iter()
        .filter(|h| !h.existing.is_empty() || pinned_to.contains(h.name.as_str()))
        .count();

    println!(
        "baseline FFD:        {:>8.1} ms, hosts used {}, unplaced {}",
        base_time.as_secs_f64() * 1e3,
        base.hosts_used.len(),
        base.unplaced.len()
    );
    println!(
        "place (all+search):  {:>8.1} ms, hosts used {}, unplaced {}, winner {:?}, hosts emptied {}",
        time.as_secs_f64() * 1e3,
        p.hosts_used.len(),
        p.unplaced.len(),
        p.strategy,
        p.hosts_emptied
    );
    println!(
        "lower bounds below are over the {} VMs placed",
        placed.len()
    );
    println!("lower bound (fractional): {frac:.2}");
    println!("lower bound (ceil Σy_s / max y_a): {ceil}");
    println!(
        "lower bound (memory+storage, fractional): {:.2}",
        memory_storage_bound(&hosts, &placed, &policy)
    );
    println!(
        "lower bound (memory, counting the {} hosts in use before auto placement): {:.2}",
        forced,
        bound_given_used(&hosts, &placed, &policy, &pinned_to)
    );
    println!(
        "place's own bound: {} hosts, proven optimal {}",
        p.lower_bound_hosts, p.proven_optimal
    );
    println!("VMs unplaced: {}", p.unplaced.len());
    for u in p.unplaced.iter().take(3) {
        println!("  e.g. {u}");
    }
    println!("deterministic (second run identical): {}", p == again);

    // First fit leaves a VM out; the exact search places all 100 and proves it.
    small_layout("exact fit", 0x5EED_0000_0000_0003, 1000, 5000);
    // Two VMs stay out: the search can neither place them nor show they must stay
    // out within its node budget (its worst case: the whole budget spent).
    small_layout("budget spent", 0x5EED_0000_0000_000B, 1500, 4500);
}
